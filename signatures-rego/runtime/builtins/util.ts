// Shared helpers for builtins.

import { T_NUMBER, T_STRING, T_ARRAY, T_SET, T_OBJECT, numIsI64, intOut } from "../number";
import { bufPtr, bufLen } from "../buf";
import { strV } from "../value";

@inline export function isNum(v: usize): bool { return load<u8>(v) == T_NUMBER; }
@inline export function isStr(v: usize): bool { return load<u8>(v) == T_STRING; }
@inline export function isArr(v: usize): bool { return load<u8>(v) == T_ARRAY; }
@inline export function isSet(v: usize): bool { return load<u8>(v) == T_SET; }
@inline export function isObj(v: usize): bool { return load<u8>(v) == T_OBJECT; }

/** If `v` is an integral number fitting i64, stores it in `argInt` and returns true. */
export let argInt: i64 = 0;
export function asInt(v: usize): bool {
  if (load<u8>(v) != T_NUMBER || !numIsI64(v)) return false;
  argInt = intOut;
  return true;
}

/** A string value from a finished buffer. */
export function bufToStr(b: usize): usize { return strV(bufPtr(b), bufLen(b)); }

/** Decodes the UTF-8 code point at p (bounded by e); sets runeLen. Invalid bytes decode as U+FFFD, length 1. */
export let runeLen: usize = 1;
export function decodeRune(p: usize, e: usize): u32 {
  let c = <u32>load<u8>(p);
  if (c < 0x80) { runeLen = 1; return c; }
  let n: usize = 0, cp: u32 = 0, min: u32 = 0;
  if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; min = 0x80; }
  else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; min = 0x800; }
  else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; min = 0x10000; }
  else { runeLen = 1; return 0xfffd; }
  if (p + n > e) { runeLen = 1; return 0xfffd; }
  for (let i: usize = 1; i < n; i++) {
    let d = <u32>load<u8>(p + i);
    if ((d & 0xc0) != 0x80) { runeLen = 1; return 0xfffd; }
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) { runeLen = 1; return 0xfffd; }
  runeLen = n;
  return cp;
}

/** Byte offset of the `idx`-th code point (or the end). */
export function runeOffset(p: usize, n: usize, idx: usize): usize {
  let off: usize = 0, k: usize = 0;
  while (off < n && k < idx) { decodeRune(p + off, p + n); off += runeLen; k++; }
  return off;
}

/** Index of `needle` in `hay` (bytes) at or after `from`, or -1. */
export function bytesIndex(hp: usize, hn: usize, np: usize, nn: usize, from: usize): isize {
  if (nn == 0) return <isize>from;
  if (nn > hn) return -1;
  let first = load<u8>(np);
  for (let i = from; i + nn <= hn; i++) {
    if (load<u8>(hp + i) != first) continue;
    if (memory.compare(hp + i, np, nn) == 0) return <isize>i;
  }
  return -1;
}
