/**
 * Path patterns: a small matcher for the path rules of Tracee's signatures
 * (the default loader, /proc/<pid>/mem, service account tokens), matching
 * raw event bytes in place without allocating.
 *
 * A pattern is an ASCII string literal matched against the whole path
 * (anchored at both ends, like a shell glob):
 *
 *   *       any run of bytes, '/' included, possibly empty
 *   ?       any one byte
 *   #       one ASCII digit
 *   {a,b}   one of the alternatives (not nested); they may hold wildcards
 *   \c      the character c itself (e.g. \* \? \# \{ \, \})
 *
 * Every other character matches itself. Tracee's regular expression
 * `/proc/(?:\d.+)/mem$` has no `^`, so it becomes a leading `*`, then
 * `/proc/`, `#` for `\d`, `?*` for `.+`, and `/mem` (see
 * signatures/proc_mem_access.ts; docs/sdk.md lists the translations).
 *
 * Cost: the classic glob algorithm, which only ever backtracks to the last
 * `*` seen: at most (path length × pattern length) byte comparisons, and in
 * practice one pass over the path; each `{…}` tries its alternatives in turn. A
 * malformed pattern (an unclosed `{`, a `{` inside a group, a trailing `\`)
 * matches nothing. Patterns are read in place, like other literals (utf8.ts).
 */
import { unitsOf } from "./utf8";

// @ts-ignore: decorator
@inline const STAR: u32 = 0x2a;
// @ts-ignore: decorator
@inline const QUESTION: u32 = 0x3f;
// @ts-ignore: decorator
@inline const HASH: u32 = 0x23;
// @ts-ignore: decorator
@inline const OPEN: u32 = 0x7b;
// @ts-ignore: decorator
@inline const CLOSE: u32 = 0x7d;
// @ts-ignore: decorator
@inline const COMMA: u32 = 0x2c;
// @ts-ignore: decorator
@inline const ESCAPE: u32 = 0x5c;

// @ts-ignore: decorator
@inline function unitAt(pat: usize, i: i32): u32 {
  return <u32>load<u16>(pat + (<usize>i << 1));
}

/** True if the `len` bytes at `s` match the pattern string at address `pat` (see above). */
export function matchPattern(pat: usize, s: usize, len: u32): bool {
  return matchFrom(pat, 0, unitsOf(pat), -1, s, 0, len);
}

/**
 * Matches pattern[pi..pn) against s[si..sn). `close` is the index of the `}`
 * of the group whose alternative is being matched (-1 outside a group): a
 * `,` before it ends the alternative and jumps past it.
 */
function matchFrom(pat: usize, pi: i32, pn: i32, close: i32, s: usize, si: u32, sn: u32): bool {
  // The last `*` seen: where it is in the pattern, where its match ends in s, and its group.
  let starP = -1;
  let starS: u32 = 0;
  let starClose = -1;
  while (true) {
    let failed = false;
    if (pi < pn) {
      let c = unitAt(pat, pi);
      if (close >= 0 && pi == close) { pi++; close = -1; continue; }
      if (close >= 0 && c == COMMA) { pi = close + 1; close = -1; continue; }
      if (c == STAR) {
        starP = pi; starS = si; starClose = close;
        pi++;
        continue;
      }
      if (c == OPEN) {
        if (close >= 0) return false; // nested groups are not supported
        let end = groupClose(pat, pi, pn);
        if (end < 0) return false;
        let alt = pi + 1;
        while (alt <= end) {
          if (matchFrom(pat, alt, pn, end, s, si, sn)) return true;
          alt = nextAlternative(pat, alt, end);
        }
        failed = true;
      } else if (si < sn) {
        let b = <u32>load<u8>(s + <usize>si);
        let ok: bool;
        if (c == QUESTION) ok = true;
        else if (c == HASH) ok = b - 0x30 < 10;
        else {
          if (c == ESCAPE) {
            if (pi + 1 >= pn) return false;
            pi++;
            c = unitAt(pat, pi);
          }
          ok = b == c;
        }
        if (ok) { pi++; si++; continue; }
        failed = true;
      } else {
        failed = true;
      }
    } else if (si == sn) {
      return true;
    }
    // Mismatch (or pattern done before the path): let the last `*` take one more byte.
    if (starP < 0 || starS >= sn) return false;
    starS++;
    si = starS;
    pi = starP + 1;
    close = starClose;
  }
}

/** Index of the `}` closing the group opened at `open`, or -1. */
function groupClose(pat: usize, open: i32, pn: i32): i32 {
  for (let i = open + 1; i < pn; i++) {
    let c = unitAt(pat, i);
    if (c == ESCAPE) i++;
    else if (c == OPEN) return -1;
    else if (c == CLOSE) return i;
  }
  return -1;
}

/** Start of the alternative after the one starting at `alt`, or `end + 1` if it was the last. */
function nextAlternative(pat: usize, alt: i32, end: i32): i32 {
  for (let i = alt; i < end; i++) {
    let c = unitAt(pat, i);
    if (c == ESCAPE) i++;
    else if (c == COMMA) return i + 1;
  }
  return end + 1;
}
