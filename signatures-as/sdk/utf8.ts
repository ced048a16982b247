/**
 * Byte-wise comparison of raw event bytes against AssemblyScript string
 * literals, without allocating.
 *
 * AS strings are UTF-16; event strings are raw bytes (normally UTF-8). Rather
 * than decoding the event bytes into a string (an allocation per event), the
 * literal is encoded to UTF-8 on the fly, one code point at a time, and
 * compared byte by byte. Lone surrogates are encoded as 3-byte WTF-8, exactly
 * as String.UTF8.encodeUnsafe does, so lengths and matches agree.
 *
 * The matching functions take the string's address (usize), not a string:
 * with the incremental runtime a function holding a managed reference spills
 * it to the shadow stack around every call, which would cost more than the
 * comparison. Literals are static, so their address is all that is needed;
 * an AS string's byte length is the u32 just before it.
 * Internal to the SDK.
 */

// @ts-ignore: decorator
@lazy const encoded: usize = memory.data(4);

/**
 * Encodes the code point starting at UTF-16 unit `i` of the string at `s`
 * (`units` long) into `encoded`. Returns (units consumed << 8) | byte count.
 */
function encodeCodePoint(s: usize, units: i32, i: i32): i32 {
  let c = <u32>load<u16>(s + (<usize>i << 1));
  if (c < 0x80) {
    store<u8>(encoded, c);
    return (1 << 8) | 1;
  }
  if (c < 0x800) {
    store<u8>(encoded, 0xc0 | (c >> 6));
    store<u8>(encoded + 1, 0x80 | (c & 63));
    return (1 << 8) | 2;
  }
  if ((c & 0xfc00) == 0xd800 && i + 1 < units) {
    let c2 = <u32>load<u16>(s + (<usize>(i + 1) << 1));
    if ((c2 & 0xfc00) == 0xdc00) {
      let cp = 0x10000 + ((c & 0x3ff) << 10) + (c2 & 0x3ff);
      store<u8>(encoded, 0xf0 | (cp >> 18));
      store<u8>(encoded + 1, 0x80 | ((cp >> 12) & 63));
      store<u8>(encoded + 2, 0x80 | ((cp >> 6) & 63));
      store<u8>(encoded + 3, 0x80 | (cp & 63));
      return (2 << 8) | 4;
    }
  }
  // BMP character, or a lone surrogate (WTF-8).
  store<u8>(encoded, 0xe0 | (c >> 12));
  store<u8>(encoded + 1, 0x80 | ((c >> 6) & 63));
  store<u8>(encoded + 2, 0x80 | (c & 63));
  return (1 << 8) | 3;
}

/** UTF-16 code units of the string at `s`. */
// @ts-ignore: decorator
@inline
export function unitsOf(s: usize): i32 {
  return <i32>(load<u32>(s - 4) >>> 1);
}

/** UTF-8 byte length of the string at `s` (no allocation). */
export function utf8Length(s: usize): usize {
  let units = unitsOf(s);
  let n: usize = 0;
  let i = 0;
  while (i < units) {
    let c = <u32>load<u16>(s + (<usize>i << 1));
    if (c < 0x80) { n += 1; i++; continue; }
    let packed = encodeCodePoint(s, units, i);
    n += <usize>(packed & 0xff);
    i += packed >> 8;
  }
  return n;
}

/** True if the bytes [p, end) begin with the UTF-8 encoding of the string at `s`. */
export function utf8PrefixAt(p: usize, end: usize, s: usize): bool {
  let sp = s;
  let units = unitsOf(s);
  // A UTF-8 encoding has at least as many bytes as UTF-16 units.
  if (<usize>units > end - p) return false;
  let i = 0;
  while (i < units) {
    let c = <u32>load<u16>(sp + (<usize>i << 1));
    if (c < 0x80) {
      // ASCII fast path: the common case for paths and names.
      if (p >= end || <u32>load<u8>(p) != c) return false;
      p++;
      i++;
      continue;
    }
    let packed = encodeCodePoint(sp, units, i);
    let n = <usize>(packed & 0xff);
    if (end - p < n) return false;
    for (let k: usize = 0; k < n; k++) {
      if (load<u8>(p + k) != load<u8>(encoded + k)) return false;
    }
    p += n;
    i += packed >> 8;
  }
  return true;
}

/** Writes the UTF-8 encoding of `s` at `dst`; returns the bytes written. */
// @ts-ignore: decorator
@inline
export function utf8Write(s: string, dst: usize): usize {
  return String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst);
}
