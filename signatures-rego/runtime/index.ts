// OPA wasm ABI 1.2 runtime for tracee-ts Rego policies.
//
// This module is compiled once (host/build/rego/build-runtime.ts) and then
// extended per policy by the code generator (host/build/rego/codegen.ts),
// which replaces the `rt_policy_eval` import with the compiled plans, adds
// one function per plan func, the strings data segment, `builtins()`,
// `entrypoints()` and the ABI version globals, and strips the `rt_*` and
// `b_*` exports below (they exist only so the generator can find them).

import { malloc, heapGet, heapSet, fail } from "./mem";
import { jsonParse, jsonDump, valueParse, valueDump } from "./json";
import {
  compare, get, length, iterKey, iterVal, shallowCopy, merge, arrNew, arrAppend, arrLen, arrGet,
  objNew, objInsert, objGet, objRemove, setNew, setAdd, nullV, boolV,
} from "./value";
import { T_OBJECT, T_NUMBER, numInt, numIsI64, intOut } from "./number";

import { policyEval } from "./eval";

// ---- ABI: memory ----

export function opa_malloc(size: usize): usize { return malloc(size); }
export function opa_free(_p: usize): void {}
export function opa_heap_ptr_get(): usize { return heapGet(); }
export function opa_heap_ptr_set(p: usize): void { heapSet(p); }

// ---- ABI: values ----

export function opa_json_parse(ptr: usize, len: usize): usize { return jsonParse(ptr, len); }
export function opa_json_dump(v: usize): usize { return jsonDump(v); }
export function opa_value_parse(ptr: usize, len: usize): usize { return valueParse(ptr, len); }
export function opa_value_dump(v: usize): usize { return valueDump(v); }

/** Sets data[path...] = v, creating intermediate objects. 0 OK, 2 invalid type, 3 invalid path. */
export function opa_value_add_path(data: usize, path: usize, v: usize): i32 {
  if (data == 0 || load<u8>(data) != T_OBJECT) return 2;
  let n = arrLen(path);
  if (n == 0) return 3;
  let cur = data;
  for (let i: usize = 0; i + 1 < n; i++) {
    let k = arrGet(path, i);
    let next = objGet(cur, k);
    if (next == 0) { next = objNew(); objInsert(cur, k, next); }
    else if (load<u8>(next) != T_OBJECT) return 3;
    cur = next;
  }
  objInsert(cur, arrGet(path, n - 1), v);
  return 0;
}

export function opa_value_remove_path(data: usize, path: usize): i32 {
  if (data == 0 || load<u8>(data) != T_OBJECT) return 2;
  let n = arrLen(path);
  if (n == 0) return 3;
  let cur = data;
  for (let i: usize = 0; i + 1 < n; i++) {
    cur = objGet(cur, arrGet(path, i));
    if (cur == 0 || load<u8>(cur) != T_OBJECT) return 0;
  }
  objRemove(cur, arrGet(path, n - 1));
  return 0;
}

// ---- ABI: evaluation ----
//
//  ctx (16): | input | data | result | entrypoint |

export function opa_eval_ctx_new(): usize {
  let c = malloc(16);
  memory.fill(c, 0, 16);
  return c;
}
export function opa_eval_ctx_set_input(ctx: usize, v: usize): void { store<usize>(ctx, v, 0); }
export function opa_eval_ctx_set_data(ctx: usize, v: usize): void { store<usize>(ctx, v, 4); }
export function opa_eval_ctx_set_entrypoint(ctx: usize, e: i32): void { store<i32>(ctx, e, 12); }
export function opa_eval_ctx_get_result(ctx: usize): usize { return load<usize>(ctx, 8); }

function evalCtx(ctx: usize): i32 {
  policyEval(ctx);
  return 0;
}
export { evalCtx as eval };

/** ABI 1.2 one-shot evaluation: reset heap, parse input, evaluate, dump the result set. */
export function opa_eval(_reserved: i32, entrypoint: i32, data: usize, input: usize, inputLen: usize, heapPtr: usize, format: i32): usize {
  heapSet(heapPtr);
  let inp: usize = 0;
  if (inputLen > 0) {
    inp = jsonParse(input, inputLen);
    if (inp == 0) fail("opa_eval: failed to parse input");
  }
  let ctx = opa_eval_ctx_new();
  store<usize>(ctx, inp, 0);
  store<usize>(ctx, data, 4);
  store<i32>(ctx, entrypoint, 12);
  policyEval(ctx);
  let rs = load<usize>(ctx, 8);
  return format == 1 ? valueDump(rs) : jsonDump(rs);
}

// ---- memoisation (funcs of (input, data) are evaluated once per evaluation and `with` scope) ----
//
//  frame: | prev | n | slots[n] |

let memoFrame: usize = 0;
let memoCount: usize = 0;

function memoFrameNew(prev: usize): usize {
  let f = malloc(8 + (memoCount << 2));
  memory.fill(f, 0, 8 + (memoCount << 2));
  store<usize>(f, prev);
  return f;
}
/** Set by tracee.ts between evaluations of one record: the entrypoints share one memo frame (same input and data). */
export let memoShared = false;
export function setMemoShared(v: bool): void { memoShared = v; }
export function rt_memo_init(n: usize): void {
  if (memoShared && memoFrame != 0 && memoCount == n && load<usize>(memoFrame) == 0) return;
  memoCount = n;
  memoFrame = memoFrameNew(0);
}
export function rt_memo_push(): void { memoFrame = memoFrameNew(memoFrame); }
export function rt_memo_pop(): void { memoFrame = load<usize>(memoFrame); }
export function rt_memo_get(i: usize): usize { return load<usize>(memoFrame + 8 + (i << 2)); }
export function rt_memo_insert(i: usize, v: usize): void { store<usize>(memoFrame + 8 + (i << 2), v); }

// ---- helpers for generated code ----

export function rt_compare(a: usize, b: usize): i32 { return compare(a, b); }
export function rt_get(v: usize, k: usize): usize { return get(v, k); }
export function rt_len(v: usize): usize { return numInt(<i64>length(v)); }
export function rt_iter_key(v: usize, i: usize): usize { return iterKey(v, i); }
export function rt_iter_val(v: usize, i: usize): usize { return iterVal(v, i); }
export function rt_type(v: usize): i32 { return v == 0 ? 0 : <i32>load<u8>(v); }
export function rt_number_int(i: i64): usize { return numInt(i); }
export function rt_null(): usize { return nullV(); }
export function rt_bool(b: i32): usize { return boolV(b != 0); }
export function rt_array(cap: usize): usize { return arrNew(cap); }
export function rt_array_append(a: usize, v: usize): void { arrAppend(a, v); }
export function rt_object(): usize { return objNew(); }
export function rt_object_insert(o: usize, k: usize, v: usize): void { objInsert(o, k, v); }
export function rt_set(): usize { return setNew(); }
export function rt_set_add(s: usize, v: usize): void { setAdd(s, v); }
export function rt_merge(a: usize, b: usize): usize { return merge(a, b); }
export function rt_shallow_copy(v: usize): usize { return shallowCopy(v); }

/** Resolves a CallDynamic path through the function mapping; table index + 1, or 0. */
export function rt_mapping_lookup(mapping: usize, path: usize): i32 {
  let cur = mapping;
  let n = arrLen(path);
  for (let i: usize = 0; i < n; i++) {
    cur = get(cur, arrGet(path, i));
    if (cur == 0 || load<u8>(cur) != T_OBJECT && i + 1 < n) return 0;
  }
  if (cur == 0 || load<u8>(cur) != T_NUMBER || !numIsI64(cur)) return 0;
  return <i32>intOut + 1;
}

export { rt_heap_base } from "./mem";
export { tracee_input, tracee_on_batch, tracee_finding } from "./tracee";
export { rt_bundle_cfg_ptr, rt_bundle_cfg_len } from "./eval";
export * from "./builtins/index";
