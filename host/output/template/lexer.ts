/**
 * The text/template lexer: splits a template into text and action tokens,
 * handling trim markers ("{{- " and " -}}"), comments, strings, raw strings,
 * character constants, numbers, fields, variables and keywords. Every token
 * carries its offset; line and column are computed from it for errors.
 */
import { TemplateError } from './errors.ts';

export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'comment' | 'space' | 'eof'
  | 'identifier' | 'field' | 'variable' | 'dot' | 'nil' | 'bool' | 'number' | 'string' | 'rawString' | 'char'
  | 'pipe' | 'leftParen' | 'rightParen' | 'declare' | 'assign' | 'comma'
  | 'keyword';

export interface Token {
  type: TokenType;
  /** The token's text (for strings: the quoted source text). */
  value: string;
  pos: number;
}

export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

const LEFT = '{{';
const RIGHT = '}}';

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string) => c === '_' || /[\p{L}\p{Nd}]/u.test(c);

/** Line (1-based) and column (characters before the position on its line) of an offset. */
export function location(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
  }
  return { line, col: pos - lineStart };
}

export function lex(name: string, text: string): Token[] {
  const tokens: Token[] = [];
  const fail = (pos: number, message: string): never => {
    const { line, col } = location(text, pos);
    throw new TemplateError(name, line, col, message);
  };
  let pos = 0;
  // Set by " -}}": the following text loses its leading white space.
  let trimNext = false;

  while (pos <= text.length) {
    // Text up to the next left delimiter.
    let open = text.indexOf(LEFT, pos);
    const end = open < 0 ? text.length : open;
    let body = text.slice(pos, end);
    if (trimNext) {
      const trimmed = body.replace(/^[ \t\r\n]+/, '');
      pos += body.length - trimmed.length;
      body = trimmed;
      trimNext = false;
    }
    let afterLeft = open + LEFT.length;
    const leftTrim = open >= 0 && text[afterLeft] === '-' && isSpace(text[afterLeft + 1] ?? '');
    if (leftTrim) body = body.replace(/[ \t\r\n]+$/, '');
    if (body.length) tokens.push({ type: 'text', value: body, pos });
    if (open < 0) break;
    tokens.push({ type: 'leftDelim', value: LEFT, pos: open });
    if (leftTrim) afterLeft += 2;
    pos = afterLeft;

    // A comment: {{/* … */}} with optional trim markers, nothing else in the action.
    if (text.startsWith('/*', pos)) {
      const close = text.indexOf('*/', pos + 2);
      if (close < 0) fail(open, 'unclosed comment');
      tokens.push({ type: 'comment', value: text.slice(pos, close + 2), pos });
      pos = close + 2;
      const rt = rightDelimAt(pos);
      if (!rt) fail(open, 'comment ends before closing delimiter');
      tokens.push({ type: 'rightDelim', value: RIGHT, pos: rt!.at });
      pos = rt!.after;
      trimNext = rt!.trim;
      continue;
    }

    // Inside an action.
    let parenDepth = 0;
    for (;;) {
      const rt = rightDelimAt(pos);
      if (rt) {
        if (parenDepth > 0) fail(pos, 'unclosed left paren');
        tokens.push({ type: 'rightDelim', value: RIGHT, pos: rt.at });
        pos = rt.after;
        trimNext = rt.trim;
        break;
      }
      if (pos >= text.length) fail(open, 'unclosed action');
      const c = text[pos];
      const start = pos;
      if (isSpace(c)) {
        while (pos < text.length && isSpace(text[pos]) && !rightDelimAt(pos)) pos++;
        tokens.push({ type: 'space', value: text.slice(start, pos), pos: start });
      } else if (c === '=') {
        pos++;
        tokens.push({ type: 'assign', value: '=', pos: start });
      } else if (c === ':') {
        if (text[pos + 1] !== '=') fail(pos, 'expected :=');
        pos += 2;
        tokens.push({ type: 'declare', value: ':=', pos: start });
      } else if (c === '|') {
        pos++;
        tokens.push({ type: 'pipe', value: '|', pos: start });
      } else if (c === '"') {
        pos++;
        for (;;) {
          if (pos >= text.length || text[pos] === '\n') fail(start, 'unterminated quoted string');
          if (text[pos] === '\\') pos += 2;
          else if (text[pos++] === '"') break;
        }
        tokens.push({ type: 'string', value: text.slice(start, pos), pos: start });
      } else if (c === '`') {
        const close = text.indexOf('`', pos + 1);
        if (close < 0) fail(start, 'unterminated raw quoted string');
        pos = close + 1;
        tokens.push({ type: 'rawString', value: text.slice(start, pos), pos: start });
      } else if (c === "'") {
        pos++;
        for (;;) {
          if (pos >= text.length || text[pos] === '\n') fail(start, 'unterminated character constant');
          if (text[pos] === '\\') pos += 2;
          else if (text[pos++] === "'") break;
        }
        tokens.push({ type: 'char', value: text.slice(start, pos), pos: start });
      } else if (c === '$') {
        pos++;
        while (pos < text.length && isAlnum(text[pos])) pos++;
        checkTerminator(pos);
        tokens.push({ type: 'variable', value: text.slice(start, pos), pos: start });
      } else if (c === '.') {
        if (/[0-9]/.test(text[pos + 1] ?? '')) {
          pos = scanNumber(pos);
          tokens.push({ type: 'number', value: text.slice(start, pos), pos: start });
        } else {
          pos++;
          while (pos < text.length && isAlnum(text[pos])) pos++;
          checkTerminator(pos);
          tokens.push(pos === start + 1 ? { type: 'dot', value: '.', pos: start } : { type: 'field', value: text.slice(start, pos), pos: start });
        }
      } else if (c === '+' || c === '-' || /[0-9]/.test(c)) {
        pos = scanNumber(pos);
        tokens.push({ type: 'number', value: text.slice(start, pos), pos: start });
      } else if (isAlnum(c)) {
        while (pos < text.length && isAlnum(text[pos])) pos++;
        checkTerminator(pos);
        const word = text.slice(start, pos);
        const type: TokenType = KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier';
        tokens.push({ type, value: word, pos: start });
      } else if (c === '(') {
        pos++;
        parenDepth++;
        tokens.push({ type: 'leftParen', value: '(', pos: start });
      } else if (c === ')') {
        pos++;
        if (--parenDepth < 0) fail(start, 'unexpected right paren');
        tokens.push({ type: 'rightParen', value: ')', pos: start });
      } else if (c === ',') {
        pos++;
        tokens.push({ type: 'comma', value: ',', pos: start });
      } else {
        fail(start, `unrecognized character in action: ${describeChar(c)}`);
      }
    }
  }
  tokens.push({ type: 'eof', value: '', pos: text.length });
  return tokens;

  /** "}}" or " -}}" at `at` (the trim form needs white space before the dash). */
  function rightDelimAt(at: number): { at: number; after: number; trim: boolean } | undefined {
    if (isSpace(text[at] ?? '') && text[at + 1] === '-' && text.startsWith(RIGHT, at + 2)) return { at: at + 2, after: at + 2 + RIGHT.length, trim: true };
    if (text.startsWith(RIGHT, at)) return { at, after: at + RIGHT.length, trim: false };
    return undefined;
  }

  function checkTerminator(at: number): void {
    if (at >= text.length) return;
    const c = text[at];
    if (isSpace(c) || c === '.' || c === ',' || c === '|' || c === ':' || c === ')' || c === '(' || c === '=' || text.startsWith(RIGHT, at)) return;
    fail(at, `bad character ${describeChar(c)}`);
  }

  function scanNumber(at: number): number {
    const start = at;
    if (text[at] === '+' || text[at] === '-') at++;
    let digits = '0123456789_';
    if (text[at] === '0' && /[xXoObB]/.test(text[at + 1] ?? '')) {
      const base = text[at + 1].toLowerCase();
      digits = base === 'x' ? '0123456789abcdefABCDEF_' : base === 'o' ? '01234567_' : '01_';
      at += 2;
    }
    const run = () => { while (at < text.length && digits.includes(text[at])) at++; };
    run();
    if (text[at] === '.') { at++; run(); }
    if (digits.length <= 11 && /[eE]/.test(text[at] ?? '')) {
      at++;
      if (text[at] === '+' || text[at] === '-') at++;
      while (at < text.length && /[0-9_]/.test(text[at])) at++;
    } else if (digits.length > 11 && /[pP]/.test(text[at] ?? '')) {
      at++;
      if (text[at] === '+' || text[at] === '-') at++;
      while (at < text.length && /[0-9_]/.test(text[at])) at++;
    }
    if (at < text.length && isAlnum(text[at])) fail(start, `bad number syntax: "${text.slice(start, at + 1)}"`);
    return at;
  }
}

/** Go's %#U of a character: U+0023 '#'. */
function describeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}
