/**
 * The bundle side of the signature bundle ABI, version 1
 * (docs/abi/bundle.md). `tracee-rules build` compiles each signature through a
 * generated entry file that re-exports everything exported here, so a
 * signature file holds only its metadata and logic.
 *
 * tracee_on_batch returns the number of findings emitted, or:
 *   -1 a bad batch header (magic, version, sizes, or outside memory)
 *   -2 a malformed record (size, alignment, argument table past the record)
 *   -3 no signature registered
 * The whole batch is validated before the first handler call, so on an error
 * no finding has been emitted for it.
 */
import { Batch, Ctx, BATCH_MAGIC, FLAT_VERSION, CONTEXT_SIZE, ARG_ENTRY_SIZE } from "./gen/events";
import { Event } from "./event";
import { Current } from "./state";
import { Registry } from "./signature";
import { resetViews } from "./views";
import { metadataJson } from "./metadata-json";
import { E_NOT_REGISTERED } from "./errors";

// @ts-ignore: decorator
@inline const HEADER_MIN: u32 = 24;
// @ts-ignore: decorator
@inline const ERR_HEADER: i32 = -1;
// @ts-ignore: decorator
@inline const ERR_RECORD: i32 = -2;
// @ts-ignore: decorator
@inline const ERR_NO_SIGNATURE: i32 = -3;
// @ts-ignore: decorator
@inline const INPUT_MIN: usize = 64;

/** ABI major version, checked by the host at load. */
export const tracee_abi_version: i32 = 1;

let inputPtr: usize = 0;
let inputCap: usize = 0;

/** The input buffer, grown (never shrunk) to at least `size` bytes. */
export function tracee_input(size: u32): usize {
  if (inputPtr == 0 || <usize>size > inputCap) {
    // The old contents need not survive: the host writes a whole batch after this call.
    if (inputPtr != 0) heap.free(inputPtr);
    inputCap = max(<usize>size, INPUT_MIN);
    inputPtr = heap.alloc(inputCap);
  }
  return inputPtr;
}

/** Runs the signature over every selected record of the batch at `ptr`. */
export function tracee_on_batch(ptr: usize, len: u32): i32 {
  if (Registry.metadata == null) return ERR_NO_SIGNATURE;
  let byteLength = checkHeader(ptr, len);
  if (byteLength == 0) return ERR_HEADER;
  let end = ptr + <usize>byteLength;
  let first = ptr + <usize>load<u16>(ptr, Batch.headerSize);
  let count = load<u32>(ptr, Batch.count);
  if (!checkRecords(first, end, count)) return ERR_RECORD;

  Current.clockOffsetNs = load<u64>(ptr, Batch.clockOffsetNs);
  Current.findings = 0;
  let handler = Registry.handler;
  let record = first;
  for (let i: u32 = 0; i < count; i++) {
    // The host sends only selected events; checking again costs one bit test.
    if (Registry.selects(load<u32>(record, Ctx.eventId))) {
      Current.record = record;
      Current.index = i;
      resetViews();
      handler(changetype<Event>(record));
    }
    record += <usize>load<u32>(record, Ctx.size);
  }
  Current.record = 0;
  return Current.findings;
}

/** The batch's byteLength if the header is sound and the batch lies in memory, else 0. */
function checkHeader(ptr: usize, len: u32): u32 {
  if (len < HEADER_MIN || <u64>ptr + <u64>len > (<u64>memory.size() << 16)) return 0;
  if (load<u32>(ptr, Batch.magic) != BATCH_MAGIC) return 0;
  if (<u32>load<u16>(ptr, Batch.version) != FLAT_VERSION) return 0;
  let headerSize = <u32>load<u16>(ptr, Batch.headerSize);
  let byteLength = load<u32>(ptr, Batch.byteLength);
  if (headerSize < HEADER_MIN || byteLength > len || byteLength < headerSize) return 0;
  return byteLength;
}

/** Every record fits in [record, end), is 8-aligned in size, and holds its argument table. */
function checkRecords(record: usize, end: usize, count: u32): bool {
  for (let i: u32 = 0; i < count; i++) {
    if (end - record < <usize>CONTEXT_SIZE) return false;
    let size = load<u32>(record, Ctx.size);
    if (size < CONTEXT_SIZE || (size & 7) != 0 || <usize>size > end - record) return false;
    let argsNum = <u32>load<u16>(record, Ctx.argsNum);
    if (CONTEXT_SIZE + argsNum * ARG_ENTRY_SIZE > size) return false;
    record += <usize>size;
  }
  return true;
}

/**
 * Build-time only: the address of the registered metadata as JSON
 * (metadata-json.ts): a u32 byte length, then the bytes.
 * `tracee-rules build` calls it once and removes this export.
 */
export function tracee_metadata(): usize {
  let m = Registry.metadata;
  if (m == null) throw new Error(E_NOT_REGISTERED);
  return metadataJson(m);
}
