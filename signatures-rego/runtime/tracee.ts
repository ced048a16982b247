// Tracee bundle ABI for Rego modules (host/build/rego/bundle-abi.ts).
//
// A Rego signature bundle is a standard OPA-ABI module plus these exports:
// `tracee_input(size)` returns an input buffer; `tracee_on_batch(ptr, len)`
// walks a flat-encoded batch (docs/abi/flat-encoding.md) and, for each record
// some signature of the module selected (event id and origin), builds the
// OPA input value (Tracee's event JSON shape) straight from the record, with
// no JSON text, and evaluates each selecting signature's `tracee_match`
// entrypoint. It returns the number of findings; `tracee_finding(i)` points
// at {u32 record index, u32 signature index, u32 value} where value is the
// match object (0 for `true`). No import beyond the OPA ABI's is needed, so
// the module still loads with @open-policy-agent/opa-wasm.
//
// Memory: the input buffer and the configuration live below `evalBase`. Each
// batch starts from there; a record's values are dropped unless it produced
// a finding (the findings' values must outlive the call).

import { malloc, heapGet, heapSet } from "./mem";
import { policyEval, rt_bundle_cfg_ptr, rt_bundle_cfg_len } from "./eval";
import {
  strV, strAscii, arrNew, arrAppend, arrLen, arrGet, objNew, objInsert, objGet, setLen, setGet, nullV, boolV,
  setNew, setAdd, setFind,
} from "./value";
import { T_OBJECT, T_BOOL, numInt, numFloat, numIsI64, intOut } from "./number";
import { jsonParse } from "./json";
import { base64Encode } from "./builtins/encoding";
import { regexPrecompile } from "./builtins/regex";
import { setMemoShared } from "./index";
import { bufNew, bufByte, bufBytes, bufPtr, bufLen } from "./buf";

// Flat encoding v1 context offsets (host/events/layout.ts; test/unit/rego-bundle.test.ts checks them).
const O_EVENT_ID: usize = 4;
const O_TIMESTAMP: usize = 8;
const O_THREAD_START: usize = 16;
const O_CGROUP: usize = 24;
const O_RETVAL: usize = 32;
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
const O_FLAGS: usize = 92;
const O_THREAD_ENTITY: usize = 100;
const O_PROCESS_ENTITY: usize = 104;
const O_PARENT_ENTITY: usize = 108;
const O_COMM: usize = 112;
const O_HOSTNAME: usize = 128;
const O_ARGS_NUM: usize = 144;
const CONTEXT_SIZE: usize = 152;

// Argument type codes (bundle-abi.ts ARG_TYPE_CODES).
/** Flag on an argument's type code: not built (the policy cannot observe it). */
const ARG_SKIP: u32 = 0x100;
/** Arguments present in the record being built (argsNum counts skipped ones too). */
let argsPresent: usize = 0;

const A_I32: i32 = 1, A_U32: i32 = 2, A_I64: i32 = 3, A_U64: i32 = 4, A_U16: i32 = 5, A_BOOL: i32 = 7,
  A_STR: i32 = 8, A_STRS: i32 = 9, A_BYTES: i32 = 10, A_SOCKADDR: i32 = 11, A_JSON: i32 = 12;

let inited = false;
let inputBuf: usize = 0;
let inputCap: usize = 0;
let evalBase: usize = 0;
let emptyData: usize = 0;
let resultKey: usize = 0;
/** event id → event entry [id, name, args] (config "ev"), indexed up to maxId */
let evTable: usize = 0;
/** event id → u32 list of (sig index, entry id, origin) triples: [n, ...] */
let dispatch: usize = 0;
let maxId: u32 = 0;
let fBuf: usize = 0;
let fCap: u32 = 0;
let fLen: u32 = 0;
/** Top-level input fields to build (config "fields"; all by default). */
let fieldMask: u32 = 0xffffffff;

// interned keys
let K_ARGS: usize, K_ARGS_NUM: usize, K_CGROUP: usize, K_CTX_FLAGS: usize, K_EVENT_ID: usize, K_EVENT_NAME: usize,
  K_HOSTNAME: usize, K_HOST_PPID: usize, K_HOST_PID: usize, K_HOST_TID: usize, K_MNTNS: usize, K_PARENT_ENTITY: usize,
  K_PPID: usize, K_PIDNS: usize, K_PROCESS_ENTITY: usize, K_PID: usize, K_COMM: usize, K_PROCESSOR: usize,
  K_RETVAL: usize, K_THREAD_ENTITY: usize, K_TID: usize, K_THREAD_START: usize, K_TIMESTAMP: usize, K_UID: usize,
  K_CONTAINER_STARTED: usize, K_IS_COMPAT: usize, K_NAME: usize, K_TYPE: usize, K_VALUE: usize,
  K_SA_FAMILY: usize, K_SIN_ADDR: usize, K_SIN_PORT: usize, K_SIN6_ADDR: usize, K_SIN6_FLOWINFO: usize,
  K_SIN6_PORT: usize, K_SIN6_SCOPEID: usize, K_SUN_PATH: usize, V_AF_INET: usize, V_AF_INET6: usize, V_AF_UNIX: usize;

/** An integer from the configuration (JSON numbers may be kept as text). */
function cfgInt(v: usize): i64 {
  return numIsI64(v) ? intOut : 0;
}

function init(): void {
  inited = true;
  emptyData = objNew();
  resultKey = strAscii("result");
  K_ARGS = strAscii("args"); K_ARGS_NUM = strAscii("argsNum"); K_CGROUP = strAscii("cgroupId");
  K_CTX_FLAGS = strAscii("contextFlags"); K_EVENT_ID = strAscii("eventId"); K_EVENT_NAME = strAscii("eventName");
  K_HOSTNAME = strAscii("hostName"); K_HOST_PPID = strAscii("hostParentProcessId"); K_HOST_PID = strAscii("hostProcessId");
  K_HOST_TID = strAscii("hostThreadId"); K_MNTNS = strAscii("mountNamespace"); K_PARENT_ENTITY = strAscii("parentEntityId");
  K_PPID = strAscii("parentProcessId"); K_PIDNS = strAscii("pidNamespace"); K_PROCESS_ENTITY = strAscii("processEntityId");
  K_PID = strAscii("processId"); K_COMM = strAscii("processName"); K_PROCESSOR = strAscii("processorId");
  K_RETVAL = strAscii("returnValue"); K_THREAD_ENTITY = strAscii("threadEntityId"); K_TID = strAscii("threadId");
  K_THREAD_START = strAscii("threadStartTime"); K_TIMESTAMP = strAscii("timestamp"); K_UID = strAscii("userId");
  K_CONTAINER_STARTED = strAscii("containerStarted"); K_IS_COMPAT = strAscii("isCompat");
  K_NAME = strAscii("name"); K_TYPE = strAscii("type"); K_VALUE = strAscii("value");
  K_SA_FAMILY = strAscii("sa_family"); K_SIN_ADDR = strAscii("sin_addr"); K_SIN_PORT = strAscii("sin_port");
  K_SIN6_ADDR = strAscii("sin6_addr"); K_SIN6_FLOWINFO = strAscii("sin6_flowinfo"); K_SIN6_PORT = strAscii("sin6_port");
  K_SIN6_SCOPEID = strAscii("sin6_scopeid"); K_SUN_PATH = strAscii("sun_path");
  V_AF_INET = strAscii("AF_INET"); V_AF_INET6 = strAscii("AF_INET6"); V_AF_UNIX = strAscii("AF_UNIX");

  // configuration: {"ev": [[id, name, [[argName, typeCode, typeName], ...]], ...], "sig": [[entry, [[id, origin], ...]], ...]}
  if (rt_bundle_cfg_len == 0) return;
  let cfg = jsonParse(rt_bundle_cfg_ptr, rt_bundle_cfg_len);
  if (cfg == 0) return;
  let ev = objGet(cfg, strAscii("ev"));
  let sig = objGet(cfg, strAscii("sig"));
  let an = objGet(cfg, strAscii("argNames"));
  let argNames: usize = 0;
  if (an != 0) { argNames = setNew(); for (let i: usize = 0; i < arrLen(an); i++) setAdd(argNames, arrGet(an, i)); }
  let fm = objGet(cfg, strAscii("fields"));
  if (fm != 0) fieldMask = <u32>cfgInt(fm);
  let rx = objGet(cfg, strAscii("regex"));
  if (rx != 0) for (let i: usize = 0; i < arrLen(rx); i++) { let r = arrGet(rx, i); regexPrecompile(load<usize>(r, 8), <usize>load<u32>(r, 4)); }
  let n = arrLen(ev);
  for (let i: usize = 0; i < n; i++) {
    let id = <u32>cfgInt(arrGet(arrGet(ev, i), 0));
    if (id > maxId) maxId = id;
  }
  evTable = malloc((<usize>maxId + 1) << 2);
  dispatch = malloc((<usize>maxId + 1) << 2);
  memory.fill(evTable, 0, (<usize>maxId + 1) << 2);
  memory.fill(dispatch, 0, (<usize>maxId + 1) << 2);
  // per event: | name | nargs | (argName, typeName, code) × nargs |
  for (let i: usize = 0; i < n; i++) {
    let e = arrGet(ev, i);
    let defs = arrGet(e, 2);
    let na = arrLen(defs);
    let t = malloc(8 + na * 12);
    store<usize>(t, arrGet(e, 1));
    store<u32>(t, <u32>na, 4);
    for (let j: usize = 0; j < na; j++) {
      let d = arrGet(defs, j);
      let name = arrGet(d, 0);
      // arguments the policy cannot observe (config "argNames") are not built
      let skip = argNames != 0 && setFind(argNames, name) < 0 ? ARG_SKIP : 0;
      store<usize>(t + 8 + j * 12, name);
      store<usize>(t + 8 + j * 12, arrGet(d, 2), 4);
      store<u32>(t + 8 + j * 12, <u32>cfgInt(arrGet(d, 1)) | skip, 8);
    }
    store<usize>(evTable + (<usize>(<u32>cfgInt(arrGet(e, 0))) << 2), t);
  }
  // per event: count selecting signatures, then fill triples
  let ns = arrLen(sig);
  let counts = malloc((<usize>maxId + 1) << 2);
  memory.fill(counts, 0, (<usize>maxId + 1) << 2);
  for (let k: usize = 0; k < ns; k++) {
    let sel = arrGet(arrGet(sig, k), 1);
    for (let j: usize = 0; j < arrLen(sel); j++) {
      let id = <usize>(<u32>cfgInt(arrGet(arrGet(sel, j), 0)));
      if (id <= <usize>maxId) store<u32>(counts + (id << 2), load<u32>(counts + (id << 2)) + 1);
    }
  }
  for (let id: usize = 0; id <= <usize>maxId; id++) {
    let c = load<u32>(counts + (id << 2));
    if (c == 0) continue;
    let list = malloc(4 + <usize>c * 12);
    store<u32>(list, 0);
    store<usize>(dispatch + (id << 2), list);
  }
  for (let k: usize = 0; k < ns; k++) {
    let s = arrGet(sig, k);
    let entry = <u32>cfgInt(arrGet(s, 0));
    let sel = arrGet(s, 1);
    for (let j: usize = 0; j < arrLen(sel); j++) {
      let pair = arrGet(sel, j);
      let id = <usize>(<u32>cfgInt(arrGet(pair, 0)));
      if (id > <usize>maxId) continue;
      let list = load<usize>(dispatch + (id << 2));
      let m = load<u32>(list);
      let at = list + 4 + <usize>m * 12;
      store<u32>(at, <u32>k);
      store<u32>(at, entry, 4);
      store<u32>(at, <u32>cfgInt(arrGet(pair, 1)), 8);
      store<u32>(list, m + 1);
    }
  }
}

export function tracee_input(size: u32): usize {
  if (!inited) init();
  if (<usize>size > inputCap) {
    heapSet(evalBase > 0 ? evalBase : heapGet());
    inputBuf = malloc(<usize>size);
    inputCap = <usize>size;
    evalBase = heapGet();
  }
  return inputBuf;
}

export function tracee_finding(i: u32): usize {
  return fBuf + <usize>i * 12;
}

function addFinding(index: u32, sig: u32, value: usize): void {
  if (fLen == fCap) {
    let ncap = fCap * 2;
    let nb = malloc(<usize>ncap * 12);
    memory.copy(nb, fBuf, <usize>fLen * 12);
    fBuf = nb;
    fCap = ncap;
  }
  let at = fBuf + <usize>fLen * 12;
  store<u32>(at, index);
  store<u32>(at, sig, 4);
  store<u32>(at, <u32>value, 8);
  fLen++;
}

/** Evaluates one entrypoint; returns its value (0 when undefined). */
function evalEntry(entry: u32, input: usize): usize {
  let ctx = malloc(16);
  store<usize>(ctx, input);
  store<usize>(ctx, emptyData, 4);
  store<usize>(ctx, 0, 8);
  store<u32>(ctx, entry, 12);
  policyEval(ctx);
  let rs = load<usize>(ctx, 8);
  if (rs == 0 || setLen(rs) == 0) return 0;
  return objGet(setGet(rs, 0), resultKey);
}

export function tracee_on_batch(ptr: usize, len: u32): i32 {
  if (!inited) init();
  if (len < 24 || load<u32>(ptr) != 0x42435254) return -1;
  heapSet(evalBase > 0 ? evalBase : heapGet());
  fCap = 16;
  fLen = 0;
  fBuf = malloc(<usize>fCap * 12);
  let headerSize = <usize>load<u16>(ptr, 6);
  let count = load<u32>(ptr, 8);
  let byteLength = <usize>load<u32>(ptr, 12);
  if (byteLength > <usize>len) byteLength = <usize>len;
  let clock = load<i64>(ptr, 16);
  let at = ptr + headerSize;
  let end = ptr + byteLength;
  for (let i: u32 = 0; i < count; i++) {
    if (at + CONTEXT_SIZE > end) return -2;
    let size = <usize>load<u32>(at);
    if (size < CONTEXT_SIZE || at + size > end) return -2;
    let id = load<u32>(at, O_EVENT_ID);
    if (id <= maxId) {
      let list = load<usize>(dispatch + (<usize>id << 2));
      if (list != 0) {
        let inContainer = (load<u32>(at, O_FLAGS) & 1) != 0;
        let mark = heapGet();
        let input: usize = 0;
        let found = false;
        let m = load<u32>(list);
        setMemoShared(false);
        for (let j: u32 = 0; j < m; j++) {
          let t = list + 4 + <usize>j * 12;
          let origin = load<u32>(t, 8);
          if (origin == 1 && !inContainer || origin == 2 && inContainer) continue;
          if (input == 0) input = buildInput(at, size, id, clock);
          let v = evalEntry(load<u32>(t, 4), input);
          setMemoShared(true);
          if (v == 0) continue;
          let tag = load<u8>(v);
          if (tag == <u8>T_BOOL) {
            if (load<u8>(v, 1) == 0) continue;
            addFinding(i, load<u32>(t), 0);
          } else if (tag == <u8>T_OBJECT) {
            addFinding(i, load<u32>(t), v);
          } else continue;
          found = true;
        }
        setMemoShared(false);
        if (!found) heapSet(mark);
      }
    }
    at += size;
  }
  return <i32>fLen;
}

// ---- the input value ----

function u32v(rec: usize, off: usize): usize { return numInt(<i64>load<u32>(rec + off)); }

function u64v(x: u64): usize {
  return x <= <u64>i64.MAX_VALUE ? numInt(<i64>x) : numFloat(<f64>x);
}

function cstrV(p: usize, max: usize): usize {
  let n: usize = 0;
  while (n < max && load<u8>(p + n) != 0) n++;
  return strV(p, n);
}

/**
 * The input value: Tracee's event JSON shape, keys in sorted order (objInsert
 * appends). Only the top-level fields in `fieldMask` are built (bit i: the
 * i-th key below); the build leaves out fields the policy never reads.
 */
/**
 * The input value: Tracee's event JSON shape. Only the top-level fields in
 * `fieldMask` are built (bit i: the i-th key below, in sorted order), and
 * the object is filled directly (its keys are already sorted).
 */
function buildInput(rec: usize, size: usize, id: u32, clock: i64): usize {
  let ev = load<usize>(evTable + (<usize>id << 2));
  let m = fieldMask;
  let o = objOf(<usize>popcnt(m & 0xffffff));
  let args: usize = 0;
  if (m & 3) args = ev != 0 ? buildArgs(rec, size, ev) : arrNew(0);
  let k: usize = 0;
  if (m & 1) { objSet(o, k, K_ARGS, args); k++; }
  if (m & 2) { objSet(o, k, K_ARGS_NUM, numInt(<i64>argsPresent)); k++; }
  if (m & 4) { objSet(o, k, K_CGROUP, u64v(load<u64>(rec, O_CGROUP))); k++; }
  if (m & 8) { objSet(o, k, K_CTX_FLAGS, ctxFlags(rec)); k++; }
  if (m & 16) { objSet(o, k, K_EVENT_ID, decimal(<u64>id)); k++; }
  if (m & 32) { objSet(o, k, K_EVENT_NAME, ev != 0 ? load<usize>(ev) : nullV()); k++; }
  if (m & 64) { objSet(o, k, K_HOSTNAME, cstrV(rec + O_HOSTNAME, 16)); k++; }
  if (m & 128) { objSet(o, k, K_HOST_PPID, u32v(rec, O_HOST_PPID)); k++; }
  if (m & 256) { objSet(o, k, K_HOST_PID, u32v(rec, O_HOST_PID)); k++; }
  if (m & 512) { objSet(o, k, K_HOST_TID, u32v(rec, O_HOST_TID)); k++; }
  if (m & 1024) { objSet(o, k, K_MNTNS, u32v(rec, O_MNTNS)); k++; }
  if (m & 2048) { objSet(o, k, K_PARENT_ENTITY, u32v(rec, O_PARENT_ENTITY)); k++; }
  if (m & 4096) { objSet(o, k, K_PPID, u32v(rec, O_PPID)); k++; }
  if (m & 8192) { objSet(o, k, K_PIDNS, u32v(rec, O_PIDNS)); k++; }
  if (m & 16384) { objSet(o, k, K_PROCESS_ENTITY, u32v(rec, O_PROCESS_ENTITY)); k++; }
  if (m & 32768) { objSet(o, k, K_PID, u32v(rec, O_PID)); k++; }
  if (m & 65536) { objSet(o, k, K_COMM, cstrV(rec + O_COMM, 16)); k++; }
  if (m & 131072) { objSet(o, k, K_PROCESSOR, u32v(rec, O_PROCESSOR)); k++; }
  if (m & 262144) { objSet(o, k, K_RETVAL, numInt(load<i64>(rec, O_RETVAL))); k++; }
  if (m & 524288) { objSet(o, k, K_THREAD_ENTITY, u32v(rec, O_THREAD_ENTITY)); k++; }
  if (m & 1048576) { objSet(o, k, K_TID, u32v(rec, O_TID)); k++; }
  if (m & 2097152) { objSet(o, k, K_THREAD_START, threadStart(rec, clock)); k++; }
  if (m & 4194304) { objSet(o, k, K_TIMESTAMP, u64v(load<u64>(rec, O_TIMESTAMP) + <u64>clock)); k++; }
  if (m & 8388608) { objSet(o, k, K_UID, u32v(rec, O_UID)); k++; }
  return o;
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
  let cf = objNew();
  objInsert(cf, K_CONTAINER_STARTED, boolV((flags & 1) != 0));
  objInsert(cf, K_IS_COMPAT, boolV((flags & 2) != 0));
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

function buildArgs(rec: usize, size: usize, ev: usize): usize {
  let nd = <usize>load<u32>(ev, 4);
  let n = <usize>load<u16>(rec, O_ARGS_NUM);
  if (n > nd) n = nd;
  let out = arrNew(n);
  argsPresent = 0;
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


