// Tracee bundle ABI for Rego modules (host/build/rego/bundle-abi.ts).
//
// A Rego signature bundle is a standard OPA-ABI module plus these exports:
// `tracee_input(size)` returns an input buffer; `tracee_on_batch(ptr, len)`
// walks a flat-encoded batch (docs/abi/flat-encoding.md) and, for each record
// some signature of the module selected (event id and origin), builds the
// OPA input value (Tracee's event JSON shape, input.ts) straight from the
// record, with no JSON text, and evaluates each selecting signature's
// `tracee_match` entrypoint. It returns the number of findings;
// `tracee_finding(i)` points at {u32 record index, u32 signature index,
// u32 value} where value is the match object (0 for `true`). No import
// beyond the OPA ABI's is needed (host data comes through OPA custom
// builtins), so the module still loads with @open-policy-agent/opa-wasm.
//
// Memory: the input buffer and the configuration live below `evalBase`. Each
// batch starts from there; a record's values are dropped unless it produced
// a finding (the findings' values must outlive the call).

import { malloc, heapGet, heapSet } from "./mem";
import { policyEval, rt_bundle_cfg_ptr, rt_bundle_cfg_len } from "./eval";
import { strAscii, arrLen, arrGet, objNew, objGet, setLen, setGet, setNew, setAdd, setFind } from "./value";
import { T_OBJECT, T_BOOL } from "./number";
import { jsonParse } from "./json";
import { regexPrecompile } from "./builtins/regex";
import { setMemoShared } from "./index";
import { ARG_SKIP, CONTEXT_SIZE, O_EVENT_ID, O_FLAGS, buildInput, cfgInt, inputInit, setEventNames, setFieldMask } from "./input";

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

function init(): void {
  inited = true;
  emptyData = objNew();
  resultKey = strAscii("result");
  inputInit();

  // configuration (bundle-abi.ts bundleConfig): {"ev": [[id, name, [[argName, typeCode, typeName], ...]], ...],
  // "sig": [[entry, [[id, origin], ...]], ...]} and optionally "fields", "names", "regex", "argNames"
  if (rt_bundle_cfg_len == 0) return;
  let cfg = jsonParse(rt_bundle_cfg_ptr, rt_bundle_cfg_len);
  if (cfg == 0) return;
  let ev = objGet(cfg, strAscii("ev"));
  let sig = objGet(cfg, strAscii("sig"));
  let an = objGet(cfg, strAscii("argNames"));
  let argNames: usize = 0;
  if (an != 0) { argNames = setNew(); for (let i: usize = 0; i < arrLen(an); i++) setAdd(argNames, arrGet(an, i)); }
  let fm = objGet(cfg, strAscii("fields"));
  if (fm != 0) setFieldMask(<u32>cfgInt(fm));
  let names = objGet(cfg, strAscii("names"));
  if (names != 0) setEventNames(names);
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
          if (input == 0) input = buildInput(at, size, load<usize>(evTable + (<usize>id << 2)), clock);
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

