/**
 * Finding data as a bundle encodes it (docs/abi/bundle.md, "Finding data
 * encoding"), decoded to the `Data` map of a finding.
 */
export type FindingValue = string | number | bigint | boolean | Uint8Array;
export type FindingData = Record<string, FindingValue>;

const KIND_STRING = 1;
const KIND_I64 = 2;
const KIND_BOOL = 3;
const KIND_BYTES = 4;
const KIND_U64 = 5;

export class FindingDataError extends Error {}

export function decodeFindingData(memory: Uint8Array, ptr: number, len: number): FindingData {
  const data: FindingData = {};
  if (len === 0) return data;
  if (ptr + len > memory.byteLength) throw new FindingDataError(`finding data ${ptr}+${len} is outside the bundle's memory`);
  const bytes = memory.subarray(ptr, ptr + len);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  let at = 0;
  const need = (n: number) => {
    if (at + n > len) throw new FindingDataError(`finding data truncated at byte ${at} (need ${n} of ${len})`);
  };
  while (at < len) {
    need(3);
    const kind = bytes[at];
    const keyLen = v.getUint16(at + 1, true);
    at += 3;
    need(keyLen);
    const key = text.decode(bytes.subarray(at, at + keyLen));
    at += keyLen;
    switch (kind) {
      case KIND_STRING:
      case KIND_BYTES: {
        need(4);
        const n = v.getUint32(at, true);
        at += 4;
        need(n);
        const raw = bytes.subarray(at, at + n);
        data[key] = kind === KIND_STRING ? text.decode(raw) : Uint8Array.from(raw);
        at += n;
        break;
      }
      case KIND_I64:
      case KIND_U64: {
        need(8);
        const n = kind === KIND_I64 ? v.getBigInt64(at, true) : v.getBigUint64(at, true);
        data[key] = Number.isSafeInteger(Number(n)) ? Number(n) : n;
        at += 8;
        break;
      }
      case KIND_BOOL:
        need(1);
        data[key] = bytes[at] !== 0;
        at += 1;
        break;
      default:
        throw new FindingDataError(`unknown finding value kind ${kind} for key "${key}"`);
    }
  }
  return data;
}
