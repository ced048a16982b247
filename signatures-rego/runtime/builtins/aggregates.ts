// Aggregates (count, sum, product, max, min, sort, all, any), set operators
// and membership.

import { T_NUMBER, T_BOOL, T_STRING, numInt, numToF64 } from "../number";
import {
  boolV, compare, length, arrNew, arrAppend, arrLen, arrGet, setNew, setAdd, setLen, setGet, setFind,
  objLen, objVal, objGet,
} from "../value";
import { b_plus, b_mul } from "./arith";
import { isArr, isSet, isObj, isStr } from "./util";

/** Elements of an array or set (by index); 0 for other types. */
function elems(v: usize): usize {
  if (isArr(v) || isSet(v)) return v;
  return 0;
}
@inline function elemAt(v: usize, i: usize): usize { return isArr(v) ? arrGet(v, i) : setGet(v, i); }
@inline function elemLen(v: usize): usize { return load<u32>(v, 4); }

export function b_count(v: usize): usize {
  if (isArr(v) || isSet(v) || isObj(v) || isStr(v)) return numInt(<i64>length(v));
  return 0;
}

export function b_sum(v: usize): usize {
  if (!elems(v)) return 0;
  let acc = numInt(0);
  let n = elemLen(v);
  for (let i: usize = 0; i < n; i++) {
    let x = elemAt(v, i);
    if (load<u8>(x) != T_NUMBER) return 0;
    acc = b_plus(acc, x);
  }
  return acc;
}

export function b_product(v: usize): usize {
  if (!elems(v)) return 0;
  let acc = numInt(1);
  let n = elemLen(v);
  for (let i: usize = 0; i < n; i++) {
    let x = elemAt(v, i);
    if (load<u8>(x) != T_NUMBER) return 0;
    acc = b_mul(acc, x);
  }
  return acc;
}

export function b_max(v: usize): usize {
  if (!elems(v)) return 0;
  let n = elemLen(v);
  if (n == 0) return 0;
  let m = elemAt(v, 0);
  for (let i: usize = 1; i < n; i++) { let x = elemAt(v, i); if (compare(x, m) > 0) m = x; }
  return m;
}

export function b_min(v: usize): usize {
  if (!elems(v)) return 0;
  let n = elemLen(v);
  if (n == 0) return 0;
  let m = elemAt(v, 0);
  for (let i: usize = 1; i < n; i++) { let x = elemAt(v, i); if (compare(x, m) < 0) m = x; }
  return m;
}

export function b_sort(v: usize): usize {
  if (!elems(v)) return 0;
  let n = elemLen(v);
  let r = arrNew(n);
  for (let i: usize = 0; i < n; i++) arrAppend(r, elemAt(v, i));
  if (isSet(v)) return r; // already sorted
  // insertion sort into place (stable); merge sort for larger arrays
  sortValues(load<usize>(r, 12), n);
  return r;
}

/** Sorts `n` value pointers at `p` in Rego order (merge sort). */
export function sortValues(p: usize, n: usize): void {
  if (n < 2) return;
  if (n <= 16) {
    for (let i: usize = 1; i < n; i++) {
      let x = load<usize>(p + (i << 2));
      let j = i;
      while (j > 0 && compare(load<usize>(p + ((j - 1) << 2)), x) > 0) {
        store<usize>(p + (j << 2), load<usize>(p + ((j - 1) << 2)));
        j--;
      }
      store<usize>(p + (j << 2), x);
    }
    return;
  }
  let h = n >> 1;
  sortValues(p, h);
  sortValues(p + (h << 2), n - h);
  let tmp = heap_tmp(n);
  let i: usize = 0, j = h, k: usize = 0;
  while (i < h && j < n) {
    let a = load<usize>(p + (i << 2)), b = load<usize>(p + (j << 2));
    if (compare(a, b) <= 0) { store<usize>(tmp + (k << 2), a); i++; } else { store<usize>(tmp + (k << 2), b); j++; }
    k++;
  }
  while (i < h) { store<usize>(tmp + (k << 2), load<usize>(p + (i << 2))); i++; k++; }
  while (j < n) { store<usize>(tmp + (k << 2), load<usize>(p + (j << 2))); j++; k++; }
  memory.copy(p, tmp, n << 2);
}

import { malloc } from "../mem";
function heap_tmp(n: usize): usize { return malloc(n << 2); }

export function b_all(v: usize): usize {
  if (!elems(v)) return 0;
  let n = elemLen(v);
  for (let i: usize = 0; i < n; i++) {
    let x = elemAt(v, i);
    if (load<u8>(x) != T_BOOL || load<u8>(x, 1) == 0) return boolV(false);
  }
  return boolV(true);
}

export function b_any(v: usize): usize {
  if (!elems(v)) return 0;
  let n = elemLen(v);
  for (let i: usize = 0; i < n; i++) {
    let x = elemAt(v, i);
    if (load<u8>(x) == T_BOOL && load<u8>(x, 1) != 0) return boolV(true);
  }
  return boolV(false);
}

// ---- sets ----

export function b_and(a: usize, b: usize): usize {
  if (!isSet(a) || !isSet(b)) return 0;
  let r = setNew();
  let n = setLen(a);
  for (let i: usize = 0; i < n; i++) { let x = setGet(a, i); if (setFind(b, x) >= 0) setAdd(r, x); }
  return r;
}

export function b_or(a: usize, b: usize): usize {
  if (!isSet(a) || !isSet(b)) return 0;
  let r = setNew();
  let n = setLen(a);
  for (let i: usize = 0; i < n; i++) setAdd(r, setGet(a, i));
  n = setLen(b);
  for (let i: usize = 0; i < n; i++) setAdd(r, setGet(b, i));
  return r;
}

export function b_intersection(s: usize): usize {
  if (!isSet(s)) return 0;
  let n = setLen(s);
  if (n == 0) return setNew();
  let acc = setGet(s, 0);
  if (!isSet(acc)) return 0;
  for (let i: usize = 1; i < n; i++) {
    let x = setGet(s, i);
    if (!isSet(x)) return 0;
    acc = b_and(acc, x);
  }
  return acc;
}

export function b_union(s: usize): usize {
  if (!isSet(s)) return 0;
  let r = setNew();
  let n = setLen(s);
  for (let i: usize = 0; i < n; i++) {
    let x = setGet(s, i);
    if (!isSet(x)) return 0;
    let m = setLen(x);
    for (let j: usize = 0; j < m; j++) setAdd(r, setGet(x, j));
  }
  return r;
}

// ---- membership (`in`) ----

export function b_internal__member_2(x: usize, c: usize): usize {
  if (isSet(c)) return boolV(setFind(c, x) >= 0);
  if (isArr(c)) {
    let n = arrLen(c);
    for (let i: usize = 0; i < n; i++) if (compare(arrGet(c, i), x) == 0) return boolV(true);
    return boolV(false);
  }
  if (isObj(c)) {
    let n = objLen(c);
    for (let i: usize = 0; i < n; i++) if (compare(objVal(c, i), x) == 0) return boolV(true);
    return boolV(false);
  }
  return boolV(false);
}

export function b_internal__member_3(k: usize, x: usize, c: usize): usize {
  if (isObj(c)) { let v = objGet(c, k); return boolV(v != 0 && compare(v, x) == 0); }
  if (isArr(c)) {
    if (load<u8>(k) != T_NUMBER) return boolV(false);
    let f = numToF64(k);
    if (f != Math.floor(f) || f < 0 || f >= <f64>arrLen(c)) return boolV(false);
    return boolV(compare(arrGet(c, <usize>f), x) == 0);
  }
  if (isSet(c)) return boolV(setFind(c, k) >= 0 && compare(k, x) == 0);
  return boolV(false);
}
