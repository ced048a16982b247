/**
 * Go's fmt package for template values: %v printing (map[k:v] sorted by key,
 * [a b] slices, {…} structs, <nil>, exact 64-bit integers, floats like
 * strconv 'g'), Sprint/Sprintln spacing rules and Sprintf with Go's verbs,
 * flags, width, precision and %!verb(type=value) error forms.
 */
import { GoStruct, GoTime, kindOf, sortedKeys, typeName } from './values.ts';
import { timeString } from './go-time.ts';

interface Flags {
  /** %+v: struct field names (Go clears `plus` for 'v' and sets this instead). */
  plusV?: boolean;
  plus: boolean; minus: boolean; sharp: boolean; space: boolean; zero: boolean;
  width: number; prec: number; // -1: not set
}

const NO_FLAGS: Flags = { plus: false, minus: false, sharp: false, space: false, zero: false, width: -1, prec: -1 };

/** %v of one value (nested nil prints <nil>). */
export function formatValue(v: unknown): string {
  return fmtArg(v, 'v', NO_FLAGS, 0);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(args[i]);
  }
  return out;
}

/** fmt.Sprintln: always spaces, then a newline. */
export function sprintln(args: readonly unknown[]): string {
  return args.map(formatValue).join(' ') + '\n';
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) { out += format.slice(i); break; }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = { ...NO_FLAGS };
    flags: for (; i < format.length; i++) {
      switch (format[i]) {
        case '+': f.plus = true; break;
        case '-': f.minus = true; f.zero = false; break;
        case '#': f.sharp = true; break;
        case ' ': f.space = true; break;
        case '0': f.zero = !f.minus; break;
        default: break flags;
      }
    }
    // Width.
    if (format[i] === '*') {
      i++;
      const w = args[argi++];
      if (typeof w === 'number' && Number.isInteger(w)) {
        f.width = Math.abs(w);
        if (w < 0) { f.minus = true; f.zero = false; }
      } else out += '%!(BADWIDTH)';
    } else {
      const start = i;
      while (i < format.length && format[i] >= '0' && format[i] <= '9') i++;
      if (i > start) f.width = Number(format.slice(start, i));
    }
    // Precision.
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = args[argi++];
        if (typeof p === 'number' && Number.isInteger(p) && p >= 0) f.prec = p;
        else out += '%!(BADPREC)';
      } else {
        const start = i;
        while (i < format.length && format[i] >= '0' && format[i] <= '9') i++;
        f.prec = Number(format.slice(start, i) || '0');
      }
    }
    if (i >= format.length) { out += '%!(NOVERB)'; break; }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') { out += '%'; continue; }
    if (verb === 'v' && f.plus) { f.plus = false; f.plusV = true; }
    if (argi >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const arg = args[argi++];
    out += verb === 'T' ? pad(typeName(arg), f) : fmtArg(arg, verb, f, 0);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${typeName(a)}=${formatValue(a)}`).join(', ') + ')';
  }
  return out;
}

function badVerb(v: unknown, verb: string): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
}

function fmtArg(v: unknown, verb: string, f: Flags, depth: number): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return verb === 'v' ? pad('<nil>', f) : badVerb(v, verb);
    case 'bool':
      return verb === 'v' || verb === 't' ? pad(String(v), f) : badVerb(v, verb);
    case 'int':
      return fmtInteger(typeof v === 'bigint' ? v : BigInt(v as number), verb, f) ?? badVerb(v, verb);
    case 'float':
      return fmtFloat(v as number, verb, f) ?? badVerb(v, verb);
    case 'string':
      return fmtString(v as string, verb, f) ?? badVerb(v, verb);
    case 'bytes': {
      const b = v as Uint8Array;
      if (verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') return fmtString(Buffer.from(b).toString('latin1'), verb, f, true)!;
      return '[' + Array.from(b, (x) => fmtArg(x, verb, f, depth + 1)).join(' ') + ']';
    }
    case 'slice':
      return '[' + (v as unknown[]).map((e) => fmtArg(e, verb, f, depth + 1)).join(' ') + ']';
    case 'map': {
      const m = v as Record<string, unknown>;
      return 'map[' + sortedKeys(m).map((k) => fmtArg(k, verb, f, depth + 1) + ':' + fmtArg(m[k], verb, f, depth + 1)).join(' ') + ']';
    }
    case 'struct': {
      const s = v as GoStruct;
      const parts: string[] = [];
      s.type.fields.forEach((field, i) => {
        if (field.hidden) return;
        const value = fmtArg(s.values[i], verb, f, depth + 1);
        parts.push(f.plusV ? `${field.name}:${value}` : value);
      });
      return '{' + parts.join(' ') + '}';
    }
    case 'time': {
      const t = v instanceof Date ? GoTime.fromDate(v) : (v as GoTime);
      // time.Time is a Stringer: %v and %s use String().
      return verb === 'v' || verb === 's' ? pad(timeString(t), f) : verb === 'q' ? pad(quote(timeString(t)), f) : badVerb(v, verb);
    }
    default:
      return verb === 'v' ? pad(String(v), f) : badVerb(v, verb);
  }
}

/** Pads to the width (in runes), left unless '-', with zeros when asked and allowed. */
function pad(s: string, f: Flags, zeroOk = false): string {
  if (f.width < 0) return s;
  const n = [...s].length;
  if (n >= f.width) return s;
  const fill = f.width - n;
  if (f.minus) return s + ' '.repeat(fill);
  if (f.zero && zeroOk) {
    const sign = /^[+\- ]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

function signed(abs: string, negative: boolean, f: Flags): string {
  if (negative) return '-' + abs;
  if (f.plus) return '+' + abs;
  if (f.space) return ' ' + abs;
  return abs;
}

function fmtInteger(n: bigint, verb: string, f: Flags): string | undefined {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v': case 'd': digits = abs.toString(10); break;
    case 'b': digits = abs.toString(2); if (f.sharp) prefix = '0b'; break;
    case 'o': digits = abs.toString(8); if (f.sharp) prefix = '0'; break;
    case 'O': digits = abs.toString(8); prefix = '0o'; break;
    case 'x': digits = abs.toString(16); if (f.sharp) prefix = '0x'; break;
    case 'X': digits = abs.toString(16).toUpperCase(); if (f.sharp) prefix = '0X'; break;
    case 'c': return pad(safeChar(n), f);
    case 'q': return pad("'" + quoteRune(safeChar(n), "'") + "'", f);
    case 'U': {
      const hex = abs.toString(16).toUpperCase().padStart(4, '0');
      return pad(f.sharp ? `U+${hex} '${safeChar(n)}'` : `U+${hex}`, f);
    }
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
      return fmtFloat(Number(n), verb, f);
    default: return undefined;
  }
  if (f.prec >= 0) {
    if (f.prec === 0 && abs === 0n) digits = '';
    digits = digits.padStart(f.prec, '0');
  }
  // Go ignores the 0 flag when a precision is given.
  return pad(signed(prefix + digits, neg, f), f, f.prec < 0);
}

function safeChar(n: bigint): string {
  return n >= 0n && n <= 0x10ffffn && !(n >= 0xd800n && n <= 0xdfffn) ? String.fromCodePoint(Number(n)) : '\ufffd';
}

/** The shortest decimal digits of |x| and its decimal exponent (x = 0.d1d2… × 10^dp). */
function shortestDigits(x: number, precision = -1): { digits: string; dp: number } {
  const s = precision < 0 ? Math.abs(x).toExponential() : Math.abs(x).toExponential(Math.max(precision - 1, 0));
  const [mant, exp] = s.split('e');
  let digits = mant.replace('.', '');
  digits = digits.replace(/0+$/, '') || '0';
  return { digits, dp: Number(exp) + 1 };
}

function fmtE(neg: boolean, digits: string, dp: number, prec: number, upper: boolean, f: Flags): string {
  // prec digits after the point; digits is already rounded to prec+1 significant digits.
  const d = digits.padEnd(prec + 1, '0');
  let mant = d[0];
  if (prec > 0) mant += '.' + d.slice(1, prec + 1);
  else if (f.sharp) mant += '.';
  const exp = digits === '0' ? 0 : dp - 1;
  const e = (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  return signed(mant + (upper ? 'E' : 'e') + e, neg, f);
}

function fmtFixedDigits(neg: boolean, digits: string, dp: number, prec: number, f: Flags): string {
  let intPart: string;
  let frac: string;
  if (dp <= 0) { intPart = '0'; frac = '0'.repeat(-dp) + digits; } else { intPart = digits.slice(0, dp).padEnd(dp, '0'); frac = digits.slice(dp); }
  frac = frac.padEnd(prec, '0').slice(0, prec);
  return signed(intPart + (prec > 0 || f.sharp ? '.' + frac : ''), neg, f);
}

/** strconv.FormatFloat(x, 'g', prec) (prec -1: shortest). */
function formatG(x: number, prec: number, upper: boolean, f: Flags): string {
  const neg = x < 0 || Object.is(x, -0);
  if (x === 0) return signed(prec > 0 && f.sharp ? '0.' + '0'.repeat(prec - 1) : '0', neg, f);
  const shortest = prec < 0;
  if (prec === 0) prec = 1;
  const { digits, dp } = shortestDigits(x, shortest ? -1 : prec);
  let p = shortest ? digits.length : prec;
  let eprec = p;
  if (eprec > digits.length && digits.length >= dp) eprec = digits.length;
  if (shortest) eprec = 6;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (p > digits.length && !f.sharp) p = digits.length;
    return fmtE(neg, digits, dp, p - 1, upper, f);
  }
  if (p > dp && !f.sharp) p = digits.length;
  return fmtFixedDigits(neg, digits, dp, Math.max(p - dp, 0), f);
}

function fmtFloat(x: number, verb: string, f: Flags): string | undefined {
  if (!Number.isFinite(x)) {
    if (!'vgGeEfF'.includes(verb)) return undefined;
    // Go keeps the sign of an infinity and drops NaN's unless asked; never zero-padded.
    let s = Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
    if (f.space && s[0] !== '-') s = ' ' + s.replace('+', '');
    else if (f.plus && s === 'NaN') s = '+NaN';
    return pad(s, f);
  }
  let s: string;
  switch (verb) {
    case 'v': case 'g': case 'G':
      s = formatG(x, f.prec, verb === 'G', f);
      break;
    case 'e': case 'E': {
      const prec = f.prec < 0 ? 6 : f.prec;
      const { digits, dp } = x === 0 ? { digits: '0', dp: 1 } : shortestDigits(x, prec + 1);
      s = fmtE(x < 0 || Object.is(x, -0), digits, dp, prec, verb === 'E', f);
      break;
    }
    case 'f': case 'F': {
      const prec = f.prec < 0 ? 6 : f.prec;
      const abs = Math.abs(x);
      let text = abs < 1e21 ? abs.toFixed(Math.min(prec, 100)) : BigInt(abs).toString() + (prec > 0 ? '.' + '0'.repeat(Math.min(prec, 100)) : '');
      if (prec > 100) text += '0'.repeat(prec - 100);
      s = signed(text + (f.sharp && prec === 0 ? '.' : ''), x < 0 || Object.is(x, -0), f);
      break;
    }
    default:
      return undefined;
  }
  return pad(s, f, true);
}

function fmtString(s: string, verb: string, f: Flags, bytes = false): string | undefined {
  switch (verb) {
    case 'v': case 's': {
      let text = bytes ? Buffer.from(s, 'latin1').toString('utf8') : s;
      if (f.prec >= 0) text = [...text].slice(0, f.prec).join('');
      return pad(text, f);
    }
    case 'q': {
      let text = bytes ? Buffer.from(s, 'latin1').toString('utf8') : s;
      if (f.prec >= 0) text = [...text].slice(0, f.prec).join('');
      if (f.sharp && !/[`\u0000-\u0008\u000a-\u001f\u007f\ufeff]/.test(text)) return pad('`' + text + '`', f);
      return pad(quote(text, f.plus), f);
    }
    case 'x': case 'X': {
      let buf = bytes ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf8');
      if (f.prec >= 0) buf = buf.subarray(0, f.prec);
      let parts = Array.from(buf, (b) => b.toString(16).padStart(2, '0'));
      if (verb === 'X') parts = parts.map((p) => p.toUpperCase());
      const prefix = verb === 'X' ? '0X' : '0x';
      let out: string;
      if (f.space) out = parts.map((p) => (f.sharp ? prefix + p : p)).join(' ');
      else out = (f.sharp && parts.length ? prefix : '') + parts.join('');
      return pad(out, f);
    }
    default:
      return undefined;
  }
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function quoteRune(ch: string, q: string, asciiOnly = false): string {
  const cp = ch.codePointAt(0)!;
  if (ch === q || ch === '\\') return '\\' + ch;
  if (PRINTABLE.test(ch) && (!asciiOnly || cp < 0x80)) return ch;
  switch (ch) {
    case '\x07': return '\\a';
    case '\b': return '\\b';
    case '\f': return '\\f';
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    case '\v': return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd'; // a lone surrogate: invalid UTF-8 in Go
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** strconv.Quote (QuoteToASCII when asciiOnly). */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch, '"', asciiOnly);
  return out + '"';
}
