// String builtins. Strings are UTF-8 bytes; positions and lengths are in
// code points, as in Go's OPA.

import { malloc } from "../mem";
import { bufNew, bufByte, bufBytes, bufRune, bufPtr, bufLen } from "../buf";
import { T_STRING, numInt, numToF64, fmtI64 } from "../number";
import {
  boolV, strV, strPtr, strLen, arrNew, arrAppend, arrLen, arrGet, setLen, setGet, objLen, objKey, objVal, runeCount,
} from "../value";
import { isStr, isArr, isSet, isObj, isNum, asInt, argInt, bufToStr, decodeRune, runeLen, runeOffset, bytesIndex } from "./util";

export function b_concat(delim: usize, coll: usize): usize {
  if (!isStr(delim)) return 0;
  let n: usize;
  let isA = isArr(coll);
  if (isA) n = arrLen(coll); else if (isSet(coll)) n = setLen(coll); else return 0;
  let b = bufNew(64);
  for (let i: usize = 0; i < n; i++) {
    let s = isA ? arrGet(coll, i) : setGet(coll, i);
    if (!isStr(s)) return 0;
    if (i) bufBytes(b, strPtr(delim), strLen(delim));
    bufBytes(b, strPtr(s), strLen(s));
  }
  return bufToStr(b);
}

export function b_startswith(s: usize, p: usize): usize {
  if (!isStr(s) || !isStr(p)) return 0;
  let n = strLen(p);
  return boolV(n <= strLen(s) && memory.compare(strPtr(s), strPtr(p), n) == 0);
}

export function b_endswith(s: usize, p: usize): usize {
  if (!isStr(s) || !isStr(p)) return 0;
  let n = strLen(p), m = strLen(s);
  return boolV(n <= m && memory.compare(strPtr(s) + m - n, strPtr(p), n) == 0);
}

export function b_contains(s: usize, p: usize): usize {
  if (!isStr(s) || !isStr(p)) return 0;
  return boolV(bytesIndex(strPtr(s), strLen(s), strPtr(p), strLen(p), 0) >= 0);
}

export function b_indexof(s: usize, p: usize): usize {
  if (!isStr(s) || !isStr(p)) return 0;
  let i = bytesIndex(strPtr(s), strLen(s), strPtr(p), strLen(p), 0);
  if (i < 0) return numInt(-1);
  return numInt(<i64>runeCount(strPtr(s), <usize>i));
}

export function b_substring(s: usize, start: usize, len: usize): usize {
  if (!isStr(s) || !asInt(start)) return 0;
  let st = argInt;
  if (!asInt(len)) return 0;
  let ln = argInt;
  if (st < 0) return 0;
  let p = strPtr(s), n = strLen(s);
  let a = runeOffset(p, n, <usize>st);
  if (a >= n) return strV(p, 0);
  let e = ln < 0 ? n : a + runeOffset(p + a, n - a, <usize>ln);
  return strV(p + a, e - a);
}

// Simple case mapping: ASCII, Latin-1, Latin Extended-A pairs, Greek, Cyrillic.
function toLowerRune(c: u32): u32 {
  if (c >= 0x41 && c <= 0x5a) return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;
  if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17f) {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c & 1) ? c + 1 : c;
    return (c & 1) ? c : c + 1;
  }
  if (c >= 0x391 && c <= 0x3ab && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

function toUpperRune(c: u32): u32 {
  if (c >= 0x61 && c <= 0x7a) return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 32;
  if (c == 0xff) return 0x178;
  if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17f) {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c & 1) ? c : c - 1;
    return (c & 1) ? c - 1 : c;
  }
  if (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) return c - 32;
  if (c >= 0x430 && c <= 0x44f) return c - 32;
  if (c >= 0x450 && c <= 0x45f) return c - 80;
  return c;
}

function mapCase(s: usize, upper: bool): usize {
  if (!isStr(s)) return 0;
  let p = strPtr(s), n = strLen(s), e = p + n;
  let b = bufNew(n);
  let q = p;
  while (q < e) {
    let c = load<u8>(q);
    if (c < 0x80) {
      if (upper) bufByte(b, c >= 0x61 && c <= 0x7a ? c - 32 : c);
      else bufByte(b, c >= 0x41 && c <= 0x5a ? c + 32 : c);
      q++;
      continue;
    }
    let r = decodeRune(q, e);
    let l = runeLen;
    if (r == 0xfffd && l == 1) bufByte(b, c); else bufRune(b, upper ? toUpperRune(r) : toLowerRune(r));
    q += l;
  }
  return bufToStr(b);
}

export function b_lower(s: usize): usize { return mapCase(s, false); }
export function b_upper(s: usize): usize { return mapCase(s, true); }

export function b_split(s: usize, d: usize): usize {
  if (!isStr(s) || !isStr(d)) return 0;
  let p = strPtr(s), n = strLen(s), dp = strPtr(d), dn = strLen(d);
  let r = arrNew(4);
  if (dn == 0) {
    let off: usize = 0;
    while (off < n) { decodeRune(p + off, p + n); arrAppend(r, strV(p + off, runeLen)); off += runeLen; }
    return r;
  }
  let start: usize = 0;
  while (true) {
    let i = bytesIndex(p, n, dp, dn, start);
    if (i < 0) break;
    arrAppend(r, strV(p + start, <usize>i - start));
    start = <usize>i + dn;
  }
  arrAppend(r, strV(p + start, n - start));
  return r;
}

/** Replaces up to `limit` (-1 = all) non-overlapping occurrences, Go strings.Replace semantics. */
function replaceBytes(p: usize, n: usize, op: usize, on: usize, np: usize, nn: usize, limit: i64): usize {
  let b = bufNew(n);
  if (on == 0) {
    // insert `new` before every rune and at the end
    let off: usize = 0;
    let count: i64 = 0;
    while (true) {
      if (limit >= 0 && count >= limit) { bufBytes(b, p + off, n - off); break; }
      bufBytes(b, np, nn); count++;
      if (off >= n) break;
      decodeRune(p + off, p + n);
      bufBytes(b, p + off, runeLen);
      off += runeLen;
    }
    return bufToStr(b);
  }
  let start: usize = 0;
  let count: i64 = 0;
  while (limit < 0 || count < limit) {
    let i = bytesIndex(p, n, op, on, start);
    if (i < 0) break;
    bufBytes(b, p + start, <usize>i - start);
    bufBytes(b, np, nn);
    start = <usize>i + on;
    count++;
  }
  bufBytes(b, p + start, n - start);
  return bufToStr(b);
}

export function b_replace(s: usize, old: usize, nw: usize): usize {
  if (!isStr(s) || !isStr(old) || !isStr(nw)) return 0;
  return replaceBytes(strPtr(s), strLen(s), strPtr(old), strLen(old), strPtr(nw), strLen(nw), -1);
}

/** strings.replace_n(patterns, s): Go strings.NewReplacer over the pairs in key order. */
export function b_strings__replace_n(pats: usize, s: usize): usize {
  if (!isObj(pats) || !isStr(s)) return 0;
  let m = objLen(pats);
  for (let k: usize = 0; k < m; k++) if (!isStr(objKey(pats, k)) || !isStr(objVal(pats, k))) return 0;
  let p = strPtr(s), n = strLen(s);
  let b = bufNew(n);
  let i: usize = 0;
  // An empty old string matches at every position; Go's generic replacer then
  // inserts its replacement and copies one byte.
  while (i <= n) {
    let matched = false;
    for (let k: usize = 0; k < m; k++) {
      let o = objKey(pats, k);
      let on = strLen(o);
      if (i + on <= n && memory.compare(p + i, strPtr(o), on) == 0) {
        let v = objVal(pats, k);
        bufBytes(b, strPtr(v), strLen(v));
        if (on == 0) { if (i < n) bufByte(b, load<u8>(p + i)); i++; }
        else i += on;
        matched = true;
        break;
      }
    }
    if (!matched) { if (i < n) bufByte(b, load<u8>(p + i)); i++; }
  }
  return bufToStr(b);
}

function inCutset(c: u32, cp: usize, cn: usize): bool {
  let off: usize = 0;
  while (off < cn) {
    let r = decodeRune(cp + off, cp + cn);
    if (r == c) return true;
    off += runeLen;
  }
  return false;
}

function trimImpl(s: usize, cut: usize, left: bool, right: bool): usize {
  if (!isStr(s) || !isStr(cut)) return 0;
  let p = strPtr(s), n = strLen(s), cp = strPtr(cut), cn = strLen(cut);
  let a: usize = 0, e = n;
  if (left) {
    while (a < e) {
      let r = decodeRune(p + a, p + e);
      if (!inCutset(r, cp, cn)) break;
      a += runeLen;
    }
  }
  if (right) {
    while (e > a) {
      // step back one rune
      let q = e - 1;
      while (q > a && (load<u8>(p + q) & 0xc0) == 0x80) q--;
      let r = decodeRune(p + q, p + e);
      if (q + runeLen != e) { r = 0xfffd; }
      if (!inCutset(r, cp, cn)) break;
      e = q;
    }
  }
  return strV(p + a, e - a);
}

export function b_trim(s: usize, c: usize): usize { return trimImpl(s, c, true, true); }
export function b_trim_left(s: usize, c: usize): usize { return trimImpl(s, c, true, false); }
export function b_trim_right(s: usize, c: usize): usize { return trimImpl(s, c, false, true); }

export function b_trim_prefix(s: usize, pre: usize): usize {
  if (!isStr(s) || !isStr(pre)) return 0;
  let n = strLen(pre), m = strLen(s);
  if (n <= m && memory.compare(strPtr(s), strPtr(pre), n) == 0) return strV(strPtr(s) + n, m - n);
  return s;
}

export function b_trim_suffix(s: usize, suf: usize): usize {
  if (!isStr(s) || !isStr(suf)) return 0;
  let n = strLen(suf), m = strLen(s);
  if (n <= m && memory.compare(strPtr(s) + m - n, strPtr(suf), n) == 0) return strV(strPtr(s), m - n);
  return s;
}

function isSpaceRune(c: u32): bool {
  if (c == 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  if (c < 0x80) return false;
  return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

export function b_trim_space(s: usize): usize {
  if (!isStr(s)) return 0;
  let p = strPtr(s), n = strLen(s);
  let a: usize = 0, e = n;
  while (a < e) { let r = decodeRune(p + a, p + e); if (!isSpaceRune(r)) break; a += runeLen; }
  while (e > a) {
    let q = e - 1;
    while (q > a && (load<u8>(p + q) & 0xc0) == 0x80) q--;
    let r = decodeRune(p + q, p + e);
    if (!isSpaceRune(r)) break;
    e = q;
  }
  return strV(p + a, e - a);
}

// @ts-ignore: decorator
@lazy const DIGITS: usize = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

export function b_format_int(x: usize, base: usize): usize {
  if (!isNum(x) || !asInt(base)) return 0;
  let bs = argInt;
  if (bs != 2 && bs != 8 && bs != 10 && bs != 16) return 0;
  let f = numToF64(x);
  let t = f < 0 ? Math.ceil(f) : Math.floor(f);
  let v: i64;
  if (asInt(x)) v = argInt; else v = <i64>t;
  let neg = v < 0;
  let u: u64 = neg ? <u64>(-v) : <u64>v;
  let tmp = malloc(72);
  let k: usize = 72;
  if (u == 0) { k--; store<u8>(tmp + k, 48); }
  while (u > 0) { k--; store<u8>(tmp + k, load<u8>(DIGITS + <usize>(u % <u64>bs))); u /= <u64>bs; }
  if (neg) { k--; store<u8>(tmp + k, 45); }
  return strV(tmp + k, 72 - k);
}
