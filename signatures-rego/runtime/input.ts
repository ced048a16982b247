// The Rego `input` of a Tracee bundle, built straight from a flat-encoded
// record (docs/abi/flat-encoding.md): Tracee's event JSON shape, the same
// value host/events/batch-reader.ts decodeEvent gives, with no JSON text.
//
// Most fields are read from the record. Four live on the host and the record
// only references them: the container (containerRef → the ContainerTable),
// the executable (the process tree), and the names of the matched policies
// (a bitmap). They are asked through OPA custom builtins
// (host/engine/rego-glue.ts INPUT_BUILTINS), so the module stays a standard
// OPA-ABI module that any OPA host can run if it provides them.

import { malloc } from "./mem";
import {
  strV, strAscii, arrNew, arrAppend, arrLen, arrGet, objNew, objInsert, objGet, nullV, boolV,
} from "./value";
import { T_OBJECT, T_STRING, T_ARRAY, numInt, numFloat, numIsI64, intOut } from "./number";
import { jsonParse } from "./json";
import { base64Encode } from "./builtins/encoding";
import { bufNew, bufByte, bufBytes, bufPtr, bufLen } from "./buf";

// Flat encoding v1 context offsets (host/events/layout.ts; test/unit/rego-bundle.test.ts checks them).
export const O_EVENT_ID: usize = 4;
const O_TIMESTAMP: usize = 8;
const O_THREAD_START: usize = 16;
const O_CGROUP: usize = 24;
const O_RETVAL: usize = 32;
const O_POLICIES: usize = 40;
const O_PROCESSOR: usize = 48;
const O_PID: usize = 52;
const O_TID: usize = 56;
const O_PPID: usize = 60;
const O_HOST_PID: usize = 64;
const O_HOST_TID: usize = 68;
const O_HOST_PPID: usize = 72;
const O_UID: usize = 76;
const O_MNTNS: usize = 80;
const O_PIDNS: usize = 84;
const O_SYSCALL: usize = 88;
export const O_FLAGS: usize = 92;
const O_CONTAINER_REF: usize = 96;
const O_THREAD_ENTITY: usize = 100;
const O_PROCESS_ENTITY: usize = 104;
const O_PARENT_ENTITY: usize = 108;
const O_COMM: usize = 112;
const O_HOSTNAME: usize = 128;
const O_ARGS_NUM: usize = 144;
export const CONTEXT_SIZE: usize = 152;

// The host lookups, by their index in INPUT_BUILTINS. The code generator
// replaces this import: it calls the builtin through opa_builtinN, or
// returns 0 (undefined) when the module does not declare it (the policy
// never reads the fields it serves).
@external("env", "rt_input_builtin")
declare function inputBuiltin(which: u32, a: usize, b: usize): usize;
const HB_CONTAINER: u32 = 0;
const HB_EXECUTABLE: u32 = 1;
const HB_POLICIES: u32 = 2;

/**
 * The top-level fields, in sorted key order: field i is bit i of the mask
 * (bundle-abi.ts INPUT_FIELDS, which the build derives the mask from).
 */
const FIELD_NAMES: StaticArray<string> = [
  "args", "argsNum", "cgroupId", "container", "containerId", "contextFlags", "eventId", "eventName", "executable",
  "hostName", "hostParentProcessId", "hostProcessId", "hostThreadId", "kubernetes", "matchedPolicies", "mountNamespace",
  "parentEntityId", "parentProcessId", "pidNamespace", "processEntityId", "processId", "processName", "processorId",
  "returnValue", "stackAddresses", "syscall", "threadEntityId", "threadId", "threadStartTime", "timestamp", "userId",
];
const F_ARGS = 0, F_ARGS_NUM = 1, F_CGROUP = 2, F_CONTAINER = 3, F_CONTAINER_ID = 4, F_CTX_FLAGS = 5, F_EVENT_ID = 6,
  F_EVENT_NAME = 7, F_EXECUTABLE = 8, F_HOSTNAME = 9, F_HOST_PPID = 10, F_HOST_PID = 11, F_HOST_TID = 12,
  F_KUBERNETES = 13, F_POLICIES = 14, F_MNTNS = 15, F_PARENT_ENTITY = 16, F_PPID = 17, F_PIDNS = 18,
  F_PROCESS_ENTITY = 19, F_PID = 20, F_COMM = 21, F_PROCESSOR = 22, F_RETVAL = 23, F_STACK = 24, F_SYSCALL = 25,
  F_THREAD_ENTITY = 26, F_TID = 27, F_THREAD_START = 28, F_TIMESTAMP = 29, F_UID = 30;
const N_FIELDS = 31;
const ALL_FIELDS: u32 = 0x7fffffff;
// @ts-ignore: decorator
@inline function bit(f: i32): u32 { return <u32>1 << <u32>f; }
const CONTAINER_BITS: u32 = bit(F_CONTAINER) | bit(F_CONTAINER_ID) | bit(F_KUBERNETES);

/** Top-level fields to build (configuration "fields"; all by default). */
let fieldMask: u32 = 0xffffffff;
export function setFieldMask(m: u32): void { fieldMask = m; }

/** Flag on an argument's type code: not built (the policy cannot observe it). */
export const ARG_SKIP: u32 = 0x100;
/** Arguments present in the record being built (argsNum counts skipped ones too). */
let argsPresent: usize = 0;

// Argument type codes (bundle-abi.ts ARG_TYPE_CODES).
const A_I32: i32 = 1, A_U32: i32 = 2, A_I64: i32 = 3, A_U64: i32 = 4, A_U16: i32 = 5, A_BOOL: i32 = 7,
  A_STR: i32 = 8, A_STRS: i32 = 9, A_BYTES: i32 = 10, A_SOCKADDR: i32 = 11, A_JSON: i32 = 12;

/** Event names by id (configuration "names"), for `syscall`: [maxName + 1] string values, 0 = unknown id. */
let names: usize = 0;
let maxName: u32 = 0;

let fieldKeys: usize = 0;
let K_CONTAINER_STARTED: usize, K_IS_COMPAT: usize, K_NAME: usize, K_TYPE: usize, K_VALUE: usize, K_PATH: usize,
  K_CONTAINER: usize, K_CONTAINER_ID: usize, K_KUBERNETES: usize,
  K_SA_FAMILY: usize, K_SIN_ADDR: usize, K_SIN_PORT: usize, K_SIN6_ADDR: usize, K_SIN6_FLOWINFO: usize,
  K_SIN6_PORT: usize, K_SIN6_SCOPEID: usize, K_SUN_PATH: usize, V_AF_INET: usize, V_AF_INET6: usize, V_AF_UNIX: usize,
  V_EMPTY: usize;

/** Interns the keys; call once before building. */
export function inputInit(): void {
  fieldKeys = malloc(<usize>N_FIELDS << 2);
  for (let i = 0; i < N_FIELDS; i++) store<usize>(fieldKeys + (<usize>i << 2), strAscii(FIELD_NAMES[i]));
  K_CONTAINER = fieldKey(F_CONTAINER); K_CONTAINER_ID = fieldKey(F_CONTAINER_ID); K_KUBERNETES = fieldKey(F_KUBERNETES);
  K_CONTAINER_STARTED = strAscii("containerStarted"); K_IS_COMPAT = strAscii("isCompat");
  K_NAME = strAscii("name"); K_TYPE = strAscii("type"); K_VALUE = strAscii("value"); K_PATH = strAscii("path");
  K_SA_FAMILY = strAscii("sa_family"); K_SIN_ADDR = strAscii("sin_addr"); K_SIN_PORT = strAscii("sin_port");
  K_SIN6_ADDR = strAscii("sin6_addr"); K_SIN6_FLOWINFO = strAscii("sin6_flowinfo"); K_SIN6_PORT = strAscii("sin6_port");
  K_SIN6_SCOPEID = strAscii("sin6_scopeid"); K_SUN_PATH = strAscii("sun_path");
  V_AF_INET = strAscii("AF_INET"); V_AF_INET6 = strAscii("AF_INET6"); V_AF_UNIX = strAscii("AF_UNIX");
  V_EMPTY = strAscii("");
}

function fieldKey(f: i32): usize { return load<usize>(fieldKeys + (<usize>f << 2)); }

/** An integer from the configuration (JSON numbers may be kept as text). */
export function cfgInt(v: usize): i64 {
  return numIsI64(v) ? intOut : 0;
}

/** Configuration "names": [[id, name], ...]. */
export function setEventNames(list: usize): void {
  let n = arrLen(list);
  for (let i: usize = 0; i < n; i++) {
    let id = <u32>cfgInt(arrGet(arrGet(list, i), 0));
    if (id > maxName) maxName = id;
  }
  names = malloc((<usize>maxName + 1) << 2);
  memory.fill(names, 0, (<usize>maxName + 1) << 2);
  for (let i: usize = 0; i < n; i++) {
    let e = arrGet(list, i);
    store<usize>(names + (<usize>(<u32>cfgInt(arrGet(e, 0))) << 2), arrGet(e, 1));
  }
}

/**
 * The input value of record `rec` (`size` bytes) whose event entry is `ev`
 * (tracee.ts: name, argument definitions). Only the fields in the mask are
 * built, and the object is filled in key order directly.
 */
export function buildInput(rec: usize, size: usize, ev: usize, clock: i64): usize {
  let m = fieldMask & ALL_FIELDS;
  let o = objOf(<usize>popcnt(m));
  argsPresent = 0;
  let args: usize = 0;
  if (m & (bit(F_ARGS) | bit(F_ARGS_NUM))) args = ev != 0 ? buildArgs(rec, size, ev) : arrNew(0);
  let ctr: usize = (m & CONTAINER_BITS) != 0 ? containerFields(rec) : 0;
  let k: usize = 0;
  for (let f = 0; f < N_FIELDS; f++) {
    if ((m & bit(f)) == 0) continue;
    objSet(o, k++, fieldKey(f), field(f, rec, ev, clock, args, ctr));
  }
  return o;
}

function field(f: i32, rec: usize, ev: usize, clock: i64, args: usize, ctr: usize): usize {
  switch (f) {
    case F_ARGS: return args;
    case F_ARGS_NUM: return numInt(<i64>argsPresent);
    case F_CGROUP: return u64v(load<u64>(rec, O_CGROUP));
    case F_CONTAINER: return fromHost(ctr, K_CONTAINER, T_OBJECT);
    case F_CONTAINER_ID: return fromHost(ctr, K_CONTAINER_ID, T_STRING);
    case F_CTX_FLAGS: return ctxFlags(rec);
    case F_EVENT_ID: return decimal(<u64>load<u32>(rec, O_EVENT_ID));
    case F_EVENT_NAME: return ev != 0 ? load<usize>(ev) : nullV();
    case F_EXECUTABLE: return executable(rec);
    case F_HOSTNAME: return cstrV(rec + O_HOSTNAME, 16);
    case F_HOST_PPID: return u32v(rec, O_HOST_PPID);
    case F_HOST_PID: return u32v(rec, O_HOST_PID);
    case F_HOST_TID: return u32v(rec, O_HOST_TID);
    case F_KUBERNETES: return fromHost(ctr, K_KUBERNETES, T_OBJECT);
    case F_POLICIES: return policies(rec);
    case F_MNTNS: return u32v(rec, O_MNTNS);
    case F_PARENT_ENTITY: return u32v(rec, O_PARENT_ENTITY);
    case F_PPID: return u32v(rec, O_PPID);
    case F_PIDNS: return u32v(rec, O_PIDNS);
    case F_PROCESS_ENTITY: return u32v(rec, O_PROCESS_ENTITY);
    case F_PID: return u32v(rec, O_PID);
    case F_COMM: return cstrV(rec + O_COMM, 16);
    case F_PROCESSOR: return u32v(rec, O_PROCESSOR);
    case F_RETVAL: return numInt(load<i64>(rec, O_RETVAL));
    case F_STACK: return nullV();
    case F_SYSCALL: return syscallName(load<i32>(rec, O_SYSCALL));
    case F_THREAD_ENTITY: return u32v(rec, O_THREAD_ENTITY);
    case F_TID: return u32v(rec, O_TID);
    case F_THREAD_START: return threadStart(rec, clock);
    case F_TIMESTAMP: return u64v(load<u64>(rec, O_TIMESTAMP) + <u64>clock);
    case F_UID: return u32v(rec, O_UID);
    default: return nullV();
  }
}

// ---- fields the host knows ----

/** {container, containerId, kubernetes} of the record's container, or 0 outside containers. */
function containerFields(rec: usize): usize {
  let ref = load<u32>(rec, O_CONTAINER_REF);
  return ref == 0 ? 0 : inputBuiltin(HB_CONTAINER, numInt(<i64>ref), 0);
}

/** Member `key` of a host answer if it has type `tag`, else the empty value of that type (as decodeEvent renders no container). */
function fromHost(answer: usize, key: usize, tag: u8): usize {
  let v = answer != 0 && load<u8>(answer) == T_OBJECT ? objGet(answer, key) : 0;
  if (v != 0 && load<u8>(v) == tag) return v;
  return tag == T_STRING ? V_EMPTY : objNew();
}

/** {path}: the process tree's executable of hostProcessId at the record's (boot-clock) time; "" if unknown. */
function executable(rec: usize): usize {
  let path = inputBuiltin(HB_EXECUTABLE, u32v(rec, O_HOST_PID), decimal(load<u64>(rec, O_TIMESTAMP)));
  let o = objNew();
  objInsert(o, K_PATH, path != 0 && load<u8>(path) == T_STRING ? path : V_EMPTY);
  return o;
}

/** Names of the policies in the record's matchedPolicies bitmap. */
function policies(rec: usize): usize {
  let lo = load<u32>(rec, O_POLICIES), hi = load<u32>(rec, O_POLICIES + 4);
  if ((lo | hi) == 0) return arrNew(0);
  let v = inputBuiltin(HB_POLICIES, numInt(<i64>lo), numInt(<i64>hi));
  return v != 0 && load<u8>(v) == T_ARRAY ? v : arrNew(0);
}

// ---- fields of the record ----

/** The event name of syscall id `id` ("" for none, the id's digits when not in the catalogue). */
function syscallName(id: i32): usize {
  if (id < 0) return V_EMPTY;
  if (names != 0 && <u32>id <= maxName) {
    let n = load<usize>(names + (<usize>id << 2));
    if (n != 0) return n;
  }
  return decimal(<u64>id);
}

function u32v(rec: usize, off: usize): usize { return numInt(<i64>load<u32>(rec + off)); }

function u64v(x: u64): usize {
  return x <= <u64>i64.MAX_VALUE ? numInt(<i64>x) : numFloat(<f64>x);
}

function cstrV(p: usize, max: usize): usize {
  let n: usize = 0;
  while (n < max && load<u8>(p + n) != 0) n++;
  return strV(p, n);
}

/** An object with room for exactly n entries, filled with objSet in key order. */
function objOf(n: usize): usize {
  let o = malloc(20 + (n << 3));
  store<u32>(o, <u32>T_OBJECT);
  store<u32>(o, <u32>n, 4);
  store<u32>(o, <u32>n, 8);
  store<usize>(o, o + 20, 12);
  store<usize>(o, o + 20 + (n << 2), 16);
  return o;
}

// @ts-ignore: decorator
@inline function objSet(o: usize, i: usize, key: usize, val: usize): void {
  store<usize>(o + 20 + (i << 2), key);
  store<usize>(load<usize>(o, 16) + (i << 2), val);
}

function ctxFlags(rec: usize): usize {
  let flags = load<u32>(rec, O_FLAGS);
  let cf = objOf(2);
  objSet(cf, 0, K_CONTAINER_STARTED, boolV((flags & 1) != 0));
  objSet(cf, 1, K_IS_COMPAT, boolV((flags & 2) != 0));
  return cf;
}

function threadStart(rec: usize, clock: i64): usize {
  let tst = load<u64>(rec, O_THREAD_START);
  return u64v(tst == 0 ? 0 : tst + <u64>clock);
}

function decimal(x: u64): usize {
  let b = bufNew(20);
  if (x == 0) bufByte(b, 48);
  let digits = malloc(20);
  let n: usize = 0;
  while (x > 0) { store<u8>(digits + n, <u8>(48 + <u32>(x % 10))); x /= 10; n++; }
  while (n > 0) { n--; bufByte(b, <u32>load<u8>(digits + n)); }
  return strV(bufPtr(b), bufLen(b));
}

// ---- arguments ----

function buildArgs(rec: usize, size: usize, ev: usize): usize {
  let nd = <usize>load<u32>(ev, 4);
  let n = <usize>load<u16>(rec, O_ARGS_NUM);
  if (n > nd) n = nd;
  let out = arrNew(n);
  for (let i: usize = 0; i < n; i++) {
    let entry = rec + CONTEXT_SIZE + (i << 3);
    let off = <usize>load<u32>(entry);
    let len = <usize>load<u32>(entry, 4);
    if (off == 0 || off + len > size) continue;
    argsPresent++;
    let d = ev + 8 + i * 12;
    if (load<u32>(d, 8) & ARG_SKIP) continue;
    // {name, type, value}: keys in sorted order
    let a = objOf(3);
    objSet(a, 0, K_NAME, load<usize>(d));
    objSet(a, 1, K_TYPE, load<usize>(d, 4));
    objSet(a, 2, K_VALUE, argValue(<i32>load<u32>(d, 8), rec + off, len));
    arrAppend(out, a);
  }
  return out;
}

function argValue(code: i32, p: usize, len: usize): usize {
  switch (code) {
    case A_I32: return len >= 4 ? numInt(<i64>load<i32>(p)) : nullV();
    case A_U32: return len >= 4 ? numInt(<i64>load<u32>(p)) : nullV();
    case A_I64: return len >= 8 ? numInt(load<i64>(p)) : nullV();
    case A_U64: return len >= 8 ? u64v(load<u64>(p)) : nullV();
    case A_U16: return len >= 2 ? numInt(<i64>load<u16>(p)) : nullV();
    case A_BOOL: return len >= 1 ? boolV(load<u8>(p) != 0) : nullV();
    case A_STR: return strV(p, len);
    case A_STRS: {
      if (len < 4) return arrNew(0);
      let count = <usize>load<u32>(p);
      let out = arrNew(count);
      let at: usize = 4;
      for (let i: usize = 0; i < count; i++) {
        if (at + 4 > len) break;
        let l = <usize>load<u32>(p + at);
        if (at + 4 + l > len) break;
        arrAppend(out, strV(p + at + 4, l));
        at += 4 + l;
      }
      return out;
    }
    case A_BYTES: return base64Encode(p, len);
    case A_SOCKADDR: return sockaddr(p, len);
    case A_JSON: { let v = jsonParse(p, len); return v != 0 ? v : nullV(); }
    default: return nullV();
  }
}

function sockaddr(p: usize, len: usize): usize {
  let o = objNew();
  if (len < 2) return o;
  let family = <u32>load<u16>(p);
  if (family == 2 && len >= 8) {
    objInsert(o, K_SA_FAMILY, V_AF_INET);
    let b = bufNew(16);
    for (let i: usize = 0; i < 4; i++) {
      if (i) bufByte(b, 46);
      decimalTo(b, <u64>load<u8>(p + 4 + i));
    }
    objInsert(o, K_SIN_ADDR, strV(bufPtr(b), bufLen(b)));
    objInsert(o, K_SIN_PORT, decimal(<u64>be16(p + 2)));
    return o;
  }
  if (family == 10 && len >= 24) {
    objInsert(o, K_SA_FAMILY, V_AF_INET6);
    objInsert(o, K_SIN6_ADDR, ipv6(p + 8));
    objInsert(o, K_SIN6_FLOWINFO, decimal(<u64>be32(p + 4)));
    objInsert(o, K_SIN6_PORT, decimal(<u64>be16(p + 2)));
    objInsert(o, K_SIN6_SCOPEID, decimal(len >= 28 ? <u64>load<u32>(p + 24) : 0));
    return o;
  }
  if (family == 1) {
    objInsert(o, K_SA_FAMILY, V_AF_UNIX);
    let n: usize = 0;
    while (<usize>2 + n < len && load<u8>(p + 2 + n) != 0) n++;
    objInsert(o, K_SUN_PATH, strV(p + 2, n));
    return o;
  }
  objInsert(o, K_SA_FAMILY, decimal(<u64>family));
  return o;
}

function be16(p: usize): u32 { return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1); }
function be32(p: usize): u32 { return (be16(p) << 16) | be16(p + 2); }

function decimalTo(b: usize, x: u64): void {
  let s = decimal(x);
  bufBytes(b, load<usize>(s, 8), <usize>load<u32>(s, 4));
}

/** RFC 5952 text of 16 address bytes (longest zero run of ≥2 groups compressed). */
function ipv6(p: usize): usize {
  let bestStart = -1, bestLen = 0, curStart = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (be16(p + (<usize>i << 1)) == 0) {
      if (curStart < 0) { curStart = i; curLen = 0; }
      curLen++;
      if (curLen > bestLen) { bestLen = curLen; bestStart = curStart; }
    } else curStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  let b = bufNew(40);
  for (let i = 0; i < 8; i++) {
    if (i == bestStart) {
      bufByte(b, 58); bufByte(b, 58);
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i != bestStart + bestLen) bufByte(b, 58);
    let g = be16(p + (<usize>i << 1));
    let started = false;
    for (let s = 12; s >= 0; s -= 4) {
      let d = (g >> <u32>s) & 15;
      if (d == 0 && !started && s > 0) continue;
      started = true;
      bufByte(b, d < 10 ? 48 + d : 87 + d);
    }
  }
  return strV(bufPtr(b), bufLen(b));
}
