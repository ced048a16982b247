/**
 * Flat event encoding, version 1: the contract between the kernel side, the
 * native addon, the host and the signature bundles (docs/abi/flat-encoding.md).
 * This file is its single definition; the C header (bpf/gen/events.h) and the
 * AssemblyScript SDK constants (signatures-as/sdk/gen/events.ts) are generated
 * from it by host/events/generate.ts.
 *
 * A batch is a header followed by `count` event records back to back. Every
 * record starts 8-byte aligned; all integers are little-endian.
 */

export const FLAT_VERSION = 1;
export const BATCH_MAGIC = 0x42435254; // "TRCB" read as a little-endian u32

/** Batch header fields, in order. */
export const BATCH_HEADER = {
  magic: { offset: 0, size: 4 },
  version: { offset: 4, size: 2 },
  headerSize: { offset: 6, size: 2 },
  count: { offset: 8, size: 4 },
  byteLength: { offset: 12, size: 4 },
  /** Added to every timestamp in the batch to get ns since the Unix epoch. */
  clockOffsetNs: { offset: 16, size: 8 },
} as const;
export const BATCH_HEADER_SIZE = 24;

export type FieldKind = 'u8' | 'u16' | 'u32' | 'i32' | 'u64' | 'i64' | 'bytes';

export interface ContextField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly offset: number;
  readonly size: number;
  readonly doc: string;
}

const FIELDS: ReadonlyArray<[name: string, kind: FieldKind, size: number, doc: string]> = [
  ['size', 'u32', 4, 'total record bytes, a multiple of 8'],
  ['eventId', 'u32', 4, 'catalogue id'],
  ['timestamp', 'u64', 8, 'ns; + batch clockOffsetNs = Unix epoch ns'],
  ['threadStartTime', 'u64', 8, 'ns, same clock as timestamp'],
  ['cgroupId', 'u64', 8, 'cgroup v2 id'],
  ['returnValue', 'i64', 8, 'syscall return value, 0 otherwise'],
  ['matchedPolicies', 'u64', 8, 'bitmap of the policies this event matched'],
  ['processorId', 'u32', 4, 'CPU'],
  ['processId', 'u32', 4, 'tgid in the process pid namespace'],
  ['threadId', 'u32', 4, 'tid in the process pid namespace'],
  ['parentProcessId', 'u32', 4, 'parent tgid in the pid namespace'],
  ['hostProcessId', 'u32', 4, 'tgid in the initial pid namespace'],
  ['hostThreadId', 'u32', 4, 'tid in the initial pid namespace'],
  ['hostParentProcessId', 'u32', 4, 'parent tgid in the initial pid namespace'],
  ['userId', 'u32', 4, 'real uid'],
  ['mountNamespace', 'u32', 4, 'mnt ns inode'],
  ['pidNamespace', 'u32', 4, 'pid ns inode'],
  ['syscall', 'i32', 4, 'syscall that produced the event, -1 if none'],
  ['flags', 'u32', 4, 'bit 0 containerStarted, bit 1 isCompat'],
  ['containerRef', 'u32', 4, 'host container table index, 0 = not in a container'],
  ['threadEntityId', 'u32', 4, 'hash(thread start time, tid)'],
  ['processEntityId', 'u32', 4, 'hash(leader start time, tgid)'],
  ['parentEntityId', 'u32', 4, 'hash(parent start time, parent tgid)'],
  ['processName', 'bytes', 16, 'comm, NUL padded'],
  ['hostName', 'bytes', 16, 'UTS nodename, NUL padded (16 bytes as in Tracee)'],
  ['argsNum', 'u16', 2, 'entries in the argument table'],
  ['reserved0', 'u16', 2, 'zero'],
  ['reserved1', 'u32', 4, 'zero'],
];

function layOut(): ContextField[] {
  let offset = 0;
  return FIELDS.map(([name, kind, size, doc]) => {
    const field = { name, kind, offset, size, doc };
    offset += size;
    return field;
  });
}

export const CONTEXT_FIELDS: readonly ContextField[] = layOut();
export const CONTEXT_SIZE = CONTEXT_FIELDS.reduce((n, f) => n + f.size, 0);

/** Context field offsets by name, for readers and writers. */
export const CTX = Object.fromEntries(CONTEXT_FIELDS.map((f) => [f.name, f.offset])) as Record<string, number>;

/** Context flag bits. */
export const FLAG_CONTAINER_STARTED = 1;
export const FLAG_IS_COMPAT = 2;

/**
 * After the context comes the argument table: argsNum entries of
 * {u32 offset from record start, u32 length}, in catalogue order. An offset
 * of 0 means the argument is absent. Argument data follows the table:
 * integers at their natural width, strings and byte arrays raw (no NUL),
 * []string as u32 count then count × {u32 length, bytes}, SockAddr as the raw
 * kernel sockaddr (family first).
 */
export const ARG_ENTRY_SIZE = 8;

export const MAX_PROCESS_NAME = 16;

export function align8(n: number): number {
  return (n + 7) & ~7;
}
