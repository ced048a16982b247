// Rego lexer: identifiers, numbers, strings (JSON escapes), raw strings,
// template strings, operators and punctuation. Comments (`#` to end of line)
// are skipped. Each token records whether whitespace or a newline preceded
// it: refs (`a.b`, `a[b]`) continue only without whitespace, and a newline
// ends an expression in a body.
//
// A template string (`$"…{expr}…"`, `` $`…{expr}…` ``) is one token holding
// its text parts and, for each `{…}`, the tokens of the expression: they are
// lexed right there, up to the `}` that closes it, so strings, braces and
// template strings nested in an expression need no special casing.

import { RegoSyntaxError } from "./errors.ts";

export type TokKind = "ident" | "number" | "string" | "template" | "punct" | "eof";

/** A part of a template string: literal text, or the tokens of a `{…}` expression (ending with an eof token at its `}`). */
export type TemplatePart = { text: string } | { toks: Token[] };

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
  /** For template strings. */
  parts?: TemplatePart[];
}

const PUNCT2 = [":=", "==", "!=", "<=", ">="];
const PUNCT1 = "{}[]().,;:=<>+-*/%&|";
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export interface Comment {
  row: number;
  col: number;
  /** Text after the `#`. */
  text: string;
}

export function lex(src: string, file: string, comments?: Comment[]): Token[] {
  return new Scanner(src, file, comments).tokens(false);
}

class Scanner {
  private i = 0;
  private row = 1;
  private col = 1;
  private ws = false;
  private nl = false;

  constructor(private readonly src: string, private readonly file: string, private readonly comments?: Comment[]) {}

  private err(msg: string, row = this.row, col = this.col): never {
    throw new RegoSyntaxError(this.file, row, col, msg);
  }

  private adv(k = 1): void {
    for (let j = 0; j < k; j++) {
      if (this.src[this.i] === "\n") { this.row++; this.col = 1; } else this.col++;
      this.i++;
    }
  }

  /**
   * Tokens up to the end of the source, ending with an eof token; or, in a
   * template expression, up to the `}` that closes it (consumed), ending
   * with an eof token at that `}`.
   */
  tokens(inTemplate: boolean): Token[] {
    const { src } = this;
    const n = src.length;
    const toks: Token[] = [];
    let depth = 0;
    while (this.i < n) {
      const c = src[this.i];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") {
        if (c === "\n") this.nl = true;
        this.ws = true;
        this.adv();
        continue;
      }
      if (c === "#") {
        const r0 = this.row, c0 = this.col, start = this.i;
        while (this.i < n && src[this.i] !== "\n") this.adv();
        this.comments?.push({ row: r0, col: c0, text: src.slice(start + 1, this.i) });
        this.ws = true;
        continue;
      }
      const r0 = this.row, c0 = this.col;
      const push = (kind: TokKind, text: string, extra: Partial<Token> = {}) => {
        toks.push({ kind, text, row: r0, col: c0, ws: this.ws, nl: this.nl, ...extra });
        this.ws = false; this.nl = false;
      };
      if (/[A-Za-z_]/.test(c)) {
        let j = this.i + 1;
        while (j < n && /[A-Za-z0-9_]/.test(src[j])) j++;
        const text = src.slice(this.i, j);
        this.adv(j - this.i);
        push("ident", text);
        continue;
      }
      if (/[0-9]/.test(c)) {
        const m = /^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(this.i, this.i + 400));
        if (!m) this.err("invalid number");
        const text = m![0];
        if (this.i + text.length < n && /[A-Za-z_0-9.]/.test(src[this.i + text.length])) {
          // e.g. `1.` or `01` or `1abc`
          let j = this.i + text.length;
          while (j < n && /[A-Za-z_0-9.]/.test(src[j])) j++;
          this.err(`invalid number ${JSON.stringify(src.slice(this.i, j))}`);
        }
        this.adv(text.length);
        push("number", text);
        continue;
      }
      if (c === '"') {
        this.adv();
        push("string", fixSurrogates(this.quoted(false, r0, c0).text));
        continue;
      }
      if (c === "`") {
        this.adv();
        push("string", this.raw(false, r0, c0).text, { raw: true });
        continue;
      }
      if (c === "$" && (src[this.i + 1] === '"' || src[this.i + 1] === "`")) {
        const raw = src[this.i + 1] === "`", ws = this.ws, nl = this.nl;
        this.ws = false; this.nl = false;
        const parts = this.template();
        toks.push({ kind: "template", text: "", row: r0, col: c0, ws, nl, raw, parts });
        continue;
      }
      if (inTemplate && c === "}" && depth === 0) {
        this.adv();
        toks.push({ kind: "eof", text: "", row: r0, col: c0, ws: this.ws, nl: true });
        this.ws = false; this.nl = false;
        return toks;
      }
      const two = src.slice(this.i, this.i + 2);
      if (PUNCT2.includes(two)) {
        this.adv(2);
        push("punct", two);
        continue;
      }
      if (PUNCT1.includes(c)) {
        if (c === "{") depth++;
        if (c === "}") depth--;
        this.adv();
        push("punct", c);
        continue;
      }
      this.err(`illegal token ${JSON.stringify(c)}`);
    }
    if (inTemplate) this.err("expected } to end template string expression");
    toks.push({ kind: "eof", text: "", row: this.row, col: this.col, ws: this.ws, nl: true });
    return toks;
  }

  /** A template string from its `$`: text parts and expression token lists, until the closing quote. */
  private template(): TemplatePart[] {
    const r0 = this.row, c0 = this.col;
    this.adv(); // $
    const raw = this.src[this.i] === "`";
    this.adv(); // opening quote
    const parts: TemplatePart[] = [];
    for (;;) {
      const { text, open } = raw ? this.raw(true, r0, c0) : this.quoted(true, r0, c0);
      if (text) parts.push({ text: raw ? text : fixSurrogates(text) });
      if (!open) return parts;
      parts.push({ toks: this.tokens(true) });
    }
  }

  /**
   * The rest of a double-quoted string after its opening quote, JSON escapes
   * decoded. In a template string `\{` is a literal `{`, and an unescaped `{`
   * ends the text part (`open`: an expression follows).
   */
  private quoted(template: boolean, r0: number, c0: number): { text: string; open: boolean } {
    const { src } = this;
    let out = "";
    for (;;) {
      if (this.i >= src.length || src[this.i] === "\n") this.err(template ? "non-terminated template string" : "non-terminated string", r0, c0);
      const ch = src[this.i];
      if (ch === '"') { this.adv(); return { text: out, open: false }; }
      if (template && ch === "{") { this.adv(); return { text: out, open: true }; }
      if (ch === "\\") {
        const e = src[this.i + 1];
        if (ESCAPES[e] !== undefined || (template && e === "{")) {
          out += e === "{" ? "{" : ESCAPES[e];
          this.adv(2);
          continue;
        }
        if (e === "u") {
          const hex = src.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.err("invalid escape sequence in string");
          out += String.fromCharCode(parseInt(hex, 16));
          this.adv(6);
          continue;
        }
        this.err(`invalid escape sequence \\${e ?? ""}`);
      }
      if (ch.charCodeAt(0) < 0x20) this.err("invalid control character in string");
      out += ch;
      this.adv();
    }
  }

  /** The rest of a raw string after its opening backtick: no escapes, except `\{` in a template string. */
  private raw(template: boolean, r0: number, c0: number): { text: string; open: boolean } {
    const { src } = this;
    let out = "";
    for (;;) {
      if (this.i >= src.length) this.err(template ? "non-terminated template string" : "non-terminated raw string", r0, c0);
      const ch = src[this.i];
      if (ch === "`") { this.adv(); return { text: out, open: false }; }
      if (template && ch === "\\" && src[this.i + 1] === "{") { out += "{"; this.adv(2); continue; }
      if (template && ch === "{") { this.adv(); return { text: out, open: true }; }
      out += ch;
      this.adv();
    }
  }
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
