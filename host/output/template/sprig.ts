/**
 * The Sprig functions security templates use, with Sprig's semantics
 * (argument order, toString/join conversions, split returning a map of
 * "_0", "_1", …, date functions falling back to "now" on values they cannot
 * read). Date inputs: time values, or integers as Unix seconds; integers
 * of 10^15 and more are taken as Unix nanoseconds (Tracee timestamps).
 */
import type { FuncMap, ParamType } from './funcs.ts';
import { formatValue, quote } from './go-fmt.ts';
import { marshalJson } from './go-json.ts';
import { formatTime, isKnownZone } from './go-time.ts';
import { GoTime, isTrue, kindOf } from './values.ts';

/** Sprig's strval: strings as they are, bytes as text, everything else %v. */
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return formatValue(v);
}

function strslice(v: unknown): string[] {
  const k = kindOf(v);
  if (k === 'slice' || k === 'bytes') {
    return Array.from(v as ArrayLike<unknown>).filter((e) => e !== null && e !== undefined).map(strval);
  }
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

const NS_THRESHOLD = 1_000_000_000_000_000n;

/** A date argument as a time: time values as they are, integers as Unix s (or ns), anything else now. */
export function toTime(v: unknown): GoTime {
  if (v instanceof GoTime) return v;
  if (v instanceof Date) return GoTime.fromDate(v);
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
    const n = BigInt(v);
    const abs = n < 0n ? -n : n;
    return new GoTime(abs >= NS_THRESHOLD ? n : n * 1_000_000_000n);
  }
  return GoTime.now();
}

function toJson(v: unknown, indent?: string): string {
  try {
    return marshalJson(v, indent);
  } catch {
    return ''; // Sprig ignores marshalling errors.
  }
}

const ONE_ANY: readonly ParamType[] = ['any'];

export const SPRIG: FuncMap = {
  toJson: { fn: (v: unknown) => toJson(v), params: ['any'] },
  toPrettyJson: { fn: (v: unknown) => toJson(v, '  '), params: ['any'] },
  toString: { fn: strval, params: ONE_ANY },
  quote: { fn: (...a: unknown[]) => a.filter((x) => x !== null && x !== undefined).map((x) => quote(strval(x))).join(' '), params: [], variadic: 'any' },
  squote: { fn: (...a: unknown[]) => a.filter((x) => x !== null && x !== undefined).map((x) => `'${strval(x)}'`).join(' '), params: [], variadic: 'any' },
  default: {
    fn: (d: unknown, ...given: unknown[]) => (given.length === 0 || !isTrue(given[0]) ? d : given[0]),
    params: ['any'], variadic: 'any',
  },
  empty: { fn: (v: unknown) => !isTrue(v), params: ['any'] },
  coalesce: { fn: (...a: unknown[]) => a.find((x) => isTrue(x)) ?? null, params: [], variadic: 'any' },
  ternary: { fn: (t: unknown, f: unknown, cond: boolean) => (cond ? t : f), params: ['any', 'any', 'bool'] },
  upper: { fn: (s: string) => s.toUpperCase(), params: ['string'] },
  lower: { fn: (s: string) => s.toLowerCase(), params: ['string'] },
  trim: { fn: (s: string) => s.trim(), params: ['string'] },
  trimPrefix: { fn: (p: string, s: string) => (s.startsWith(p) ? s.slice(p.length) : s), params: ['string', 'string'] },
  trimSuffix: { fn: (p: string, s: string) => (p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s), params: ['string', 'string'] },
  replace: {
    // strings.Replace(s, from, to, -1): an empty `from` matches around every character.
    fn: (from: string, to: string, s: string) => (from === '' ? to + [...s].join(to) + (s ? to : '') : s.split(from).join(to)),
    params: ['string', 'string', 'string'],
  },
  join: { fn: (sep: string, v: unknown) => strslice(v).join(sep), params: ['string', 'any'] },
  split: {
    fn: (sep: string, s: string) => Object.fromEntries(s.split(sep).map((part, i) => [`_${i}`, part])),
    params: ['string', 'string'],
  },
  splitList: { fn: (sep: string, s: string) => s.split(sep), params: ['string', 'string'] },
  contains: { fn: (sub: string, s: string) => s.includes(sub), params: ['string', 'string'] },
  hasPrefix: { fn: (p: string, s: string) => s.startsWith(p), params: ['string', 'string'] },
  hasSuffix: { fn: (p: string, s: string) => s.endsWith(p), params: ['string', 'string'] },
  list: { fn: (...a: unknown[]) => a, params: [], variadic: 'any' },
  dict: {
    fn: (...a: unknown[]) => {
      const m: Record<string, unknown> = {};
      for (let i = 0; i < a.length; i += 2) m[strval(a[i])] = i + 1 < a.length ? a[i + 1] : '';
      return m;
    },
    params: [], variadic: 'any',
  },
  now: { fn: () => GoTime.now(), params: [] },
  date: { fn: (layout: string, t: unknown) => formatTime(toTime(t).in('Local'), layout), params: ['string', 'any'] },
  dateInZone: {
    fn: (layout: string, t: unknown, zone: string) => formatTime(toTime(t).in(isKnownZone(zone) ? zone : 'UTC'), layout),
    params: ['string', 'any', 'string'],
  },
};
