/**
 * encoding/json.Marshal / MarshalIndent for template values (sprig's toJson
 * and toPrettyJson): map keys sorted, structs in field order under their json
 * tags (omitempty, ",string", embedded structs inlined), []byte as base64,
 * BigInts exact, times as RFC 3339, and Go's HTML-safe string escaping
 * (<, >, & as \u003c \u003e \u0026).
 */
import { GoStruct, GoTime, kindOf, sortedKeys, isTrue, type GoField } from './values.ts';
import { formatTime } from './go-time.ts';

export class JsonMarshalError extends Error {}

/** json.Marshal (indent undefined) or json.MarshalIndent(v, "", indent). */
export function marshalJson(v: unknown, indent?: string): string {
  return write(v, indent, '');
}

function write(v: unknown, indent: string | undefined, prefix: string): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return 'null';
    case 'bool': return v ? 'true' : 'false';
    case 'int': return typeof v === 'bigint' ? v.toString() : Number.isSafeInteger(v) ? String(v) : BigInt(v as number).toString();
    case 'float': {
      const x = v as number;
      if (!Number.isFinite(x)) throw new JsonMarshalError(`json: unsupported value: ${Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'}`);
      // JS and Go agree: plain decimal unless |x| < 1e-6 or >= 1e21, then 1e-7 / 1e+21.
      return String(x);
    }
    case 'string': return jsonString(v as string);
    case 'bytes': return '"' + Buffer.from(v as Uint8Array).toString('base64') + '"';
    case 'time': {
      const t = v instanceof Date ? GoTime.fromDate(v) : (v as GoTime);
      return '"' + formatTime(t, '2006-01-02T15:04:05.999999999Z07:00') + '"';
    }
    case 'slice': {
      const a = v as unknown[];
      if (a.length === 0) return '[]';
      const inner = prefix + (indent ?? '');
      const items = a.map((e) => write(e, indent, inner));
      return indent === undefined ? '[' + items.join(',') + ']' : '[\n' + items.map((s) => inner + s).join(',\n') + '\n' + prefix + ']';
    }
    case 'map': {
      const m = v as Record<string, unknown>;
      return object(sortedKeys(m).map((k) => [k, m[k]]), indent, prefix);
    }
    case 'struct':
      return object(structEntries(v as GoStruct), indent, prefix);
    default:
      throw new JsonMarshalError(`json: unsupported type: ${typeof v}`);
  }
}

function object(entries: Array<[string, unknown]>, indent: string | undefined, prefix: string): string {
  if (entries.length === 0) return '{}';
  const inner = prefix + (indent ?? '');
  const parts = entries.map(([k, val]) => jsonString(k) + (indent === undefined ? ':' : ': ') + write(val, indent, inner));
  return indent === undefined ? '{' + parts.join(',') + '}' : '{\n' + parts.map((s) => inner + s).join(',\n') + '\n' + prefix + '}';
}

function structEntries(s: GoStruct): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  s.type.fields.forEach((f: GoField, i) => {
    const value = s.values[i];
    if (f.hidden || f.json === '-') return;
    if (f.embedded && !f.json && value instanceof GoStruct) {
      out.push(...structEntries(value));
      return;
    }
    if (f.omitEmpty && isEmptyValue(value)) return;
    out.push([f.json || f.name, f.asString ? quoted(value) : value]);
  });
  return out;
}

/** encoding/json's isEmptyValue: structs are never empty. */
function isEmptyValue(v: unknown): boolean {
  const k = kindOf(v);
  if (k === 'struct' || k === 'time') return false;
  return !isTrue(v);
}

/** The ",string" option: numbers and bools become JSON strings (the value stays typed otherwise). */
function quoted(v: unknown): unknown {
  const k = kindOf(v);
  if (k === 'int' || k === 'float' || k === 'bool') return write(v, undefined, '');
  if (k === 'string') return jsonString(v as string);
  return v;
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\<>&\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** A JSON string with Go's escaping (HTML-safe; lone surrogates become U+FFFD). */
export function jsonString(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  // eslint-disable-next-line no-control-regex
  return '"' + s.replace(/["\\<>&\u0000-\u001f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    const e = ESCAPES[c];
    if (e) return e;
    if (c.charCodeAt(0) >= 0xd800) return '\ufffd';
    return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
  }) + '"';
}
