// Regular expressions with RE2 syntax and leftmost-first semantics.
//
// Patterns are parsed into a small AST, compiled to a backtracking program
// and run by a "bit-state" backtracker (as in RE2): a visited set over
// (instruction, position) pairs bounds the work to O(program × text), so
// there is no exponential blow-up, and the first match found is the one a
// leftmost-first engine reports. Text is UTF-8; invalid bytes read as U+FFFD.

import { malloc, calloc } from "../mem";
import { strV, strPtr, strLen, boolV, arrNew, arrAppend } from "../value";
import { isStr, asInt, argInt, decodeRune, runeLen } from "./util";

// ---- AST ----
//  node (20): | kind u32 | a | b | c | d |
const N_EMPTY = 0, N_LIT = 1, N_ANY = 2, N_CLASS = 3, N_ASSERT = 4, N_CAT = 5, N_ALT = 6, N_REP = 7, N_GROUP = 8;
// assertion kinds
const A_BOL = 1, A_EOL = 2, A_BOT = 3, A_EOT = 4, A_WORDB = 5, A_NWORDB = 6, A_BOLM = 7, A_EOLM = 8;

function node(kind: u32, a: u32, b: u32, c: u32, d: u32): usize {
  let n = malloc(20);
  store<u32>(n, kind); store<u32>(n, a, 4); store<u32>(n, b, 8); store<u32>(n, c, 12); store<u32>(n, d, 16);
  return n;
}
@inline function nk(n: usize): u32 { return load<u32>(n); }
@inline function na(n: usize): u32 { return load<u32>(n, 4); }
@inline function nb(n: usize): u32 { return load<u32>(n, 8); }
@inline function nc(n: usize): u32 { return load<u32>(n, 12); }
@inline function nd(n: usize): u32 { return load<u32>(n, 16); }

// Growable u32 list: | ptr | len | cap |
function listNew(): usize { let l = malloc(12); store<usize>(l, malloc(32)); store<u32>(l, 0, 4); store<u32>(l, 8, 8); return l; }
function listPush(l: usize, v: u32): void {
  let n = load<u32>(l, 4), cap = load<u32>(l, 8);
  if (n == cap) { let np = malloc(<usize>cap << 3); memory.copy(np, load<usize>(l), <usize>n << 2); store<usize>(l, np); store<u32>(l, cap << 1, 8); }
  store<u32>(load<usize>(l) + (<usize>n << 2), v);
  store<u32>(l, n + 1, 4);
}
@inline function listLen(l: usize): u32 { return load<u32>(l, 4); }
@inline function listGet(l: usize, i: u32): u32 { return load<u32>(load<usize>(l) + (<usize>i << 2)); }

// ---- parser state ----
let pat: usize = 0;   // decoded pattern: u32 code points
let plen: u32 = 0;
let ppos: u32 = 0;
let perr = false;
let ncap: u32 = 0;
let fFold = false, fDotNL = false, fMulti = false, fUngreedy = false;

@inline function pc(): u32 { return ppos < plen ? load<u32>(pat + (<usize>ppos << 2)) : 0xffffffff; }
@inline function pcAt(i: u32): u32 { return i < plen ? load<u32>(pat + (<usize>i << 2)) : 0xffffffff; }

function parseAlt(depth: i32): usize {
  if (depth > 500) { perr = true; return 0; }
  let alts = listNew();
  listPush(alts, <u32>parseCat(depth));
  while (!perr && pc() == 0x7c) { ppos++; listPush(alts, <u32>parseCat(depth)); }
  if (listLen(alts) == 1) return <usize>listGet(alts, 0);
  return node(N_ALT, <u32>alts, 0, 0, 0);
}

function parseCat(depth: i32): usize {
  let items = listNew();
  while (!perr) {
    let c = pc();
    if (c == 0xffffffff || c == 0x7c || c == 0x29) break;
    let a = parseRepeat(depth);
    if (perr) return 0;
    if (a) listPush(items, <u32>a);
  }
  if (listLen(items) == 0) return node(N_EMPTY, 0, 0, 0, 0);
  if (listLen(items) == 1) return <usize>listGet(items, 0);
  return node(N_CAT, <u32>items, 0, 0, 0);
}

function parseInt_(): i32 {
  let v: i32 = -1;
  while (true) {
    let c = pc();
    if (c < 0x30 || c > 0x39) break;
    v = (v < 0 ? 0 : v) * 10 + <i32>(c - 0x30);
    if (v > 1000) { perr = true; return -1; }
    ppos++;
  }
  return v;
}

function parseRepeat(depth: i32): usize {
  let a = parseAtom(depth);
  if (perr || a == 0) return a;
  while (true) {
    let c = pc();
    let min: i32 = 0, max: i32 = -1;
    if (c == 0x2a) { ppos++; }
    else if (c == 0x2b) { ppos++; min = 1; }
    else if (c == 0x3f) { ppos++; max = 1; }
    else if (c == 0x7b) {
      let save = ppos;
      ppos++;
      let lo = parseInt_();
      if (perr) return 0;
      if (lo < 0) { ppos = save; break; } // literal '{'
      min = lo; max = lo;
      if (pc() == 0x2c) { ppos++; let hi = parseInt_(); if (perr) return 0; max = hi; }
      if (pc() != 0x7d) { ppos = save; break; }
      ppos++;
      if (max >= 0 && max < min) { perr = true; return 0; }
    } else break;
    let greedy = !fUngreedy;
    if (pc() == 0x3f) { ppos++; greedy = !greedy; }
    if (nk(a) == N_REP && (nd(a) & 2) != 0) { perr = true; return 0; } // bad repetition operator (a**)
    // d: bit 0 greedy, bit 1 "is a repetition"
    a = node(N_REP, <u32>a, <u32>min, <u32>max, (greedy ? 1 : 0) | 2);
  }
  return a;
}

function classNew(): usize { return listNew(); }
function classAdd(cl: usize, lo: u32, hi: u32): void { listPush(cl, lo); listPush(cl, hi); }
function addPerl(cl: usize, c: u32): bool {
  // \d \w \s and negations appended as ranges (negations as complement)
  if (c == 0x64) { classAdd(cl, 0x30, 0x39); return true; }
  if (c == 0x77) { classAdd(cl, 0x30, 0x39); classAdd(cl, 0x41, 0x5a); classAdd(cl, 0x5f, 0x5f); classAdd(cl, 0x61, 0x7a); return true; }
  if (c == 0x73) { classAdd(cl, 0x09, 0x0a); classAdd(cl, 0x0c, 0x0d); classAdd(cl, 0x20, 0x20); return true; }
  if (c == 0x44) { classAdd(cl, 0, 0x2f); classAdd(cl, 0x3a, 0x10ffff); return true; }
  if (c == 0x57) { classAdd(cl, 0, 0x2f); classAdd(cl, 0x3a, 0x40); classAdd(cl, 0x5b, 0x5e); classAdd(cl, 0x60, 0x60); classAdd(cl, 0x7b, 0x10ffff); return true; }
  if (c == 0x53) { classAdd(cl, 0, 0x08); classAdd(cl, 0x0b, 0x0b); classAdd(cl, 0x0e, 0x1f); classAdd(cl, 0x21, 0x10ffff); return true; }
  return false;
}

/** Parses an escape after '\'; returns the code point, or 0xffffffff if it added ranges to `cl`. */
function parseEscape(cl: usize): u32 {
  let c = pc();
  if (c == 0xffffffff) { perr = true; return 0; }
  ppos++;
  if (cl && addPerl(cl, c)) return 0xffffffff;
  switch (c) {
    case 0x6e: return 0x0a;
    case 0x74: return 0x09;
    case 0x72: return 0x0d;
    case 0x66: return 0x0c;
    case 0x76: return 0x0b;
    case 0x61: return 0x07;
    case 0x78: { // \xhh or \x{h...}
      let v: u32 = 0;
      if (pc() == 0x7b) {
        ppos++;
        let digits = 0;
        while (pc() != 0x7d) { let h = hexv(pc()); if (h < 0) { perr = true; return 0; } v = (v << 4) | <u32>h; ppos++; digits++; if (v > 0x10ffff) { perr = true; return 0; } }
        if (digits == 0) { perr = true; return 0; }
        ppos++;
        return v;
      }
      for (let i = 0; i < 2; i++) { let h = hexv(pc()); if (h < 0) { perr = true; return 0; } v = (v << 4) | <u32>h; ppos++; }
      return v;
    }
  }
  if (c < 0x80 && !isAlnum(c)) return c; // escaped punctuation
  if (c >= 0x80) return c;
  perr = true;
  return 0;
}

function hexv(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x57);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x37);
  return -1;
}
function isAlnum(c: u32): bool { return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f; }

function posixClass(cl: usize): bool {
  // at "[:" ... ":]"
  let start = ppos + 2;
  let neg = pcAt(start) == 0x5e;
  if (neg) start++;
  let e = start;
  while (e < plen && pcAt(e) != 0x3a) e++;
  if (e + 1 >= plen || pcAt(e + 1) != 0x5d) return false;
  let tmp = neg ? classNew() : cl;
  let name: u32 = 0;
  for (let i = start; i < e && i < start + 6; i++) name = name * 31 + pcAt(i);
  let len = e - start;
  let ok = true;
  if (len == 5 && pcAt(start) == 0x61 && pcAt(start + 2) == 0x70) { classAdd(tmp, 0x41, 0x5a); classAdd(tmp, 0x61, 0x7a); } // alpha
  else if (len == 5 && pcAt(start) == 0x61 && pcAt(start + 2) == 0x6e) { classAdd(tmp, 0x30, 0x39); classAdd(tmp, 0x41, 0x5a); classAdd(tmp, 0x61, 0x7a); } // alnum
  else if (len == 5 && pcAt(start) == 0x64) classAdd(tmp, 0x30, 0x39); // digit
  else if (len == 5 && pcAt(start) == 0x6c) classAdd(tmp, 0x61, 0x7a); // lower
  else if (len == 5 && pcAt(start) == 0x75) classAdd(tmp, 0x41, 0x5a); // upper
  else if (len == 5 && pcAt(start) == 0x73) { classAdd(tmp, 0x09, 0x0d); classAdd(tmp, 0x20, 0x20); } // space
  else if (len == 5 && pcAt(start) == 0x70) { classAdd(tmp, 0x21, 0x2f); classAdd(tmp, 0x3a, 0x40); classAdd(tmp, 0x5b, 0x60); classAdd(tmp, 0x7b, 0x7e); } // punct
  else if (len == 6 && pcAt(start) == 0x78) { classAdd(tmp, 0x30, 0x39); classAdd(tmp, 0x41, 0x46); classAdd(tmp, 0x61, 0x66); } // xdigit
  else if (len == 4 && pcAt(start) == 0x77) { classAdd(tmp, 0x30, 0x39); classAdd(tmp, 0x41, 0x5a); classAdd(tmp, 0x5f, 0x5f); classAdd(tmp, 0x61, 0x7a); } // word
  else if (len == 5 && pcAt(start) == 0x62) { classAdd(tmp, 0x09, 0x09); classAdd(tmp, 0x20, 0x20); } // blank
  else if (len == 5 && pcAt(start) == 0x63) { classAdd(tmp, 0, 0x1f); classAdd(tmp, 0x7f, 0x7f); } // cntrl
  else if (len == 5 && pcAt(start) == 0x67) classAdd(tmp, 0x21, 0x7e); // graph
  else if (len == 5 && pcAt(start + 1) == 0x72) classAdd(tmp, 0x20, 0x7e); // print
  else if (len == 5 && pcAt(start) == 0x61 && pcAt(start + 1) == 0x73) classAdd(tmp, 0, 0x7f); // ascii
  else ok = false;
  if (!ok) { perr = true; return true; }
  if (neg) complementInto(tmp, cl);
  ppos = e + 2;
  return true;
}

function complementInto(src: usize, dst: usize): void {
  // src ranges may be unsorted; compute complement by scanning
  let n = listLen(src) >> 1;
  let lo: u32 = 0;
  while (lo <= 0x10ffff) {
    // find range containing lo
    let covered = false;
    let next: u32 = 0x110000;
    for (let i: u32 = 0; i < n; i++) {
      let a = listGet(src, i << 1), b = listGet(src, (i << 1) + 1);
      if (lo >= a && lo <= b) { covered = true; lo = b + 1; break; }
      if (a > lo && a < next) next = a;
    }
    if (covered) continue;
    classAdd(dst, lo, next - 1);
    lo = next;
  }
}

function parseClass(): usize {
  ppos++; // '['
  let neg = false;
  if (pc() == 0x5e) { neg = true; ppos++; }
  let cl = classNew();
  let first = true;
  while (true) {
    let c = pc();
    if (c == 0xffffffff) { perr = true; return 0; }
    if (c == 0x5d && !first) { ppos++; break; }
    first = false;
    if (c == 0x5b && pcAt(ppos + 1) == 0x3a && posixClass(cl)) { if (perr) return 0; continue; }
    let lo: u32;
    if (c == 0x5c) { ppos++; lo = parseEscape(cl); if (perr) return 0; if (lo == 0xffffffff) continue; }
    else { lo = c; ppos++; }
    let hi = lo;
    if (pc() == 0x2d && pcAt(ppos + 1) != 0x5d && pcAt(ppos + 1) != 0xffffffff) {
      ppos++;
      let c2 = pc();
      if (c2 == 0x5c) { ppos++; hi = parseEscape(0); if (perr) return 0; }
      else { hi = c2; ppos++; }
      if (hi < lo) { perr = true; return 0; }
    }
    classAdd(cl, lo, hi);
  }
  if (fFold) {
    let n = listLen(cl) >> 1;
    for (let i: u32 = 0; i < n; i++) {
      let a = listGet(cl, i << 1), b = listGet(cl, (i << 1) + 1);
      // add the other ASCII case of any letters in range
      let la = a > 0x41 ? a : 0x41, lb = b < 0x5a ? b : 0x5a;
      if (la <= lb) classAdd(cl, la + 32, lb + 32);
      let ua = a > 0x61 ? a : 0x61, ub = b < 0x7a ? b : 0x7a;
      if (ua <= ub) classAdd(cl, ua - 32, ub - 32);
    }
  }
  if (neg) { let c2 = classNew(); complementInto(cl, c2); cl = c2; }
  return node(N_CLASS, <u32>cl, 0, 0, 0);
}

function parseFlags(): bool {
  // after "(?", parse flags up to ':' or ')'
  let on = true;
  let sawFlag = false;
  while (true) {
    let c = pc();
    if (c == 0x69) { fFold = on; sawFlag = true; }
    else if (c == 0x73) { fDotNL = on; sawFlag = true; }
    else if (c == 0x6d) { fMulti = on; sawFlag = true; }
    else if (c == 0x55) { fUngreedy = on; sawFlag = true; }
    else if (c == 0x2d) { if (!on) { perr = true; return false; } on = false; sawFlag = false; }
    else if (c == 0x3a || c == 0x29) { if (!on && !sawFlag) { perr = true; return false; } return true; }
    else { perr = true; return false; }
    ppos++;
  }
}

function parseAtom(depth: i32): usize {
  let c = pc();
  switch (c) {
    case 0x28: { // (
      ppos++;
      let cap: i32 = -1;
      if (pc() == 0x3f) {
        ppos++;
        let c2 = pc();
        if (c2 == 0x50 || c2 == 0x3c) { // (?P<name> or (?<name>
          if (c2 == 0x50) ppos++;
          if (pc() != 0x3c) { perr = true; return 0; }
          ppos++;
          let nameLen = 0;
          while (pc() != 0x3e) { if (pc() == 0xffffffff || !isAlnum(pc())) { perr = true; return 0; } ppos++; nameLen++; }
          if (nameLen == 0) { perr = true; return 0; }
          ppos++;
          cap = <i32>(++ncap);
        } else {
          let sf = fFold, sd = fDotNL, sm = fMulti, su = fUngreedy;
          if (!parseFlags()) return 0;
          if (pc() == 0x29) { ppos++; return node(N_EMPTY, 0, 0, 0, 0); } // flags for the rest of the group
          ppos++; // ':'
          let inner = parseAlt(depth + 1);
          fFold = sf; fDotNL = sd; fMulti = sm; fUngreedy = su;
          if (perr) return 0;
          if (pc() != 0x29) { perr = true; return 0; }
          ppos++;
          return inner;
        }
      } else cap = <i32>(++ncap);
      let sf = fFold, sd = fDotNL, sm = fMulti, su = fUngreedy;
      let inner = parseAlt(depth + 1);
      fFold = sf; fDotNL = sd; fMulti = sm; fUngreedy = su;
      if (perr) return 0;
      if (pc() != 0x29) { perr = true; return 0; }
      ppos++;
      return node(N_GROUP, <u32>inner, <u32>cap, 0, 0);
    }
    case 0x5b: return parseClass();
    case 0x2e: ppos++; return node(N_ANY, fDotNL ? 1 : 0, 0, 0, 0);
    case 0x5e: ppos++; return node(N_ASSERT, fMulti ? A_BOLM : A_BOT, 0, 0, 0);
    case 0x24: ppos++; return node(N_ASSERT, fMulti ? A_EOLM : A_EOT, 0, 0, 0);
    case 0x2a: case 0x2b: case 0x3f: perr = true; return 0; // missing argument to repetition
    case 0x29: perr = true; return 0;
    case 0x5c: {
      ppos++;
      let e = pc();
      if (e == 0x41) { ppos++; return node(N_ASSERT, A_BOT, 0, 0, 0); }
      if (e == 0x7a) { ppos++; return node(N_ASSERT, A_EOT, 0, 0, 0); }
      if (e == 0x62) { ppos++; return node(N_ASSERT, A_WORDB, 0, 0, 0); }
      if (e == 0x42) { ppos++; return node(N_ASSERT, A_NWORDB, 0, 0, 0); }
      let cl = classNew();
      let r = parseEscape(cl);
      if (perr) return 0;
      if (r == 0xffffffff) return node(N_CLASS, <u32>cl, 0, 0, 0);
      return node(N_LIT, r, fFold ? 1 : 0, 0, 0);
    }
  }
  ppos++;
  return node(N_LIT, c, fFold ? 1 : 0, 0, 0);
}

// ---- program ----
//  instr (12): | op | x | y |
const I_CHAR = 1, I_CHARF = 2, I_ANY = 3, I_ANYNL = 4, I_CLASS = 5, I_SPLIT = 6, I_JMP = 7, I_SAVE = 8, I_MATCH = 9, I_ASSERT = 10;
const MAX_PROG: u32 = 50000;

let prog: usize = 0;
let progLen: u32 = 0;
let progCap: u32 = 0;

function emit(op: u32, x: u32, y: u32): u32 {
  if (progLen >= MAX_PROG) { perr = true; return progLen; }
  if (progLen == progCap) {
    let nc = progCap < 64 ? <u32>64 : progCap << 1;
    let np = malloc(<usize>nc * 12);
    if (progLen) memory.copy(np, prog, <usize>progLen * 12);
    prog = np; progCap = nc;
  }
  let p = prog + <usize>progLen * 12;
  store<u32>(p, op); store<u32>(p, x, 4); store<u32>(p, y, 8);
  return progLen++;
}
@inline function patch(i: u32, x: u32, y: u32): void { let p = prog + <usize>i * 12; store<u32>(p, x, 4); store<u32>(p, y, 8); }

function compileNode(n: usize): void {
  if (perr) return;
  switch (nk(n)) {
    case N_EMPTY: return;
    case N_LIT: {
      let c = na(n);
      if (nb(n) && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) emit(I_CHARF, c | 0x20, 0);
      else emit(I_CHAR, c, 0);
      return;
    }
    case N_ANY: emit(na(n) ? I_ANYNL : I_ANY, 0, 0); return;
    case N_CLASS: { let l = <usize>na(n); emit(I_CLASS, <u32>load<usize>(l), listLen(l) >> 1); return; }
    case N_ASSERT: emit(I_ASSERT, na(n), 0); return;
    case N_CAT: { let l = <usize>na(n); let k = listLen(l); for (let i: u32 = 0; i < k; i++) compileNode(<usize>listGet(l, i)); return; }
    case N_ALT: {
      let l = <usize>na(n);
      let k = listLen(l);
      let jumps = listNew();
      for (let i: u32 = 0; i < k; i++) {
        if (i + 1 < k) {
          let sp = emit(I_SPLIT, 0, 0);
          compileNode(<usize>listGet(l, i));
          listPush(jumps, emit(I_JMP, 0, 0));
          patch(sp, sp + 1, progLen);
        } else compileNode(<usize>listGet(l, i));
      }
      for (let i: u32 = 0; i < listLen(jumps); i++) patch(listGet(jumps, i), progLen, 0);
      return;
    }
    case N_GROUP: {
      let cap = nb(n);
      emit(I_SAVE, cap << 1, 0);
      compileNode(<usize>na(n));
      emit(I_SAVE, (cap << 1) + 1, 0);
      return;
    }
    case N_REP: {
      let sub = <usize>na(n);
      let min = <i32>nb(n), max = <i32>nc(n);
      let greedy = (nd(n) & 1) != 0;
      for (let i: i32 = 0; i < min; i++) compileNode(sub);
      if (max < 0) {
        // x*: L: split(body, out); body; jmp L
        let l = emit(I_SPLIT, 0, 0);
        compileNode(sub);
        emit(I_JMP, l, 0);
        if (greedy) patch(l, l + 1, progLen); else patch(l, progLen, l + 1);
      } else {
        let splits = listNew();
        for (let i: i32 = min; i < max; i++) {
          listPush(splits, emit(I_SPLIT, 0, 0));
          compileNode(sub);
        }
        for (let i: u32 = 0; i < listLen(splits); i++) {
          let s = listGet(splits, i);
          if (greedy) patch(s, s + 1, progLen); else patch(s, progLen, s + 1);
        }
      }
      return;
    }
  }
}

/** Compiles `pattern` (UTF-8); returns false if invalid. Program starts with an unanchored prefix. */
function compile(p: usize, n: usize): bool {
  pat = malloc((n + 1) << 2);
  plen = 0;
  let off: usize = 0;
  while (off < n) { store<u32>(pat + (<usize>plen << 2), decodeRune(p + off, p + n)); off += runeLen; plen++; }
  ppos = 0; perr = false; ncap = 0;
  fFold = false; fDotNL = false; fMulti = false; fUngreedy = false;
  let ast = parseAlt(0);
  if (perr || ppos != plen) return false;
  prog = 0; progLen = 0; progCap = 0;
  // 0: split 3, 1   1: anynl   2: jmp 0   3: save 0 ... save 1 match
  emit(I_SPLIT, 3, 1);
  emit(I_ANYNL, 0, 0);
  emit(I_JMP, 0, 0);
  emit(I_SAVE, 0, 0);
  compileNode(ast);
  emit(I_SAVE, 1, 0);
  emit(I_MATCH, 0, 0);
  requiredLiteral();
  return !perr;
}

// A literal every match starts with (the program's first instructions after
// `save 0`, when they are plain ASCII characters): a text without it cannot
// match, which is checked before running the program.
let litPtr: usize = 0;
let litLen: u32 = 0;

function requiredLiteral(): void {
  litLen = 0;
  let n: u32 = 0;
  while (<u32>4 + n < progLen) {
    let ins = prog + <usize>(4 + n) * 12;
    if (load<u32>(ins) != I_CHAR || load<u32>(ins, 4) >= 0x80) break;
    n++;
  }
  if (n == 0) return;
  litPtr = malloc(<usize>n);
  for (let i: u32 = 0; i < n; i++) store<u8>(litPtr + i, <u8>load<u32>(prog + <usize>(4 + i) * 12, 4));
  litLen = n;
}

function hasLiteral(t: usize, n: usize): bool {
  let m = <usize>litLen;
  if (m == 0) return true;
  if (m > n) return false;
  let first = load<u8>(litPtr);
  for (let i: usize = 0; i + m <= n; i++) {
    if (load<u8>(t + i) == first && memory.compare(t + i, litPtr, m) == 0) return true;
  }
  return false;
}

// ---- compiled-program cache ----
//
// Tracee bundles precompile their constant patterns once, before the heap
// mark their batches reset to (tracee.ts), so the programs stay valid for the
// module's life and regex.match does not recompile per event.

const CACHE_MAX: u32 = 32;
const ENTRY: usize = 28;
let cacheBuf: usize = 0; // entries: | patPtr | patLen | prog | progLen | ncap | litPtr | litLen |
let cacheN: u32 = 0;

export function regexPrecompile(p: usize, n: usize): void {
  if (cacheN >= CACHE_MAX) return;
  if (!compile(p, n)) return;
  if (cacheBuf == 0) cacheBuf = malloc(<usize>CACHE_MAX * ENTRY);
  let e = cacheBuf + <usize>cacheN * ENTRY;
  store<usize>(e, p);
  store<u32>(e, <u32>n, 4);
  store<usize>(e, prog, 8);
  store<u32>(e, progLen, 12);
  store<u32>(e, ncap, 16);
  store<usize>(e, litPtr, 20);
  store<u32>(e, litLen, 24);
  cacheN++;
}

function compileCached(p: usize, n: usize): bool {
  for (let i: u32 = 0; i < cacheN; i++) {
    let e = cacheBuf + <usize>i * ENTRY;
    if (<usize>load<u32>(e, 4) != n) continue;
    let q = load<usize>(e);
    if (q != p && memory.compare(q, p, n) != 0) continue;
    prog = load<usize>(e, 8);
    progLen = load<u32>(e, 12);
    ncap = load<u32>(e, 16);
    litPtr = load<usize>(e, 20);
    litLen = load<u32>(e, 24);
    return true;
  }
  return compile(p, n);
}

// ---- matcher ----

let text: usize = 0;
let tlen: usize = 0;
let caps: usize = 0; // i32[2 * (ncap + 1)]

function isWord(c: u32): bool { return isAlnum(c); }

function prevRune(pos: usize): u32 {
  if (pos == 0) return 0xffffffff;
  let q = pos - 1;
  while (q > 0 && (load<u8>(text + q) & 0xc0) == 0x80 && pos - q < 4) q--;
  let r = decodeRune(text + q, text + pos);
  return q + runeLen == pos ? r : 0xfffd;
}

function assertOk(kind: u32, pos: usize): bool {
  switch (kind) {
    case A_BOT: return pos == 0;
    case A_EOT: return pos == tlen;
    case A_BOLM: return pos == 0 || load<u8>(text + pos - 1) == 0x0a;
    case A_EOLM: return pos == tlen || load<u8>(text + pos) == 0x0a;
    case A_WORDB: case A_NWORDB: {
      let a = pos > 0 && isWord(prevRune(pos));
      let b = pos < tlen && isWord(decodeRune(text + pos, text + tlen));
      return (a != b) == (kind == A_WORDB);
    }
  }
  return false;
}

function classHas(ranges: usize, n: u32, c: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    if (c >= load<u32>(ranges + (<usize>i << 3)) && c <= load<u32>(ranges + (<usize>i << 3) + 4)) return true;
  }
  return false;
}

/** Runs the program from `start`; on success fills `caps` and returns true. */
function search(start: usize): bool {
  let ncaps = (ncap + 1) << 1;
  caps = malloc(<usize>ncaps << 2);
  for (let i: u32 = 0; i < ncaps; i++) store<i32>(caps + (<usize>i << 2), -1);
  let width = <usize>(tlen + 1);
  let visited = calloc(((<usize>progLen * width) >> 3) + 1);
  // job stack: (pc, pos) or restore (0x80000000 | slot, old)
  let stackCap: usize = 256;
  let stack = malloc(stackCap << 3);
  let sp: usize = 0;
  store<u32>(stack, 0); store<u32>(stack, <u32>start, 4); sp = 1;
  while (sp > 0) {
    sp--;
    let jpc = load<u32>(stack + (sp << 3));
    let jpos = load<u32>(stack + (sp << 3) + 4);
    if (jpc & 0x80000000) { store<i32>(caps + (<usize>(jpc & 0x7fffffff) << 2), <i32>jpos); continue; }
    let ip = jpc;
    let pos = <usize>jpos;
    while (true) {
      let bit = <usize>ip * width + pos;
      let vb = visited + (bit >> 3);
      let mask = <u8>(1 << <u8>(bit & 7));
      if (load<u8>(vb) & mask) break;
      store<u8>(vb, load<u8>(vb) | mask);
      let ins = prog + <usize>ip * 12;
      let op = load<u32>(ins);
      let x = load<u32>(ins, 4), y = load<u32>(ins, 8);
      if (op == I_SPLIT || op == I_SAVE) {
        if (sp + 2 >= stackCap) {
          let ns = malloc(stackCap << 4);
          memory.copy(ns, stack, stackCap << 3);
          stack = ns; stackCap <<= 1;
        }
        if (op == I_SPLIT) {
          store<u32>(stack + (sp << 3), y); store<u32>(stack + (sp << 3) + 4, <u32>pos); sp++;
          ip = x;
        } else {
          store<u32>(stack + (sp << 3), 0x80000000 | x);
          store<u32>(stack + (sp << 3) + 4, <u32>load<i32>(caps + (<usize>x << 2)));
          sp++;
          store<i32>(caps + (<usize>x << 2), <i32>pos);
          ip++;
        }
        continue;
      }
      if (op == I_JMP) { ip = x; continue; }
      if (op == I_MATCH) return true;
      if (op == I_ASSERT) { if (!assertOk(x, pos)) break; ip++; continue; }
      if (pos >= tlen) break;
      let c = decodeRune(text + pos, text + tlen);
      let w = runeLen;
      let ok = false;
      if (op == I_CHAR) ok = c == x;
      else if (op == I_CHARF) ok = (c | 0x20) == x && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
      else if (op == I_ANY) ok = c != 0x0a;
      else if (op == I_ANYNL) ok = true;
      else if (op == I_CLASS) ok = classHas(<usize>x, y, c);
      if (!ok) break;
      pos += w;
      ip++;
    }
  }
  return false;
}

// ---- builtins ----

export function b_regex__is_valid(p: usize): usize {
  if (!isStr(p)) return boolV(false);
  return boolV(compile(strPtr(p), strLen(p)));
}

export function b_regex__match(p: usize, s: usize): usize {
  if (!isStr(p) || !isStr(s)) return 0;
  if (!compileCached(strPtr(p), strLen(p))) return 0;
  text = strPtr(s); tlen = strLen(s);
  if (!hasLiteral(text, tlen)) return boolV(false);
  return boolV(search(0));
}

export function b_re_match(p: usize, s: usize): usize { return b_regex__match(p, s); }

export function b_regex__find_all_string_submatch_n(p: usize, s: usize, nv: usize): usize {
  if (!isStr(p) || !isStr(s) || !asInt(nv)) return 0;
  let limit = argInt;
  if (!compileCached(strPtr(p), strLen(p))) return 0;
  text = strPtr(s); tlen = strLen(s);
  let out = arrNew(0);
  let pos: usize = 0;
  let prevEnd: isize = -1;
  let count: i64 = 0;
  while ((limit < 0 || count < limit) && pos <= tlen) {
    if (!search(pos)) break;
    let ms = <usize>load<i32>(caps), me = <usize>load<i32>(caps, 4);
    let accept = true;
    if (me == ms) {
      if (<isize>ms == prevEnd) accept = false;
      if (pos < tlen) { decodeRune(text + pos, text + tlen); pos += runeLen; } else pos = tlen + 1;
      if (me > pos) pos = me;
    } else pos = me;
    prevEnd = <isize>me;
    if (!accept) continue;
    let m = arrNew(ncap + 1);
    for (let g: u32 = 0; g <= ncap; g++) {
      let a = load<i32>(caps + (<usize>g << 3)), b = load<i32>(caps + (<usize>g << 3) + 4);
      arrAppend(m, a >= 0 && b >= 0 ? strV(text + <usize>a, <usize>(b - a)) : strV(text, 0));
    }
    arrAppend(out, m);
    count++;
  }
  return out;
}
