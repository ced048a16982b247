/**
 * The Go value model the template engine works on, mapped onto JS values:
 *
 *   undefined       Go's invalid reflect.Value (a missing map key, no value)
 *   null            nil
 *   string, boolean string, bool
 *   number          int when it is an integer, float64 otherwise (JSON
 *                   decoding loses the difference, so integers win)
 *   bigint          int64 / uint64, printed exactly
 *   Uint8Array      []byte
 *   Array           a slice
 *   plain object    map[string]interface{} (iterated and printed by sorted key)
 *   GoStruct        a Go struct: fixed fields in declaration order, with json
 *                   tags, embedded structs and extra alias names
 *   GoTime          time.Time (epoch nanoseconds + a zone)
 */

export interface GoField {
  /** The Go field name (what `.Name` looks up and %+v prints). */
  name: string;
  /** The json tag name; '-' leaves the field out of JSON. Defaults to `name`. */
  json?: string;
  omitEmpty?: boolean;
  /** `json:",string"`: numbers and bools are written as JSON strings. */
  asString?: boolean;
  /** An anonymous (embedded) struct: its fields are promoted and inlined in JSON. */
  embedded?: boolean;
  /** Reachable by name only: not printed, not marshalled (our additions to Go's types). */
  hidden?: boolean;
  /** More names `.X` accepts for this field (e.g. the camelCase JSON names). */
  aliases?: readonly string[];
}

/** A Go struct type: its name (for %T and errors) and fields. */
export class GoStructType {
  private readonly index = new Map<string, number>();

  constructor(readonly name: string, readonly fields: readonly GoField[]) {
    fields.forEach((f, i) => this.index.set(f.name, i));
    // Aliases never shadow a real field name.
    fields.forEach((f, i) => {
      for (const alias of [f.json, ...(f.aliases ?? [])]) {
        if (alias && alias !== '-' && !this.index.has(alias)) this.index.set(alias, i);
      }
    });
  }

  fieldIndex(name: string): number {
    return this.index.get(name) ?? -1;
  }

  /** Builds a value from field values keyed by Go field name (missing ones are undefined). */
  make(values: Record<string, unknown>): GoStruct {
    return new GoStruct(this, this.fields.map((f) => values[f.name]));
  }
}

export class GoStruct {
  constructor(readonly type: GoStructType, readonly values: readonly unknown[]) {}

  /** Field lookup through embedded structs; `found` is false if no such field. */
  field(name: string): { found: boolean; value: unknown } {
    const i = this.type.fieldIndex(name);
    if (i >= 0) return { found: true, value: this.values[i] };
    for (let j = 0; j < this.values.length; j++) {
      const inner = this.values[j];
      if (this.type.fields[j].embedded && inner instanceof GoStruct) {
        const r = inner.field(name);
        if (r.found) return r;
      }
    }
    return { found: false, value: undefined };
  }
}

/** time.Time: nanoseconds since the epoch and a zone ("UTC", "Local" or an IANA name). */
export class GoTime {
  constructor(readonly ns: bigint, readonly zone = 'Local') {}

  static now(): GoTime {
    const ms = BigInt(Date.now());
    const sub = process.hrtime.bigint() % 1_000_000n;
    return new GoTime(ms * 1_000_000n + sub);
  }

  static fromDate(d: Date): GoTime {
    return new GoTime(BigInt(d.getTime()) * 1_000_000n);
  }

  in(zone: string): GoTime {
    return new GoTime(this.ns, zone);
  }
}

export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'bytes' | 'slice' | 'map' | 'struct' | 'time' | 'other';

export function isMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined': return 'invalid';
    case 'boolean': return 'bool';
    case 'string': return 'string';
    case 'bigint': return 'int';
    case 'number': return Number.isInteger(v) ? 'int' : 'float';
    case 'object':
      if (v === null) return 'nil';
      if (v instanceof Uint8Array) return 'bytes';
      if (Array.isArray(v)) return 'slice';
      if (v instanceof GoStruct) return 'struct';
      if (v instanceof GoTime || v instanceof Date) return 'time';
      if (isMap(v)) return 'map';
      return 'other';
    default: return 'other';
  }
}

const INT64_MAX = (1n << 63n) - 1n;

/** Go's name for the type of a value, as %T and error messages print it. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return '<nil>';
    case 'bool': return 'bool';
    case 'string': return 'string';
    case 'int': return typeof v === 'bigint' && v > INT64_MAX ? 'uint64' : typeof v === 'bigint' ? 'int64' : 'int';
    case 'float': return 'float64';
    case 'bytes': return '[]uint8';
    case 'slice': {
      const a = v as unknown[];
      return a.length > 0 && a.every((e) => typeof e === 'string') ? '[]string' : '[]interface {}';
    }
    case 'map': return 'map[string]interface {}';
    case 'struct': return (v as GoStruct).type.name;
    case 'time': return 'time.Time';
    default: return typeof v === 'function' ? 'func' : 'interface {}';
  }
}

/** Go's truth for if/with/and/or/not: the zero value, nil and empty things are false. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return false;
    case 'bool': return v as boolean;
    case 'int':
    case 'float': return typeof v === 'bigint' ? v !== 0n : v !== 0;
    case 'string': return (v as string).length > 0;
    case 'bytes': return (v as Uint8Array).length > 0;
    case 'slice': return (v as unknown[]).length > 0;
    case 'map': return Object.keys(v as object).length > 0;
    default: return true;
  }
}

/** Sorted keys of a map, the order Go's fmt, json and range use. */
export function sortedKeys(m: Record<string, unknown>): string[] {
  return Object.keys(m).sort(compareStrings);
}

/** Byte-wise (UTF-8) string order, as Go compares strings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // Code-unit order equals UTF-8 byte order except around surrogates; fix those up.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy && (x >= 0xe000 || y >= 0xe000)) return sx ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** The number of UTF-8 bytes in a string (Go's len of a string). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
