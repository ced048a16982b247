// The value model: null, boolean, number, string, array, object, set.
//
// Every value starts with a one-byte type tag (number.ts). Objects and sets
// are kept sorted in Rego's total order, so lookups are binary searches,
// iteration is in sorted order and dumps need no sorting.
//
//  Null    (4):  | 1 |
//  Boolean (4):  | 2 | b u8 |
//  String (12):  | 4 | pad | @4 len u32 | @8 bytes ptr |      (UTF-8, not NUL-terminated)
//  Array  (16):  | 5 | pad | @4 len u32 | @8 cap u32 | @12 elems ptr (u32 value ptrs) |
//  Object (20):  | 6 | pad | @4 len u32 | @8 cap u32 | @12 keys ptr | @16 values ptr |
//  Set    (16):  | 7 | pad | @4 len u32 | @8 cap u32 | @12 elems ptr |

import { malloc } from "./mem";
import {
  T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET,
  numCompare, numInt, numIsI64, intOut,
} from "./number";

// @ts-ignore: decorator
@lazy const NULL_V: usize = memory.data<u8>([1, 0, 0, 0]);
// @ts-ignore: decorator
@lazy const TRUE_V: usize = memory.data<u8>([2, 1, 0, 0]);
// @ts-ignore: decorator
@lazy const FALSE_V: usize = memory.data<u8>([2, 0, 0, 0]);

export function nullV(): usize { return NULL_V; }
export function boolV(b: bool): usize { return b ? TRUE_V : FALSE_V; }
@inline export function boolOf(v: usize): bool { return load<u8>(v, 1) != 0; }

// ---- strings ----

export function strV(ptr: usize, len: usize): usize {
  let v = malloc(12);
  store<u32>(v, <u32>T_STRING);
  store<u32>(v, <u32>len, 4);
  store<usize>(v, ptr, 8);
  return v;
}

/** A string value with its own copy of the bytes. */
export function strCopy(ptr: usize, len: usize): usize {
  let v = malloc(12 + len);
  memory.copy(v + 12, ptr, len);
  store<u32>(v, <u32>T_STRING);
  store<u32>(v, <u32>len, 4);
  store<usize>(v, v + 12, 8);
  return v;
}

/** A string value for an ASCII AS string literal. */
export function strAscii(s: string): usize {
  let n = <usize>s.length;
  let v = malloc(12 + n);
  let sp = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) store<u8>(v + 12 + i, <u8>load<u16>(sp + (i << 1)));
  store<u32>(v, <u32>T_STRING);
  store<u32>(v, <u32>n, 4);
  store<usize>(v, v + 12, 8);
  return v;
}

@inline export function strLen(v: usize): usize { return load<u32>(v, 4); }
@inline export function strPtr(v: usize): usize { return load<usize>(v, 8); }

export function bytesCompare(ap: usize, an: usize, bp: usize, bn: usize): i32 {
  let n = an < bn ? an : bn;
  let i: usize = 0;
  if (ap != bp) {
    // 8 bytes at a time until they differ
    while (i + 8 <= n && load<u64>(ap + i) == load<u64>(bp + i)) i += 8;
  } else i = n;
  for (; i < n; i++) {
    let x = load<u8>(ap + i), y = load<u8>(bp + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return an < bn ? -1 : (an > bn ? 1 : 0);
}

/** True if the string value equals the ASCII literal. */
export function strIs(v: usize, s: string): bool {
  let n = <usize>s.length;
  if (strLen(v) != n) return false;
  let p = strPtr(v), sp = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) if (<u16>load<u8>(p + i) != load<u16>(sp + (i << 1))) return false;
  return true;
}

// ---- arrays ----

export function arrNew(cap: usize): usize {
  let v = malloc(16);
  store<u32>(v, <u32>T_ARRAY);
  store<u32>(v, 0, 4);
  store<u32>(v, <u32>cap, 8);
  store<usize>(v, cap ? malloc(cap << 2) : 0, 12);
  return v;
}
@inline export function arrLen(v: usize): usize { return load<u32>(v, 4); }
@inline export function arrGet(v: usize, i: usize): usize { return load<usize>(load<usize>(v, 12) + (i << 2)); }

export function arrAppend(a: usize, x: usize): void {
  let n = <usize>load<u32>(a, 4), cap = <usize>load<u32>(a, 8);
  if (n == cap) {
    let ncap: usize = cap < 4 ? <usize>4 : cap << 1;
    let ne = malloc(ncap << 2);
    if (n) memory.copy(ne, load<usize>(a, 12), n << 2);
    store<usize>(a, ne, 12);
    store<u32>(a, <u32>ncap, 8);
  }
  store<usize>(load<usize>(a, 12) + (n << 2), x);
  store<u32>(a, <u32>(n + 1), 4);
}

// ---- objects ----

export function objNew(): usize {
  let v = malloc(20);
  store<u32>(v, <u32>T_OBJECT);
  store<u32>(v, 0, 4);
  store<u32>(v, 0, 8);
  store<usize>(v, 0, 12);
  store<usize>(v, 0, 16);
  return v;
}
@inline export function objLen(v: usize): usize { return load<u32>(v, 4); }
@inline export function objKey(v: usize, i: usize): usize { return load<usize>(load<usize>(v, 12) + (i << 2)); }
@inline export function objVal(v: usize, i: usize): usize { return load<usize>(load<usize>(v, 16) + (i << 2)); }

/** Index of `key`, or -(insertion point) - 1. */
export function objFind(o: usize, key: usize): i32 {
  let lo: i32 = 0, hi: i32 = <i32>load<u32>(o, 4) - 1;
  let keys = load<usize>(o, 12);
  if (load<u8>(key) == T_STRING) {
    // string keys (the common case): compare bytes without the generic dispatch
    let kp = strPtr(key), kn = strLen(key);
    if (hi < 8) {
      // small objects: an equality scan (length first) finds present keys fastest
      for (let i: i32 = 0; i <= hi; i++) {
        let x = load<usize>(keys + (<usize>i << 2));
        if (x == key) return i;
        if (load<u8>(x) == T_STRING && strLen(x) == kn && (strPtr(x) == kp || memory.compare(strPtr(x), kp, kn) == 0)) return i;
      }
    }
    while (lo <= hi) {
      let mid = (lo + hi) >>> 1;
      let x = load<usize>(keys + (<usize>mid << 2));
      let c: i32;
      let tx = load<u8>(x);
      if (tx != T_STRING) c = tx < T_STRING ? -1 : 1;
      else c = x == key ? 0 : bytesCompare(strPtr(x), strLen(x), kp, kn);
      if (c == 0) return mid;
      if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -lo - 1;
  }
  while (lo <= hi) {
    let mid = (lo + hi) >>> 1;
    let c = compare(load<usize>(keys + (<usize>mid << 2)), key);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1; else hi = mid - 1;
  }
  return -lo - 1;
}

export function objGet(o: usize, key: usize): usize {
  let i = objFind(o, key);
  return i >= 0 ? objVal(o, <usize>i) : 0;
}

function objGrow(o: usize): void {
  let n = <usize>load<u32>(o, 4), cap = <usize>load<u32>(o, 8);
  if (n < cap) return;
  let ncap: usize = cap < 4 ? <usize>4 : cap << 1;
  let nk = malloc(ncap << 2), nv = malloc(ncap << 2);
  if (n) { memory.copy(nk, load<usize>(o, 12), n << 2); memory.copy(nv, load<usize>(o, 16), n << 2); }
  store<usize>(o, nk, 12);
  store<usize>(o, nv, 16);
  store<u32>(o, <u32>ncap, 8);
}

/** Inserts or replaces `key`. */
export function objInsert(o: usize, key: usize, val: usize): void {
  let n = <usize>load<u32>(o, 4);
  let pos: usize;
  if (n == 0 || compare(objKey(o, n - 1), key) < 0) pos = n;
  else {
    let i = objFind(o, key);
    if (i >= 0) { store<usize>(load<usize>(o, 16) + (<usize>i << 2), val); return; }
    pos = <usize>(-i - 1);
  }
  objGrow(o);
  let keys = load<usize>(o, 12), vals = load<usize>(o, 16);
  if (pos < n) {
    memory.copy(keys + ((pos + 1) << 2), keys + (pos << 2), (n - pos) << 2);
    memory.copy(vals + ((pos + 1) << 2), vals + (pos << 2), (n - pos) << 2);
  }
  store<usize>(keys + (pos << 2), key);
  store<usize>(vals + (pos << 2), val);
  store<u32>(o, <u32>(n + 1), 4);
}

/** Removes `key` if present (in place). */
export function objRemove(o: usize, key: usize): void {
  let i = objFind(o, key);
  if (i < 0) return;
  let n = <usize>load<u32>(o, 4), p = <usize>i;
  let keys = load<usize>(o, 12), vals = load<usize>(o, 16);
  memory.copy(keys + (p << 2), keys + ((p + 1) << 2), (n - p - 1) << 2);
  memory.copy(vals + (p << 2), vals + ((p + 1) << 2), (n - p - 1) << 2);
  store<u32>(o, <u32>(n - 1), 4);
}

// ---- sets ----

export function setNew(): usize {
  let v = malloc(16);
  store<u32>(v, <u32>T_SET);
  store<u32>(v, 0, 4);
  store<u32>(v, 0, 8);
  store<usize>(v, 0, 12);
  return v;
}
@inline export function setLen(v: usize): usize { return load<u32>(v, 4); }
@inline export function setGet(v: usize, i: usize): usize { return load<usize>(load<usize>(v, 12) + (i << 2)); }

export function setFind(s: usize, x: usize): i32 {
  let lo: i32 = 0, hi: i32 = <i32>load<u32>(s, 4) - 1;
  let el = load<usize>(s, 12);
  while (lo <= hi) {
    let mid = (lo + hi) >>> 1;
    let c = compare(load<usize>(el + (<usize>mid << 2)), x);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1; else hi = mid - 1;
  }
  return -lo - 1;
}

export function setAdd(s: usize, x: usize): void {
  let n = <usize>load<u32>(s, 4);
  let pos: usize;
  if (n == 0 || compare(setGet(s, n - 1), x) < 0) pos = n;
  else {
    let i = setFind(s, x);
    if (i >= 0) return;
    pos = <usize>(-i - 1);
  }
  let cap = <usize>load<u32>(s, 8);
  if (n == cap) {
    let ncap: usize = cap < 4 ? <usize>4 : cap << 1;
    let ne = malloc(ncap << 2);
    if (n) memory.copy(ne, load<usize>(s, 12), n << 2);
    store<usize>(s, ne, 12);
    store<u32>(s, <u32>ncap, 8);
  }
  let el = load<usize>(s, 12);
  if (pos < n) memory.copy(el + ((pos + 1) << 2), el + (pos << 2), (n - pos) << 2);
  store<usize>(el + (pos << 2), x);
  store<u32>(s, <u32>(n + 1), 4);
}

// ---- generic operations ----

/** Rego's total order: null < boolean < number < string < array < object < set. */
export function compare(a: usize, b: usize): i32 {
  if (a == b) return 0;
  if (a == 0) return -1;
  if (b == 0) return 1;
  let ta = load<u8>(a), tb = load<u8>(b);
  if (ta != tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case T_NULL: return 0;
    case T_BOOL: {
      let x = load<u8>(a, 1), y = load<u8>(b, 1);
      return x == y ? 0 : (x < y ? -1 : 1);
    }
    case T_NUMBER: return numCompare(a, b);
    case T_STRING: return bytesCompare(strPtr(a), strLen(a), strPtr(b), strLen(b));
    case T_ARRAY: {
      let n = arrLen(a), m = arrLen(b);
      let k = n < m ? n : m;
      for (let i: usize = 0; i < k; i++) {
        let c = compare(arrGet(a, i), arrGet(b, i));
        if (c != 0) return c;
      }
      return n < m ? -1 : (n > m ? 1 : 0);
    }
    case T_OBJECT: {
      let n = objLen(a), m = objLen(b);
      let k = n < m ? n : m;
      for (let i: usize = 0; i < k; i++) {
        let c = compare(objKey(a, i), objKey(b, i));
        if (c != 0) return c;
        c = compare(objVal(a, i), objVal(b, i));
        if (c != 0) return c;
      }
      return n < m ? -1 : (n > m ? 1 : 0);
    }
    case T_SET: {
      let n = setLen(a), m = setLen(b);
      let k = n < m ? n : m;
      for (let i: usize = 0; i < k; i++) {
        let c = compare(setGet(a, i), setGet(b, i));
        if (c != 0) return c;
      }
      return n < m ? -1 : (n > m ? 1 : 0);
    }
  }
  return 0;
}

/** v[key]: object member, array element (integral number key), set member; else 0. */
export function get(v: usize, key: usize): usize {
  if (v == 0 || key == 0) return 0;
  let t = load<u8>(v);
  if (t == T_OBJECT) return objGet(v, key);
  if (t == T_ARRAY) {
    if (load<u8>(key) != T_NUMBER || !numIsI64(key)) return 0;
    let i = intOut;
    if (i < 0 || i >= <i64>arrLen(v)) return 0;
    return arrGet(v, <usize>i);
  }
  if (t == T_SET) {
    let i = setFind(v, key);
    return i >= 0 ? setGet(v, <usize>i) : 0;
  }
  return 0;
}

/** Number of elements (code points for strings). */
export function length(v: usize): usize {
  let t = load<u8>(v);
  if (t == T_ARRAY || t == T_OBJECT || t == T_SET) return load<u32>(v, 4);
  if (t == T_STRING) return runeCount(strPtr(v), strLen(v));
  return 0;
}

/** Code points in UTF-8 bytes; each invalid byte counts as one (Go's utf8.RuneCount). */
export function runeCount(p: usize, n: usize): usize {
  let c: usize = 0, i: usize = 0;
  while (i < n) {
    let b = <u32>load<u8>(p + i);
    let l: usize = 1;
    if (b >= 0x80) {
      let need: usize = (b & 0xe0) == 0xc0 && b >= 0xc2 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 && b <= 0xf4 ? 4 : 1;
      if (need > 1 && i + need <= n) {
        let ok = true;
        for (let k: usize = 1; k < need; k++) if ((load<u8>(p + i + k) & 0xc0) != 0x80) { ok = false; break; }
        if (ok) l = need;
      }
    }
    i += l;
    c++;
  }
  return c;
}

/** Key at cursor `i` of a collection, or 0 past the end / for scalars. */
export function iterKey(v: usize, i: usize): usize {
  if (v == 0) return 0;
  let t = load<u8>(v);
  if (t < T_ARRAY || i >= <usize>load<u32>(v, 4)) return 0;
  if (t == T_ARRAY) return numInt(<i64>i);
  return load<usize>(load<usize>(v, 12) + (i << 2));
}

/** Value at cursor `i` (call only after iterKey returned non-zero). */
export function iterVal(v: usize, i: usize): usize {
  let t = load<u8>(v);
  if (t == T_OBJECT) return objVal(v, i);
  return load<usize>(load<usize>(v, 12) + (i << 2));
}

/** Shallow copy of a collection (scalars are returned as is). */
export function shallowCopy(v: usize): usize {
  let t = load<u8>(v);
  if (t == T_ARRAY) {
    let n = arrLen(v);
    let r = arrNew(n);
    if (n) memory.copy(load<usize>(r, 12), load<usize>(v, 12), n << 2);
    store<u32>(r, <u32>n, 4);
    return r;
  }
  if (t == T_OBJECT) {
    let n = objLen(v);
    let r = objNew();
    if (n) {
      let k = malloc(n << 2), vv = malloc(n << 2);
      memory.copy(k, load<usize>(v, 12), n << 2);
      memory.copy(vv, load<usize>(v, 16), n << 2);
      store<usize>(r, k, 12); store<usize>(r, vv, 16);
      store<u32>(r, <u32>n, 4); store<u32>(r, <u32>n, 8);
    }
    return r;
  }
  if (t == T_SET) {
    let n = setLen(v);
    let r = setNew();
    if (n) {
      let e = malloc(n << 2);
      memory.copy(e, load<usize>(v, 12), n << 2);
      store<usize>(r, e, 12);
      store<u32>(r, <u32>n, 4); store<u32>(r, <u32>n, 8);
    }
    return r;
  }
  return v;
}

/** Deep merge of objects; `a` wins for non-object conflicts. */
export function merge(a: usize, b: usize): usize {
  if (a == 0) return b;
  if (b == 0) return a;
  if (load<u8>(a) != T_OBJECT || load<u8>(b) != T_OBJECT) return a;
  let r = objNew();
  let n = objLen(a);
  for (let i: usize = 0; i < n; i++) {
    let k = objKey(a, i);
    let other = objGet(b, k);
    objInsert(r, k, other ? merge(objVal(a, i), other) : objVal(a, i));
  }
  let m = objLen(b);
  for (let i: usize = 0; i < m; i++) {
    let k = objKey(b, i);
    if (objFind(a, k) < 0) objInsert(r, k, objVal(b, i));
  }
  return r;
}
