// JSON parser and dumper.
//
// The parser references string bytes and number text in the source buffer
// when they need no unescaping (the buffer lives in the heap below the
// evaluation's heap pointer). The dumper writes sets as arrays and non-string
// object keys as their JSON text in a string; objects and sets come out in
// sorted order because that is how they are stored.

import { malloc } from "./mem";
import { bufNew, bufByte, bufBytes, bufAscii, bufPtr, bufLen } from "./buf";
import { T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, numFromText, numFormat } from "./number";
import {
  nullV, boolV, strV, strPtr, strLen, arrNew, arrAppend, arrLen, arrGet,
  objNew, objInsert, objLen, objKey, objVal, setNew, setAdd, setLen, setGet,
} from "./value";

let pos: usize = 0;
let end: usize = 0;
let allowSets: bool = false;

@inline function peek(): u32 { return pos < end ? <u32>load<u8>(pos) : 0xffffffff; }

function skipWs(): void {
  while (pos < end) {
    let c = load<u8>(pos);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) pos++; else break;
  }
}

function hex4(p: usize): i32 {
  let r: i32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    let c = <i32>load<u8>(p + i);
    let d: i32;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    r = (r << 4) | d;
  }
  return r;
}

/** Parses a JSON string starting at the opening quote; returns a string value or 0. */
function parseString(): usize {
  pos++; // opening quote
  let start = pos;
  let escaped = false;
  while (true) {
    if (pos >= end) return 0;
    let c = load<u8>(pos);
    if (c == 0x22) break;
    if (c < 0x20) return 0;
    if (c == 0x5c) { escaped = true; pos += 2; continue; }
    pos++;
  }
  if (pos > end) return 0;
  let stop = pos;
  pos++; // closing quote
  if (!escaped) return strV(start, stop - start);
  let b = bufNew(stop - start);
  let p = start;
  while (p < stop) {
    let c = load<u8>(p);
    if (c != 0x5c) { bufByte(b, c); p++; continue; }
    if (p + 1 >= stop) return 0;
    let e = load<u8>(p + 1);
    p += 2;
    switch (e) {
      case 0x22: bufByte(b, 0x22); break;
      case 0x5c: bufByte(b, 0x5c); break;
      case 0x2f: bufByte(b, 0x2f); break;
      case 0x62: bufByte(b, 0x08); break;
      case 0x66: bufByte(b, 0x0c); break;
      case 0x6e: bufByte(b, 0x0a); break;
      case 0x72: bufByte(b, 0x0d); break;
      case 0x74: bufByte(b, 0x09); break;
      case 0x75: {
        if (p + 4 > stop) return 0;
        let u = hex4(p);
        if (u < 0) return 0;
        p += 4;
        let cp = <u32>u;
        if (cp >= 0xd800 && cp < 0xdc00) {
          // high surrogate: needs a following \uDC00-\uDFFF
          if (p + 6 <= stop && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75) {
            let lo = hex4(p + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>lo - 0xdc00);
              p += 6;
            } else cp = 0xfffd;
          } else cp = 0xfffd;
        } else if (cp >= 0xdc00 && cp < 0xe000) cp = 0xfffd;
        bufRune(b, cp);
        break;
      }
      default: return 0;
    }
  }
  return strV(bufPtr(b), bufLen(b));
}

function bufRune(b: usize, c: u32): void {
  if (c < 0x80) bufByte(b, c);
  else if (c < 0x800) { bufByte(b, 0xc0 | (c >> 6)); bufByte(b, 0x80 | (c & 0x3f)); }
  else if (c < 0x10000) { bufByte(b, 0xe0 | (c >> 12)); bufByte(b, 0x80 | ((c >> 6) & 0x3f)); bufByte(b, 0x80 | (c & 0x3f)); }
  else { bufByte(b, 0xf0 | (c >> 18)); bufByte(b, 0x80 | ((c >> 12) & 0x3f)); bufByte(b, 0x80 | ((c >> 6) & 0x3f)); bufByte(b, 0x80 | (c & 0x3f)); }
}

@inline function isDigit(c: u32): bool { return c - 0x30 < 10; }

function parseNumber(): usize {
  let start = pos;
  if (peek() == 0x2d) pos++;
  let c = peek();
  if (c == 0x30) pos++;
  else if (c >= 0x31 && c <= 0x39) { while (isDigit(peek())) pos++; }
  else return 0;
  if (peek() == 0x2e) {
    pos++;
    if (!isDigit(peek())) return 0;
    while (isDigit(peek())) pos++;
  }
  c = peek();
  if (c == 0x65 || c == 0x45) {
    pos++;
    c = peek();
    if (c == 0x2b || c == 0x2d) pos++;
    if (!isDigit(peek())) return 0;
    while (isDigit(peek())) pos++;
  }
  return numFromText(start, pos - start);
}

function lit(s: string): bool {
  let n = <usize>s.length;
  if (pos + n > end) return false;
  let sp = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) if (<u16>load<u8>(pos + i) != load<u16>(sp + (i << 1))) return false;
  pos += n;
  return true;
}

function parseValue(depth: i32): usize {
  if (depth > 1000) return 0;
  skipWs();
  let c = peek();
  switch (c) {
    case 0x7b: { // {
      pos++;
      skipWs();
      if (peek() == 0x7d) { pos++; return objNew(); }
      // Rego set literal {a, b} when allowed (opa_value_parse).
      let first = parseValue(depth + 1);
      if (!first) return 0;
      skipWs();
      if (allowSets && (peek() == 0x2c || peek() == 0x7d)) {
        let s = setNew();
        setAdd(s, first);
        while (peek() == 0x2c) {
          pos++;
          let x = parseValue(depth + 1);
          if (!x) return 0;
          setAdd(s, x);
          skipWs();
        }
        if (peek() != 0x7d) return 0;
        pos++;
        return s;
      }
      if (!allowSets && load<u8>(first) != T_STRING) return 0;
      let o = objNew();
      let key = first;
      while (true) {
        if (peek() != 0x3a) return 0;
        pos++;
        let v = parseValue(depth + 1);
        if (!v) return 0;
        objInsert(o, key, v);
        skipWs();
        if (peek() == 0x2c) {
          pos++;
          skipWs();
          if (!allowSets && peek() != 0x22) return 0;
          key = parseValue(depth + 1);
          if (!key) return 0;
          skipWs();
          continue;
        }
        if (peek() == 0x7d) { pos++; return o; }
        return 0;
      }
    }
    case 0x5b: { // [
      pos++;
      let a = arrNew(0);
      skipWs();
      if (peek() == 0x5d) { pos++; return a; }
      while (true) {
        let v = parseValue(depth + 1);
        if (!v) return 0;
        arrAppend(a, v);
        skipWs();
        if (peek() == 0x2c) { pos++; continue; }
        if (peek() == 0x5d) { pos++; return a; }
        return 0;
      }
    }
    case 0x22: return parseString();
    case 0x74: return lit("true") ? boolV(true) : 0;
    case 0x66: return lit("false") ? boolV(false) : 0;
    case 0x6e: return lit("null") ? nullV() : 0;
    case 0x73: { // set() in Rego syntax
      if (allowSets && lit("set()")) return setNew();
      return 0;
    }
    default:
      if (c == 0x2d || isDigit(c)) return parseNumber();
      return 0;
  }
}

/** Parses `len` bytes of JSON at `ptr`; 0 on error (including trailing garbage). */
export function jsonParse(ptr: usize, len: usize): usize {
  pos = ptr;
  end = ptr + len;
  allowSets = false;
  let v = parseValue(0);
  if (!v) return 0;
  skipWs();
  return pos == end ? v : 0;
}

/** Like jsonParse but also accepts Rego set literals ({1, 2}, set()). */
export function valueParse(ptr: usize, len: usize): usize {
  pos = ptr;
  end = ptr + len;
  allowSets = true;
  let v = parseValue(0);
  allowSets = false;
  if (!v) return 0;
  skipWs();
  return pos == end ? v : 0;
}

// ---- dumping ----

// @ts-ignore: decorator
@lazy const HEX: usize = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Appends `s` as a JSON string. `html` escapes <, > and & as Go's json.Marshal does. */
export function dumpStringBytes(b: usize, p: usize, n: usize, html: bool): void {
  bufByte(b, 0x22);
  let runStart = p;
  let e = p + n;
  for (let q = p; q < e; q++) {
    let c = <u32>load<u8>(q);
    let esc = c < 0x20 || c == 0x22 || c == 0x5c || (html && (c == 0x3c || c == 0x3e || c == 0x26));
    if (!esc) continue;
    if (q > runStart) bufBytes(b, runStart, q - runStart);
    runStart = q + 1;
    bufByte(b, 0x5c);
    if (c == 0x22) bufByte(b, 0x22);
    else if (c == 0x5c) bufByte(b, 0x5c);
    else if (c == 0x0a) bufByte(b, 0x6e);
    else if (c == 0x0d) bufByte(b, 0x72);
    else if (c == 0x09) bufByte(b, 0x74);
    else {
      bufAscii(b, "u00");
      bufByte(b, load<u8>(HEX + (c >> 4)));
      bufByte(b, load<u8>(HEX + (c & 15)));
    }
  }
  if (e > runStart) bufBytes(b, runStart, e - runStart);
  bufByte(b, 0x22);
}

/**
 * Appends the JSON text of `v`. In `rego` mode sets are written as
 * {..}/set(); `spaced` separates items with ", " and keys with ": " (OPA's
 * printing of values, as in template strings).
 */
export function dumpTo(b: usize, v: usize, rego: bool, html: bool, spaced: bool = false): void {
  switch (load<u8>(v)) {
    case T_NULL: bufAscii(b, "null"); return;
    case T_BOOL: bufAscii(b, load<u8>(v, 1) ? "true" : "false"); return;
    case T_NUMBER: numFormat(b, v); return;
    case T_STRING: dumpStringBytes(b, strPtr(v), strLen(v), html); return;
    case T_ARRAY: {
      bufByte(b, 0x5b);
      let n = arrLen(v);
      for (let i: usize = 0; i < n; i++) {
        if (i) { bufByte(b, 0x2c); if (spaced) bufByte(b, 0x20); }
        dumpTo(b, arrGet(v, i), rego, html, spaced);
      }
      bufByte(b, 0x5d);
      return;
    }
    case T_OBJECT: {
      bufByte(b, 0x7b);
      let n = objLen(v);
      for (let i: usize = 0; i < n; i++) {
        if (i) { bufByte(b, 0x2c); if (spaced) bufByte(b, 0x20); }
        let k = objKey(v, i);
        if (load<u8>(k) == T_STRING || rego) dumpTo(b, k, rego, html, spaced);
        else {
          let kb = bufNew(32);
          dumpTo(kb, k, rego, html, spaced);
          dumpStringBytes(b, bufPtr(kb), bufLen(kb), html);
        }
        bufByte(b, 0x3a);
        if (spaced) bufByte(b, 0x20);
        dumpTo(b, objVal(v, i), rego, html, spaced);
      }
      bufByte(b, 0x7d);
      return;
    }
    case T_SET: {
      let n = setLen(v);
      if (rego && n == 0) { bufAscii(b, "set()"); return; }
      bufByte(b, rego ? 0x7b : 0x5b);
      for (let i: usize = 0; i < n; i++) {
        if (i) { bufByte(b, 0x2c); if (spaced) bufByte(b, 0x20); }
        dumpTo(b, setGet(v, i), rego, html, spaced);
      }
      bufByte(b, rego ? 0x7d : 0x5d);
      return;
    }
  }
}

/** NUL-terminated JSON text of `v`. */
export function jsonDump(v: usize): usize {
  let b = bufNew(64);
  dumpTo(b, v, false, false);
  bufByte(b, 0);
  return bufPtr(b);
}

/** NUL-terminated Rego literal text of `v` (sets as {..}). */
export function valueDump(v: usize): usize {
  let b = bufNew(64);
  dumpTo(b, v, true, false);
  bufByte(b, 0);
  return bufPtr(b);
}
