// Rego lexer: identifiers, numbers, strings (JSON escapes), raw strings,
// operators and punctuation. Comments (`#` to end of line) are skipped.
// Each token records whether whitespace or a newline preceded it: refs
// (`a.b`, `a[b]`) continue only without whitespace, and a newline ends an
// expression in a body.

import { RegoSyntaxError } from "./errors.ts";

export type TokKind = "ident" | "number" | "string" | "punct" | "eof";

export interface Token {
  kind: TokKind;
  /** Identifier or punctuation text; decoded value for strings; literal text for numbers. */
  text: string;
  row: number;
  col: number;
  /** Whitespace (of any kind) precedes the token. */
  ws: boolean;
  /** A newline precedes the token. */
  nl: boolean;
  /** For strings: raw (backtick) string. */
  raw?: boolean;
}

const PUNCT3: string[] = [];
const PUNCT2 = [":=", "==", "!=", "<=", ">="];
const PUNCT1 = "{}[]().,;:=<>+-*/%&|";

export interface Comment {
  row: number;
  col: number;
  /** Text after the `#`. */
  text: string;
}

export function lex(src: string, file: string, comments?: Comment[]): Token[] {
  const toks: Token[] = [];
  let i = 0, row = 1, col = 1;
  let ws = false, nl = false;
  const n = src.length;
  const err = (msg: string, r = row, c = col): never => { throw new RegoSyntaxError(file, r, c, msg); };
  const adv = (k = 1) => {
    for (let j = 0; j < k; j++) {
      if (src[i] === "\n") { row++; col = 1; } else col++;
      i++;
    }
  };
  while (i < n) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      if (c === "\n") nl = true;
      ws = true;
      adv();
      continue;
    }
    if (c === "#") {
      const r0 = row, c0 = col, start = i;
      while (i < n && src[i] !== "\n") adv();
      comments?.push({ row: r0, col: c0, text: src.slice(start + 1, i) });
      ws = true;
      continue;
    }
    const r0 = row, c0 = col;
    const push = (kind: TokKind, text: string, extra: Partial<Token> = {}) => {
      toks.push({ kind, text, row: r0, col: c0, ws, nl, ...extra });
      ws = false; nl = false;
    };
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j])) j++;
      const text = src.slice(i, j);
      adv(j - i);
      push("ident", text);
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 400));
      if (!m) err("invalid number");
      const text = m![0];
      if (i + text.length < n && /[A-Za-z_0-9.]/.test(src[i + text.length])) {
        // e.g. `1.` or `01` or `1abc`
        let j = i + text.length;
        while (j < n && /[A-Za-z_0-9.]/.test(src[j])) j++;
        err(`invalid number ${JSON.stringify(src.slice(i, j))}`);
      }
      adv(text.length);
      push("number", text);
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let out = "";
      while (true) {
        if (j >= n || src[j] === "\n") err("non-terminated string");
        const ch = src[j];
        if (ch === '"') break;
        if (ch === "\\") {
          const e = src[j + 1];
          switch (e) {
            case '"': out += '"'; j += 2; break;
            case "\\": out += "\\"; j += 2; break;
            case "/": out += "/"; j += 2; break;
            case "b": out += "\b"; j += 2; break;
            case "f": out += "\f"; j += 2; break;
            case "n": out += "\n"; j += 2; break;
            case "r": out += "\r"; j += 2; break;
            case "t": out += "\t"; j += 2; break;
            case "u": {
              const hex = src.slice(j + 2, j + 6);
              if (!/^[0-9a-fA-F]{4}$/.test(hex)) err("invalid escape sequence in string", row, col + (j - i));
              out += String.fromCharCode(parseInt(hex, 16));
              j += 6;
              break;
            }
            default: err(`invalid escape sequence \\${e ?? ""}`, row, col + (j - i));
          }
          continue;
        }
        if (ch.charCodeAt(0) < 0x20) err("invalid control character in string", row, col + (j - i));
        out += ch;
        j++;
      }
      adv(j + 1 - i);
      // Lone surrogates decode like Go's JSON decoder: replacement character.
      push("string", fixSurrogates(out));
      continue;
    }
    if (c === "`") {
      let j = i + 1;
      while (j < n && src[j] !== "`") j++;
      if (j >= n) err("non-terminated raw string");
      const text = src.slice(i + 1, j);
      adv(j + 1 - i);
      push("string", text, { raw: true });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT3.length && PUNCT3.includes(src.slice(i, i + 3))) {
      adv(3); push("punct", src.slice(i - 3, i)); continue;
    }
    if (PUNCT2.includes(two)) {
      adv(2);
      push("punct", two);
      continue;
    }
    if (PUNCT1.includes(c)) {
      adv();
      push("punct", c);
      continue;
    }
    if (c === "$" && src[i + 1] === '"') err("template strings are not supported");
    err(`illegal token ${JSON.stringify(c)}`);
  }
  toks.push({ kind: "eof", text: "", row, col, ws, nl: true });
  return toks;
}

function fixSurrogates(s: string): string {
  let out = "";
  for (let k = 0; k < s.length; k++) {
    const code = s.charCodeAt(k);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = s.charCodeAt(k + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { out += s[k] + s[k + 1]; k++; continue; }
      out += "\ufffd";
      continue;
    }
    if (code >= 0xdc00 && code <= 0xdfff) { out += "\ufffd"; continue; }
    out += s[k];
  }
  return out;
}
