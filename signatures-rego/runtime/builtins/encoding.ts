// base64, base64url, json.marshal/unmarshal and to_number.

import { malloc } from "../mem";
import { bufNew, bufByte, bufPtr, bufLen } from "../buf";
import { T_NULL, T_BOOL, T_NUMBER, T_STRING, numInt, numFromText } from "../number";
import { boolV, strV, strPtr, strLen } from "../value";
import { jsonParse, dumpTo } from "../json";
import { isStr, bufToStr } from "./util";

// @ts-ignore: decorator
@lazy const STD: usize = memory.data<u8>([
  65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90,
  97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,
  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 43, 47,
]);

/** Standard base64 (padded) of n bytes at p, as a string value. */
export function base64Encode(p: usize, n: usize): usize { return encode(p, n, false, true); }

function encode(p: usize, n: usize, url: bool, pad: bool): usize {
  let b = bufNew(((n + 2) / 3) * 4);
  let i: usize = 0;
  while (i + 3 <= n) {
    let x = (<u32>load<u8>(p + i) << 16) | (<u32>load<u8>(p + i + 1) << 8) | <u32>load<u8>(p + i + 2);
    for (let k: i32 = 3; k >= 0; k--) bufByte(b, alpha((x >> (<u32>k * 6)) & 63, url));
    i += 3;
  }
  let rem = n - i;
  if (rem == 1) {
    let x = <u32>load<u8>(p + i) << 16;
    bufByte(b, alpha((x >> 18) & 63, url)); bufByte(b, alpha((x >> 12) & 63, url));
    if (pad) { bufByte(b, 61); bufByte(b, 61); }
  } else if (rem == 2) {
    let x = (<u32>load<u8>(p + i) << 16) | (<u32>load<u8>(p + i + 1) << 8);
    bufByte(b, alpha((x >> 18) & 63, url)); bufByte(b, alpha((x >> 12) & 63, url)); bufByte(b, alpha((x >> 6) & 63, url));
    if (pad) bufByte(b, 61);
  }
  return bufToStr(b);
}

function alpha(i: u32, url: bool): u32 {
  let c = <u32>load<u8>(STD + i);
  if (url) { if (c == 43) return 45; if (c == 47) return 95; }
  return c;
}

function unalpha(c: u32, url: bool): i32 {
  if (c >= 65 && c <= 90) return <i32>(c - 65);
  if (c >= 97 && c <= 122) return <i32>(c - 71);
  if (c >= 48 && c <= 57) return <i32>(c + 4);
  if (!url && c == 43) return 62;
  if (!url && c == 47) return 63;
  if (url && c == 45) return 62;
  if (url && c == 95) return 63;
  return -1;
}

/** Go-style strict decoding (padding required unless `raw`; CR/LF ignored). Returns 0 on error. */
function decode(p: usize, n: usize, url: bool, raw: bool): usize {
  let b = bufNew(n);
  let acc: u32 = 0, bits: u32 = 0, count: usize = 0, padSeen: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (c == 10 || c == 13) continue;
    if (c == 61) { if (raw) return 0; padSeen++; count++; continue; }
    if (padSeen) return 0;
    let d = unalpha(c, url);
    if (d < 0) return 0;
    acc = (acc << 6) | <u32>d;
    bits += 6;
    count++;
    if (bits >= 8) { bits -= 8; bufByte(b, (acc >> bits) & 0xff); }
  }
  if (!raw && count % 4 != 0) return 0;
  if (raw && count % 4 == 1) return 0;
  if (padSeen > 2) return 0;
  // trailing bits must be zero (Go's strict mode is off by default; accept)
  return bufToStr(b);
}

export function b_base64__encode(s: usize): usize { return isStr(s) ? encode(strPtr(s), strLen(s), false, true) : 0; }
export function b_base64__decode(s: usize): usize { return isStr(s) ? decode(strPtr(s), strLen(s), false, false) : 0; }
export function b_base64__is_valid(s: usize): usize { return isStr(s) ? boolV(decode(strPtr(s), strLen(s), false, false) != 0) : 0; }
export function b_base64url__encode(s: usize): usize { return isStr(s) ? encode(strPtr(s), strLen(s), true, true) : 0; }
export function b_base64url__encode_no_pad(s: usize): usize { return isStr(s) ? encode(strPtr(s), strLen(s), true, false) : 0; }
export function b_base64url__decode(s: usize): usize {
  if (!isStr(s)) return 0;
  let n = strLen(s);
  let padded = n > 0 && load<u8>(strPtr(s) + n - 1) == 61;
  return decode(strPtr(s), n, true, !padded && n % 4 != 0);
}

export function b_json__marshal(v: usize): usize {
  let b = bufNew(64);
  dumpTo(b, v, false, true);
  return bufToStr(b);
}

export function b_json__unmarshal(s: usize): usize {
  if (!isStr(s)) return 0;
  return jsonParse(strPtr(s), strLen(s));
}

export function b_json__is_valid(s: usize): usize {
  if (!isStr(s)) return 0;
  return boolV(jsonParse(strPtr(s), strLen(s)) != 0);
}

export function b_to_number(v: usize): usize {
  switch (load<u8>(v)) {
    case T_NULL: return numInt(0);
    case T_BOOL: return numInt(load<u8>(v, 1) ? 1 : 0);
    case T_NUMBER: return v;
    case T_STRING: {
      let p = strPtr(v), n = strLen(v);
      if (n == 0) return 0;
      let x = jsonParse(p, n);
      if (x == 0 || load<u8>(x) != T_NUMBER) {
        // Go's ParseFloat also accepts a leading '+' and leading zeros / ".5"
        return 0;
      }
      return x;
    }
  }
  return 0;
}
