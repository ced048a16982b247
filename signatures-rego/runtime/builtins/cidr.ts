// net.cidr_contains / net.cidr_overlap / net.cidr_intersects for IPv4 and IPv6.

import { malloc } from "../mem";
import { strPtr, strLen, boolV } from "../value";
import { isStr } from "./util";

// Parsed address: 16 bytes + family (4 or 6) + prefix length.
//  | bytes[16] | @16 family u8 | @17 prefix u8 |

function parseV4(p: usize, n: usize, out: usize): bool {
  let part: u32 = 0, digits = 0, k: usize = 0;
  for (let i: usize = 0; i <= n; i++) {
    let c = i < n ? <u32>load<u8>(p + i) : 0x2e;
    if (c == 0x2e) {
      if (digits == 0 || k >= 4 || part > 255) return false;
      store<u8>(out + k, <u8>part); k++;
      part = 0; digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part == 0) return false; // leading zero
      part = part * 10 + (c - 0x30); digits++;
      if (digits > 3) return false;
    } else return false;
  }
  return k == 4;
}

function hexVal(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x57);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x37);
  return -1;
}

function parseV6(p: usize, n: usize, out: usize): bool {
  memory.fill(out, 0, 16);
  let groups = malloc(16);
  let ng: i32 = 0, gap: i32 = -1;
  let i: usize = 0;
  if (n >= 2 && load<u8>(p) == 0x3a && load<u8>(p + 1) == 0x3a) { gap = 0; i = 2; if (n == 2) { return true; } }
  else if (n >= 1 && load<u8>(p) == 0x3a) return false;
  while (i < n) {
    // embedded IPv4 tail
    let j = i;
    let hasDot = false;
    while (j < n && load<u8>(p + j) != 0x3a) { if (load<u8>(p + j) == 0x2e) hasDot = true; j++; }
    if (hasDot) {
      if (ng > 6 || j != n) return false;
      let v4 = malloc(4);
      if (!parseV4(p + i, j - i, v4)) return false;
      store<u16>(groups + (<usize>ng << 1), (<u16>load<u8>(v4) << 8) | load<u8>(v4 + 1)); ng++;
      store<u16>(groups + (<usize>ng << 1), (<u16>load<u8>(v4 + 2) << 8) | load<u8>(v4 + 3)); ng++;
      i = n;
      break;
    }
    if (j == i || j - i > 4 || ng >= 8) return false;
    let v: u32 = 0;
    for (let k = i; k < j; k++) { let h = hexVal(load<u8>(p + k)); if (h < 0) return false; v = (v << 4) | <u32>h; }
    store<u16>(groups + (<usize>ng << 1), <u16>v); ng++;
    i = j;
    if (i < n) {
      i++; // ':'
      if (i < n && load<u8>(p + i) == 0x3a) {
        if (gap >= 0) return false;
        gap = ng; i++;
      } else if (i == n) return false;
    }
  }
  if (gap < 0 && ng != 8) return false;
  if (gap >= 0 && ng > 7) return false;
  let k: i32 = 0;
  for (let g: i32 = 0; g < ng; g++) {
    let pos = g;
    if (gap >= 0 && g >= gap) pos = g + (8 - ng);
    let v = load<u16>(groups + (<usize>g << 1));
    store<u8>(out + (<usize>pos << 1), <u8>(v >> 8));
    store<u8>(out + (<usize>pos << 1) + 1, <u8>(v & 0xff));
    k++;
  }
  return true;
}

/** Parses "ip" or "ip/prefix"; returns a 24-byte record or 0. */
function parse(v: usize, needPrefix: bool): usize {
  if (!isStr(v)) return 0;
  let p = strPtr(v), n = strLen(v);
  let slash: isize = -1;
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) == 0x2f) { slash = <isize>i; break; }
  let an = slash >= 0 ? <usize>slash : n;
  let isV6 = false;
  for (let i: usize = 0; i < an; i++) if (load<u8>(p + i) == 0x3a) { isV6 = true; break; }
  let r = malloc(24);
  memory.fill(r, 0, 24);
  let bits: u32 = isV6 ? 128 : 32;
  if (isV6) { if (!parseV6(p, an, r)) return 0; store<u8>(r, 6, 16); }
  else { if (!parseV4(p, an, r)) return 0; store<u8>(r, 4, 16); }
  let prefix = bits;
  if (slash >= 0) {
    let q = <usize>slash + 1;
    if (q >= n || n - q > 3) return 0;
    prefix = 0;
    for (let i = q; i < n; i++) {
      let c = <u32>load<u8>(p + i);
      if (c < 0x30 || c > 0x39) return 0;
      prefix = prefix * 10 + (c - 0x30);
    }
    if (prefix > bits) return 0;
  } else if (needPrefix) return 0;
  store<u8>(r, <u8>prefix, 17);
  return r;
}

function prefixEqual(a: usize, b: usize, bits: u32): bool {
  let full = bits >> 3;
  for (let i: u32 = 0; i < full; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  let rem = bits & 7;
  if (rem) {
    let mask = <u8>((<u32>0xff << (8 - rem)) & 0xff);
    if ((load<u8>(a + full) & mask) != (load<u8>(b + full) & mask)) return false;
  }
  return true;
}

export function b_net__cidr_contains(cidr: usize, x: usize): usize {
  let a = parse(cidr, true);
  if (!a) return 0;
  let b = parse(x, false);
  if (!b) return 0;
  if (load<u8>(a, 16) != load<u8>(b, 16)) return boolV(false);
  let pa = <u32>load<u8>(a, 17), pb = <u32>load<u8>(b, 17);
  return boolV(pb >= pa && prefixEqual(a, b, pa));
}

export function b_net__cidr_overlap(cidr: usize, x: usize): usize { return b_net__cidr_contains(cidr, x); }

export function b_net__cidr_intersects(x: usize, y: usize): usize {
  let a = parse(x, true);
  if (!a) return 0;
  let b = parse(y, true);
  if (!b) return 0;
  if (load<u8>(a, 16) != load<u8>(b, 16)) return boolV(false);
  let pa = <u32>load<u8>(a, 17), pb = <u32>load<u8>(b, 17);
  return boolV(prefixEqual(a, b, pa < pb ? pa : pb));
}
