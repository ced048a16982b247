// glob.match with gobwas/glob semantics: * (no delimiters), ** (anything),
// ?, [abc] / [a-z] / [!x], {a,b} alternatives and \ escapes.

import { strPtr, strLen, boolV, arrLen, arrGet } from "../value";
import { T_NULL } from "../number";
import { malloc } from "../mem";
import { isStr, isArr, decodeRune, runeLen } from "./util";

// Pattern and text are decoded into u32 code point arrays.
let delims: usize = 0;
let ndelims: usize = 0;

function isDelim(c: u32): bool {
  for (let i: usize = 0; i < ndelims; i++) if (load<u32>(delims + (i << 2)) == c) return true;
  return false;
}

function decode(p: usize, n: usize): usize {
  let out = malloc((n + 1) << 2);
  let k: usize = 0, off: usize = 0;
  while (off < n) { store<u32>(out + (k << 2) + 4, decodeRune(p + off, p + n)); off += runeLen; k++; }
  store<u32>(out, <u32>k);
  return out;
}
@inline function at(a: usize, i: usize): u32 { return load<u32>(a + 4 + (i << 2)); }
@inline function len(a: usize): usize { return load<u32>(a); }

/** End index of the alternative group starting at `i` ('{'), or -1. */
function groupEnd(pat: usize, i: usize): isize {
  let depth = 0;
  let n = len(pat);
  for (let j = i; j < n; j++) {
    let c = at(pat, j);
    if (c == 0x5c) { j++; continue; }
    if (c == 0x7b) depth++;
    else if (c == 0x7d) { depth--; if (depth == 0) return <isize>j; }
  }
  return -1;
}

/** Matches pat[pi..pe) followed by pat[restStart..restEnd) against txt[ti..]. */
function m(pat: usize, pi: usize, pe: usize, txt: usize, ti: usize, depth: i32): bool {
  if (depth > 200) return false;
  let n = len(txt);
  while (pi < pe) {
    let c = at(pat, pi);
    if (c == 0x2a) { // *
      let super_ = pi + 1 < pe && at(pat, pi + 1) == 0x2a;
      let next = super_ ? pi + 2 : pi + 1;
      for (let k = ti; k <= n; k++) {
        if (m(pat, next, pe, txt, k, depth + 1)) return true;
        if (k < n && !super_ && isDelim(at(txt, k))) return false;
      }
      return false;
    }
    if (c == 0x3f) { // ?
      if (ti >= n || isDelim(at(txt, ti))) return false;
      pi++; ti++; continue;
    }
    if (c == 0x5b) { // [...]
      let j = pi + 1;
      let neg = j < pe && (at(pat, j) == 0x21 || at(pat, j) == 0x5e);
      if (neg) j++;
      let matched = false;
      if (ti >= n) return false;
      let t = at(txt, ti);
      let first = true;
      while (j < pe && (first || at(pat, j) != 0x5d)) {
        first = false;
        let lo = at(pat, j);
        if (lo == 0x5c && j + 1 < pe) { j++; lo = at(pat, j); }
        let hi = lo;
        if (j + 2 < pe && at(pat, j + 1) == 0x2d && at(pat, j + 2) != 0x5d) { hi = at(pat, j + 2); j += 2; }
        if (t >= lo && t <= hi) matched = true;
        j++;
      }
      if (j >= pe) return false; // unterminated
      if (matched == neg) return false;
      pi = j + 1; ti++;
      continue;
    }
    if (c == 0x7b) { // {a,b}
      let e = groupEnd(pat, pi);
      if (e < 0) return false;
      let ge = <usize>e;
      // try each alternative: build pattern alt + rest by matching alt then rest.
      let start = pi + 1;
      let d = 0;
      for (let j = pi + 1; j <= ge; j++) {
        let cj = at(pat, j);
        if (cj == 0x5c) { j++; continue; }
        if (cj == 0x7b) d++;
        else if (cj == 0x7d && d > 0) d--;
        else if ((cj == 0x2c && d == 0) || j == ge) {
          if (matchAltThen(pat, start, j, ge + 1, pe, txt, ti, depth + 1)) return true;
          start = j + 1;
        }
      }
      return false;
    }
    if (c == 0x5c && pi + 1 < pe) { pi++; c = at(pat, pi); }
    if (ti >= n || at(txt, ti) != c) return false;
    pi++; ti++;
  }
  return ti == n;
}

/** Matches pat[a..b) then pat[c..d) by concatenating them into a temporary pattern. */
function matchAltThen(pat: usize, a: usize, b: usize, c: usize, d: usize, txt: usize, ti: usize, depth: i32): bool {
  let n = (b - a) + (d - c);
  let tmp = malloc((n + 1) << 2);
  store<u32>(tmp, <u32>n);
  let k: usize = 0;
  for (let i = a; i < b; i++) { store<u32>(tmp + 4 + (k << 2), at(pat, i)); k++; }
  for (let i = c; i < d; i++) { store<u32>(tmp + 4 + (k << 2), at(pat, i)); k++; }
  return m(tmp, 0, n, txt, ti, depth);
}

export function b_glob__match(pattern: usize, ds: usize, s: usize): usize {
  if (!isStr(pattern) || !isStr(s)) return 0;
  if (load<u8>(ds) == T_NULL) { ndelims = 0; }
  else if (isArr(ds)) {
    let n = arrLen(ds);
    delims = malloc((n + 1) << 2);
    if (n == 0) { store<u32>(delims, 0x2e); ndelims = 1; }
    else {
      for (let i: usize = 0; i < n; i++) {
        let d = arrGet(ds, i);
        if (!isStr(d) || strLen(d) == 0) return 0;
        store<u32>(delims + (i << 2), decodeRune(strPtr(d), strPtr(d) + strLen(d)));
      }
      ndelims = n;
    }
  } else return 0;
  let pat = decode(strPtr(pattern), strLen(pattern));
  let txt = decode(strPtr(s), strLen(s));
  return boolV(m(pat, 0, len(pat), txt, 0, 0));
}
