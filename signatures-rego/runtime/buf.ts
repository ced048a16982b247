// Growable byte buffer in the heap (used by the JSON dumper and string builtins).
//
//  Buf: | ptr u32 | len u32 | cap u32 |

import { malloc } from "./mem";

@inline export function bufPtr(b: usize): usize { return load<usize>(b); }
@inline export function bufLen(b: usize): usize { return load<usize>(b, 4); }

export function bufNew(cap: usize): usize {
  if (cap < 16) cap = 16;
  let b = malloc(12);
  store<usize>(b, malloc(cap));
  store<usize>(b, 0, 4);
  store<usize>(b, cap, 8);
  return b;
}

export function bufReserve(b: usize, extra: usize): usize {
  let len = load<usize>(b, 4);
  let cap = load<usize>(b, 8);
  if (len + extra > cap) {
    let ncap = cap << 1;
    if (ncap < len + extra) ncap = len + extra;
    let np = malloc(ncap);
    memory.copy(np, load<usize>(b), len);
    store<usize>(b, np);
    store<usize>(b, ncap, 8);
  }
  return load<usize>(b) + len;
}

export function bufByte(b: usize, c: u32): void {
  let p = bufReserve(b, 1);
  store<u8>(p, <u8>c);
  store<usize>(b, load<usize>(b, 4) + 1, 4);
}

export function bufBytes(b: usize, src: usize, n: usize): void {
  let p = bufReserve(b, n);
  memory.copy(p, src, n);
  store<usize>(b, load<usize>(b, 4) + n, 4);
}

/** Appends an ASCII AS string literal. */
export function bufAscii(b: usize, s: string): void {
  let n = <usize>s.length;
  let p = bufReserve(b, n);
  let sp = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) store<u8>(p + i, <u8>load<u16>(sp + (i << 1)));
  store<usize>(b, load<usize>(b, 4) + n, 4);
}

/** Appends a code point as UTF-8. */
export function bufRune(b: usize, c: u32): void {
  if (c < 0x80) bufByte(b, c);
  else if (c < 0x800) { bufByte(b, 0xc0 | (c >> 6)); bufByte(b, 0x80 | (c & 0x3f)); }
  else if (c < 0x10000) { bufByte(b, 0xe0 | (c >> 12)); bufByte(b, 0x80 | ((c >> 6) & 0x3f)); bufByte(b, 0x80 | (c & 0x3f)); }
  else { bufByte(b, 0xf0 | (c >> 18)); bufByte(b, 0x80 | ((c >> 12) & 0x3f)); bufByte(b, 0x80 | ((c >> 6) & 0x3f)); bufByte(b, 0x80 | (c & 0x3f)); }
}

/** Truncates the buffer to `len` bytes. */
export function bufTruncate(b: usize, len: usize): void { store<usize>(b, len, 4); }
