/**
 * Finding data back in the bundle ABI's encoding (docs/abi/bundle.md,
 * "Finding data encoding"), for findings a bundle did not encode itself (Rego
 * bundles), so a worker can hand every finding to the main thread as bytes.
 * decodeFindingData(encodeFindingData(d)) deep-equals d for any data a
 * bundle can emit: integers come back as numbers when safe, else bigints; a
 * negative bigint is written as int64, any other as uint64.
 */
import type { FindingData } from '../finding-data.ts';

const KIND_STRING = 1;
const KIND_I64 = 2;
const KIND_BOOL = 3;
const KIND_BYTES = 4;
const KIND_U64 = 5;

const utf8 = new TextEncoder();

/** Whether encodeFindingData keeps `data` as is: its numbers are all safe integers. */
export function encodable(data: FindingData): boolean {
  for (const v of Object.values(data)) if (typeof v === 'number' && !Number.isSafeInteger(v)) return false;
  return true;
}

export function encodeFindingData(data: FindingData): Uint8Array {
  const parts: Array<[kind: number, key: Uint8Array, value: Uint8Array | bigint | boolean]> = [];
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    const key = utf8.encode(k);
    size += 3 + key.length;
    if (typeof v === 'string' || v instanceof Uint8Array) {
      const bytes = typeof v === 'string' ? utf8.encode(v) : v;
      parts.push([typeof v === 'string' ? KIND_STRING : KIND_BYTES, key, bytes]);
      size += 4 + bytes.length;
    } else if (typeof v === 'boolean') {
      parts.push([KIND_BOOL, key, v]);
      size += 1;
    } else {
      const n = BigInt(v);
      parts.push([n < 0n || typeof v === 'number' ? KIND_I64 : KIND_U64, key, n]);
      size += 8;
    }
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [kind, key, value] of parts) {
    out[at] = kind;
    view.setUint16(at + 1, key.length, true);
    out.set(key, at + 3);
    at += 3 + key.length;
    if (value instanceof Uint8Array) {
      view.setUint32(at, value.length, true);
      out.set(value, at + 4);
      at += 4 + value.length;
    } else if (typeof value === 'boolean') {
      out[at++] = value ? 1 : 0;
    } else {
      if (kind === KIND_I64) view.setBigInt64(at, value, true);
      else view.setBigUint64(at, value, true);
      at += 8;
    }
  }
  return out;
}
