// Numbers: 64-bit integers, doubles, and "ref" numbers that keep their
// decimal text (integers beyond 64 bits and values beyond double range).
//
//  Number (16 bytes): | tag=3 u8 | repr u8 | pad | @4 len u32 (ref) | @8 i64 / f64 / text ptr |

import { malloc } from "./mem";
import { bufAscii, bufBytes, bufByte, bufReserve } from "./buf";
import { strtod } from "~lib/util/string";
import { dtoa_buffered, itoa_buffered } from "~lib/util/number";

export const T_NULL: u8 = 1;
export const T_BOOL: u8 = 2;
export const T_NUMBER: u8 = 3;
export const T_STRING: u8 = 4;
export const T_ARRAY: u8 = 5;
export const T_OBJECT: u8 = 6;
export const T_SET: u8 = 7;

export const R_INT: u8 = 1;
export const R_FLOAT: u8 = 2;
export const R_REF: u8 = 3;

@inline export function tagOf(v: usize): u8 { return load<u8>(v); }
@inline export function numRepr(v: usize): u8 { return load<u8>(v, 1); }
@inline export function numI64(v: usize): i64 { return load<i64>(v, 8); }
@inline export function numF64Raw(v: usize): f64 { return load<f64>(v, 8); }

export function numInt(i: i64): usize {
  let v = malloc(16);
  store<u16>(v, <u16>T_NUMBER | (<u16>R_INT << 8));
  store<i64>(v, i, 8);
  return v;
}

const TWO53: f64 = 9007199254740992.0;

/** A double; integral values within ±2^53 are stored as integers. */
export function numFloat(f: f64): usize {
  if (f == Math.floor(f) && Math.abs(f) < TWO53) return numInt(<i64>f);
  let v = malloc(16);
  store<u16>(v, <u16>T_NUMBER | (<u16>R_FLOAT << 8));
  store<f64>(v, f, 8);
  return v;
}

function numRefRaw(ptr: usize, len: usize): usize {
  let v = malloc(16);
  store<u16>(v, <u16>T_NUMBER | (<u16>R_REF << 8));
  store<u32>(v, <u32>len, 4);
  store<usize>(v, ptr, 8);
  return v;
}

// Scratch AS string for strtod: 4-byte rtSize header then UTF-16 code units.
const SCRATCH_CHARS: usize = 400;
// @ts-ignore: decorator
@lazy const scratch: usize = memory.data(<i32>(8 + <i32>SCRATCH_CHARS * 2), 8);

/** Parses decimal text (JSON number syntax, already validated) to a double. */
export function parseF64(ptr: usize, len: usize): f64 {
  if (len > SCRATCH_CHARS) len = SCRATCH_CHARS;
  let s = scratch + 8;
  store<u32>(s - 4, <u32>(len << 1));
  for (let i: usize = 0; i < len; i++) store<u16>(s + (i << 1), <u16>load<u8>(ptr + i));
  return strtod(changetype<string>(s));
}

/** Builds a number from validated JSON-number text; the text is referenced, not copied. */
export function numFromText(ptr: usize, len: usize): usize {
  let integral = true;
  for (let i: usize = 0; i < len; i++) {
    let c = load<u8>(ptr + i);
    if (c == 0x2e || c == 0x65 || c == 0x45) { integral = false; break; }
  }
  if (integral) {
    let neg = load<u8>(ptr) == 0x2d;
    let i: usize = neg ? 1 : 0;
    let acc: u64 = 0;
    let ok = true;
    for (; i < len; i++) {
      let d = <u64>(load<u8>(ptr + i) - 0x30);
      if (acc > (<u64>0x7fffffffffffffff - d) / 10) { ok = false; break; }
      acc = acc * 10 + d;
    }
    if (ok) return numInt(neg ? -<i64>acc : <i64>acc);
    return numRefRaw(ptr, len);
  }
  let f = parseF64(ptr, len);
  if (!isFinite(f)) return numRefRaw(ptr, len);
  return numFloat(f);
}

/** The number's value as a double (ref numbers are parsed). */
export function numToF64(v: usize): f64 {
  let r = numRepr(v);
  if (r == R_INT) return <f64>numI64(v);
  if (r == R_FLOAT) return numF64Raw(v);
  return parseF64(load<usize>(v, 8), load<u32>(v, 4));
}

/** True if the number is an integer that fits in i64; the value is left in `intOut`. */
export let intOut: i64 = 0;
export function numIsI64(v: usize): bool {
  let r = numRepr(v);
  if (r == R_INT) { intOut = numI64(v); return true; }
  if (r == R_FLOAT) {
    let f = numF64Raw(v);
    if (f == Math.floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) { intOut = <i64>f; return true; }
  }
  return false;
}

/** True if the number is integral (any magnitude). */
export function numIsIntegral(v: usize): bool {
  let r = numRepr(v);
  if (r == R_INT) return true;
  if (r == R_FLOAT) { let f = numF64Raw(v); return f == Math.floor(f); }
  // ref: integral text or a huge exponent
  let p = load<usize>(v, 8), n = <usize>load<u32>(v, 4);
  for (let i: usize = 0; i < n; i++) {
    let c = load<u8>(p + i);
    if (c == 0x2e || c == 0x65 || c == 0x45) return isFinite(numToF64(v)) ? numToF64(v) == Math.floor(numToF64(v)) : true;
  }
  return true;
}

// Compares two integer texts (optional '-', digits) numerically.
function cmpIntText(ap: usize, an: usize, bp: usize, bn: usize): i32 {
  let aneg = load<u8>(ap) == 0x2d, bneg = load<u8>(bp) == 0x2d;
  if (aneg != bneg) return aneg ? -1 : 1;
  if (aneg) { ap++; an--; bp++; bn--; }
  while (an > 1 && load<u8>(ap) == 0x30) { ap++; an--; }
  while (bn > 1 && load<u8>(bp) == 0x30) { bp++; bn--; }
  let c: i32 = 0;
  if (an != bn) c = an < bn ? -1 : 1;
  else {
    for (let i: usize = 0; i < an; i++) {
      let x = load<u8>(ap + i), y = load<u8>(bp + i);
      if (x != y) { c = x < y ? -1 : 1; break; }
    }
  }
  return aneg ? -c : c;
}

function refIsIntText(v: usize): bool {
  let p = load<usize>(v, 8), n = <usize>load<u32>(v, 4);
  for (let i: usize = 0; i < n; i++) {
    let c = load<u8>(p + i);
    if (c == 0x2e || c == 0x65 || c == 0x45) return false;
  }
  return true;
}

/** Numeric comparison: -1, 0, 1. */
export function numCompare(a: usize, b: usize): i32 {
  let ra = numRepr(a), rb = numRepr(b);
  if (ra == R_INT && rb == R_INT) {
    let x = numI64(a), y = numI64(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ra == R_REF && rb == R_REF && refIsIntText(a) && refIsIntText(b)) {
    return cmpIntText(load<usize>(a, 8), load<u32>(a, 4), load<usize>(b, 8), load<u32>(b, 4));
  }
  if (ra == R_REF && rb == R_INT && refIsIntText(a)) return load<u8>(load<usize>(a, 8)) == 0x2d ? -1 : 1;
  if (rb == R_REF && ra == R_INT && refIsIntText(b)) return load<u8>(load<usize>(b, 8)) == 0x2d ? 1 : -1;
  let x = numToF64(a), y = numToF64(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

// @ts-ignore: decorator
@lazy const fmtScratch: usize = memory.data(128, 8);

/** Appends the number's canonical text. */
export function numFormat(b: usize, v: usize): void {
  let r = numRepr(v);
  if (r == R_INT) { fmtI64(b, numI64(v)); return; }
  if (r == R_REF) { bufBytes(b, load<usize>(v, 8), load<u32>(v, 4)); return; }
  fmtF64(b, numF64Raw(v));
}

export function fmtI64(b: usize, i: i64): void {
  let n = itoa_buffered<i64>(fmtScratch, i);
  let p = bufReserve(b, n);
  for (let k: u32 = 0; k < n; k++) store<u8>(p + k, <u8>load<u16>(fmtScratch + (k << 1)));
  store<usize>(b, load<usize>(b, 4) + n, 4);
}

export function fmtF64(b: usize, f: f64): void {
  if (!isFinite(f)) { bufAscii(b, isNaN(f) ? "null" : (f > 0 ? "1e+400" : "-1e+400")); return; }
  let n = dtoa_buffered<f64>(fmtScratch, f);
  // Drop a trailing ".0" (Go prints integral floats without it).
  if (n >= 2 && load<u16>(fmtScratch + ((n - 1) << 1)) == 0x30 && load<u16>(fmtScratch + ((n - 2) << 1)) == 0x2e) n -= 2;
  for (let k: u32 = 0; k < n; k++) bufByte(b, load<u16>(fmtScratch + (k << 1)));
}
