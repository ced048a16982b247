// Layout of a policy's static data segment: interned string, boolean, null
// and number values in the runtime's value format (signatures-rego/runtime/
// value.ts and number.ts), plus NUL-terminated texts.

const T_NULL = 1, T_BOOL = 2, T_NUMBER = 3, T_STRING = 4, T_ARRAY = 5, T_OBJECT = 6, T_SET = 7;

/**
 * A ground composite value laid out at compile time (MakeConstStmt): sets
 * and object keys must already be in Rego order and without duplicates.
 */
export type ConstValue =
  | { null: true } | { bool: boolean } | { num: string } | { str: string }
  | { arr: ConstValue[] } | { obj: [ConstValue, ConstValue][] } | { set: ConstValue[] };
const R_INT = 1, R_FLOAT = 2, R_REF = 3;
const I64_MIN = -(2n ** 63n), I64_MAX = 2n ** 63n - 1n;

export class StaticData {
  private bytes = new Uint8Array(1024);
  private len = 0;
  private numbers = new Map<string, number>();
  private texts = new Map<string, number>();
  private nullAddr = -1;
  private boolAddrs: [number, number] = [-1, -1];
  readonly enc = new TextEncoder();

  constructor(readonly base: number) {}

  get end(): number { return this.base + this.len; }
  get data(): Uint8Array { return this.bytes.subarray(0, this.len); }

  private reserve(n: number, align: number): number {
    this.len = (this.len + align - 1) & ~(align - 1);
    if (this.len + n > this.bytes.length) {
      const nb = new Uint8Array(Math.max(this.bytes.length * 2, this.len + n));
      nb.set(this.bytes);
      this.bytes = nb;
    }
    const off = this.len;
    this.len += n;
    return off;
  }

  private view(off: number, n: number): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + off, n);
  }

  /** Raw bytes; returns their address. */
  raw(b: Uint8Array, nulTerminate = false): number {
    const off = this.reserve(b.length + (nulTerminate ? 1 : 0), 1);
    this.bytes.set(b, off);
    return this.base + off;
  }

  /** A NUL-terminated text (deduplicated). */
  cstring(s: string): number {
    let a = this.texts.get(s);
    if (a === undefined) { a = this.raw(this.enc.encode(s), true); this.texts.set(s, a); }
    return a;
  }

  /** A string value whose bytes follow it. */
  stringValue(s: string): number {
    const b = this.enc.encode(s);
    const off = this.reserve(12 + b.length, 4);
    const v = this.view(off, 12);
    v.setUint8(0, T_STRING);
    v.setUint32(4, b.length, true);
    v.setUint32(8, this.base + off + 12, true);
    this.bytes.set(b, off + 12);
    return this.base + off;
  }

  /** A constant value (read-only: the generated code never mutates it). */
  constValue(v: ConstValue): number {
    if ("null" in v) return this.nullValue();
    if ("bool" in v) return this.boolValue(v.bool);
    if ("num" in v) return this.numberValue(v.num);
    if ("str" in v) return this.stringValue(v.str);
    const u32s = (addrs: number[]) => {
      if (!addrs.length) return 0;
      const off = this.reserve(addrs.length * 4, 4);
      const dv = this.view(off, addrs.length * 4);
      addrs.forEach((a, i) => dv.setUint32(i * 4, a, true));
      return this.base + off;
    };
    if ("obj" in v) {
      const keys = u32s(v.obj.map(([k]) => this.constValue(k)));
      const vals = u32s(v.obj.map(([, x]) => this.constValue(x)));
      const off = this.reserve(20, 4);
      const dv = this.view(off, 20);
      dv.setUint8(0, T_OBJECT);
      dv.setUint32(4, v.obj.length, true);
      dv.setUint32(8, v.obj.length, true);
      dv.setUint32(12, keys, true);
      dv.setUint32(16, vals, true);
      return this.base + off;
    }
    const items = "arr" in v ? v.arr : v.set;
    const elems = u32s(items.map((x) => this.constValue(x)));
    const off = this.reserve(16, 4);
    const dv = this.view(off, 16);
    dv.setUint8(0, "arr" in v ? T_ARRAY : T_SET);
    dv.setUint32(4, items.length, true);
    dv.setUint32(8, items.length, true);
    dv.setUint32(12, elems, true);
    return this.base + off;
  }

  nullValue(): number {
    if (this.nullAddr < 0) {
      const off = this.reserve(4, 4);
      this.bytes[off] = T_NULL;
      this.nullAddr = this.base + off;
    }
    return this.nullAddr;
  }

  boolValue(b: boolean): number {
    const i = b ? 1 : 0;
    if (this.boolAddrs[i] < 0) {
      const off = this.reserve(4, 4);
      this.bytes[off] = T_BOOL;
      this.bytes[off + 1] = i;
      this.boolAddrs[i] = this.base + off;
    }
    return this.boolAddrs[i];
  }

  /** A number value from JSON-number text, classified like the runtime's numFromText. */
  numberValue(text: string): number {
    let a = this.numbers.get(text);
    if (a !== undefined) return a;
    const off = this.reserve(16, 8);
    const v = this.view(off, 16);
    v.setUint8(0, T_NUMBER);
    const integral = !/[.eE]/.test(text);
    let done = false;
    if (integral) {
      const n = BigInt(text);
      if (n >= I64_MIN && n <= I64_MAX) {
        v.setUint8(1, R_INT);
        v.setBigInt64(8, n, true);
        done = true;
      }
    } else {
      const f = Number(text);
      if (Number.isFinite(f)) {
        if (Number.isInteger(f) && Math.abs(f) < 2 ** 53) {
          v.setUint8(1, R_INT);
          v.setBigInt64(8, BigInt(f), true);
        } else {
          v.setUint8(1, R_FLOAT);
          v.setFloat64(8, f, true);
        }
        done = true;
      }
    }
    if (!done) {
      const textAddr = this.raw(this.enc.encode(text));
      const v2 = this.view(off, 16);
      v2.setUint8(1, R_REF);
      v2.setUint32(4, this.enc.encode(text).length, true);
      v2.setUint32(8, textAddr, true);
    }
    a = this.base + off;
    this.numbers.set(text, a);
    return a;
  }
}
