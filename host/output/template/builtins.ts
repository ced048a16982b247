/**
 * text/template's predefined functions: and or not len index slice print
 * printf println html js urlquery eq ne lt le gt ge (and/or short-circuit in
 * the executor). Errors carry Go's messages.
 */
import type { FuncMap } from './funcs.ts';
import { formatValue, sprint, sprintf, sprintln } from './go-fmt.ts';
import { compareStrings, isTrue, kindOf, typeName, utf8Length } from './values.ts';

type BasicKind = 'bool' | 'int' | 'float' | 'string' | 'invalid' | 'other';

function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  if (k === 'bool' || k === 'int' || k === 'float' || k === 'string') return k;
  if (k === 'invalid' || k === 'nil') return 'invalid';
  return 'other';
}

const numeric = (k: BasicKind) => k === 'int' || k === 'float';

/** Compares two numbers exactly, whether they are numbers or BigInts. */
function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    if (Number.isInteger(a) || typeof a === 'bigint') {
      if (Number.isInteger(b) || typeof b === 'bigint') {
        const x = BigInt(a);
        const y = BigInt(b);
        return x < y ? -1 : x > y ? 1 : 0;
      }
    }
  }
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2 && !(numeric(k1) && numeric(k2))) {
      // Comparing with nil is false, not an error.
      if (k1 !== 'invalid' && k2 !== 'invalid') throw new Error('incompatible types for comparison');
    } else {
      switch (k1) {
        case 'invalid': truth = true; break;
        case 'int': case 'float': truth = compareNumbers(a as number, b as number) === 0; break;
        case 'bool': case 'string': truth = a === b; break;
        default: {
          const kind = kindOf(a);
          if (kind === 'slice' || kind === 'map' || kind === 'bytes') throw new Error(`non-comparable type ${formatValue(a)}: ${typeName(a)}`);
          truth = a === b;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k1 === 'other' || k2 === 'invalid' || k2 === 'other') throw new Error('invalid type for comparison');
  if (numeric(k1) && numeric(k2)) return compareNumbers(a as number, b as number) < 0;
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  return compareStrings(a as string, b as string) < 0;
}

function length(v: unknown): number {
  switch (kindOf(v)) {
    case 'string': return utf8Length(v as string);
    case 'bytes': return (v as Uint8Array).length;
    case 'slice': return (v as unknown[]).length;
    case 'map': return Object.keys(v as object).length;
    case 'invalid': case 'nil': throw new Error('len of nil pointer');
    default: throw new Error(`len of type ${typeName(v)}`);
  }
}

function intIndex(i: unknown, cap: number, what = 'index'): number {
  const k = kindOf(i);
  if (k === 'invalid' || k === 'nil') throw new Error('cannot index slice/array with nil');
  if (k !== 'int') throw new Error(`cannot index slice/array with type ${typeName(i)}`);
  const x = Number(i);
  if (x < 0 || x > cap) throw new Error(`${what} out of range: ${String(i)}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === null || item === undefined) throw new Error('index of untyped nil');
  for (const i of indexes) {
    switch (kindOf(item)) {
      case 'string': {
        const bytes = Buffer.from(item as string, 'utf8');
        const x = intIndex(i, bytes.length);
        if (x >= bytes.length) throw new Error(`index out of range: ${x}`);
        item = bytes[x];
        break;
      }
      case 'bytes':
      case 'slice': {
        const a = item as ArrayLike<unknown>;
        const x = intIndex(i, a.length);
        if (x >= a.length) throw new Error(`index out of range: ${x}`);
        item = a[x];
        break;
      }
      case 'map': {
        if (typeof i !== 'string') throw new Error(`value has type ${typeName(i)}; should be string`);
        const m = item as Record<string, unknown>;
        // A missing key gives the element type's zero value: nil.
        item = Object.hasOwn(m, i) ? m[i] : null;
        break;
      }
      case 'invalid': case 'nil':
        throw new Error('index of nil pointer');
      default:
        throw new Error(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === null || item === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  if (k !== 'string' && k !== 'slice' && k !== 'bytes') throw new Error(`can't slice item of type ${typeName(item)}`);
  if (k === 'string' && indexes.length === 3) throw new Error('cannot 3-index slice a string');
  const bytes = k === 'string' ? Buffer.from(item as string, 'utf8') : undefined;
  const len = bytes ? bytes.length : (item as ArrayLike<unknown>).length;
  const idx = [0, len];
  indexes.slice(0, 2).forEach((i, n) => { idx[n] = intIndex(i, len, 'index'); });
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (bytes) return bytes.subarray(idx[0], idx[1]).toString('utf8');
  if (item instanceof Uint8Array) return item.subarray(idx[0], idx[1]);
  return (item as unknown[]).slice(idx[0], idx[1]);
}

/** text/template's evalArgs: one string as is, anything else through fmt.Sprint. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/[\u0000"'&<>]/g, (c) => ({ '\u0000': '\ufffd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp < 0x80 || PRINTABLE.test(ch)) out += ch;
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');
}

export const BUILTINS: FuncMap = {
  and: { fn: () => undefined, params: ['any'], variadic: 'any' },
  or: { fn: () => undefined, params: ['any'], variadic: 'any' },
  not: { fn: (v: unknown) => !isTrue(v), params: ['any'] },
  len: { fn: length, params: ['any'] },
  index: { fn: index, params: ['any'], variadic: 'any' },
  slice: { fn: slice, params: ['any'], variadic: 'any' },
  print: { fn: (...a: unknown[]) => sprint(a), params: [], variadic: 'any' },
  printf: { fn: (f: string, ...a: unknown[]) => sprintf(f, a), params: ['string'], variadic: 'any' },
  println: { fn: (...a: unknown[]) => sprintln(a), params: [], variadic: 'any' },
  html: { fn: (...a: unknown[]) => htmlEscape(evalArgs(a)), params: [], variadic: 'any' },
  js: { fn: (...a: unknown[]) => jsEscape(evalArgs(a)), params: [], variadic: 'any' },
  urlquery: { fn: (...a: unknown[]) => queryEscape(evalArgs(a)), params: [], variadic: 'any' },
  eq: { fn: eq, params: ['any'], variadic: 'any' },
  ne: { fn: (a: unknown, b: unknown) => !eq(a, b), params: ['any', 'any'] },
  lt: { fn: lt, params: ['any', 'any'] },
  le: { fn: (a: unknown, b: unknown) => lt(a, b) || eq(a, b), params: ['any', 'any'] },
  gt: { fn: (a: unknown, b: unknown) => !(lt(a, b) || eq(a, b)), params: ['any', 'any'] },
  ge: { fn: (a: unknown, b: unknown) => !lt(a, b), params: ['any', 'any'] },
};
