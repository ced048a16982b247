/**
 * Reads flat-encoded batches (docs/abi/flat-encoding.md): header validation,
 * record iteration, and decoding a record to Tracee's JSON event shape — the
 * last only when an event must be printed, never on the detection path
 * (record-reader.ts reads fields and arguments in place).
 */
import { eventById, type ArgDef } from './catalogue.ts';
import { renderNamedValue } from './arg-values.ts';
import { ARG_ENTRY_SIZE, BATCH_HEADER, BATCH_HEADER_SIZE, BATCH_MAGIC, CONTEXT_SIZE, CTX, FLAG_CONTAINER_STARTED, FLAG_IS_COMPAT, FLAT_VERSION, MAX_PROCESS_NAME } from './layout.ts';
import { EventFormatError } from '../errors.ts';
import { decodeSockAddr } from './sockaddr.ts';
import type { ContainerTable } from './containers.ts';
import type { EventArg, TraceeEvent } from './event-json.ts';

export interface BatchHeader {
  count: number;
  byteLength: number;
  headerSize: number;
  clockOffsetNs: bigint;
}

// The last batch's view (kept, with the batch, until another is viewed):
// readers ask for it once per record, and a new DataView costs more than
// decoding a small record.
let viewedBatch: Uint8Array | undefined;
let view: DataView | undefined;

export function viewOf(batch: Uint8Array): DataView {
  if (batch !== viewedBatch || view === undefined) {
    view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    viewedBatch = batch;
  }
  return view;
}

export function readBatchHeader(batch: Uint8Array): BatchHeader {
  if (batch.byteLength < BATCH_HEADER_SIZE) throw new EventFormatError(`batch of ${batch.byteLength} bytes is shorter than its header`);
  const v = viewOf(batch);
  const magic = v.getUint32(BATCH_HEADER.magic.offset, true);
  if (magic !== BATCH_MAGIC) throw new EventFormatError(`batch magic 0x${magic.toString(16)} is not 0x${BATCH_MAGIC.toString(16)}`);
  const version = v.getUint16(BATCH_HEADER.version.offset, true);
  if (version !== FLAT_VERSION) throw new EventFormatError(`batch encoding version ${version} is not supported (expected ${FLAT_VERSION})`);
  const header = {
    count: v.getUint32(BATCH_HEADER.count.offset, true),
    byteLength: v.getUint32(BATCH_HEADER.byteLength.offset, true),
    headerSize: v.getUint16(BATCH_HEADER.headerSize.offset, true),
    clockOffsetNs: v.getBigInt64(BATCH_HEADER.clockOffsetNs.offset, true),
  };
  if (header.byteLength > batch.byteLength || header.headerSize < BATCH_HEADER_SIZE) {
    throw new EventFormatError(`batch header claims ${header.byteLength} bytes (header ${header.headerSize}) but ${batch.byteLength} are present`);
  }
  return header;
}

/**
 * Calls `fn` with the offset of each record. A record whose size is not a
 * multiple of 8, is smaller than the context, or runs past the batch ends the
 * walk with an error: nothing after it can be located.
 */
export function forEachRecord(batch: Uint8Array, header: BatchHeader, fn: (offset: number, index: number) => void): void {
  const v = viewOf(batch);
  let at = header.headerSize;
  for (let i = 0; i < header.count; i++) {
    const size = at + CONTEXT_SIZE <= header.byteLength ? v.getUint32(at, true) : 0;
    if (size < CONTEXT_SIZE || (size & 7) !== 0 || at + size > header.byteLength) {
      throw new EventFormatError(`record ${i} at offset ${at}: bad size ${size}`);
    }
    fn(at, i);
    at += size;
  }
}

export interface DecodeOptions {
  containers?: ContainerTable;
  /** Render flags and requests as names, like Tracee's parse-arguments. */
  parseArguments?: boolean;
  /** The process tree (host/enrich/process-tree.ts): executable paths, and prev_comm when the record lacks it. */
  processes?: ProcessLookup;
}

/** What decoding asks the process tree; times are record timestamps (before clockOffsetNs). */
export interface ProcessLookup {
  executableAt(hostPid: number, timeNs: bigint): string | undefined;
  prevCommAt(hostPid: number, timeNs: bigint): string | undefined;
}

const utf8 = new TextDecoder('utf-8');

// Context offsets as constants: these run for every record.
const O_SIZE = CTX.size;
const O_EVENT_ID = CTX.eventId;
const O_TIMESTAMP = CTX.timestamp;
const O_THREAD_START = CTX.threadStartTime;
const O_CGROUP = CTX.cgroupId;
const O_RETURN = CTX.returnValue;
const O_PROCESSOR = CTX.processorId;
const O_PID = CTX.processId;
const O_TID = CTX.threadId;
const O_PPID = CTX.parentProcessId;
const O_HOST_PID = CTX.hostProcessId;
const O_HOST_TID = CTX.hostThreadId;
const O_HOST_PPID = CTX.hostParentProcessId;
const O_UID = CTX.userId;
const O_MNTNS = CTX.mountNamespace;
const O_PIDNS = CTX.pidNamespace;
const O_SYSCALL = CTX.syscall;
const O_FLAGS = CTX.flags;
const O_CONTAINER = CTX.containerRef;
const O_THREAD_ENTITY = CTX.threadEntityId;
const O_PROCESS_ENTITY = CTX.processEntityId;
const O_PARENT_ENTITY = CTX.parentEntityId;
const O_COMM = CTX.processName;
const O_HOST_NAME = CTX.hostName;
const O_ARGS_NUM = CTX.argsNum;

/**
 * Decodes a record to Tracee's JSON event shape (for printing; detection
 * reads records in place). No closures or per-argument views: esbuild's
 * keepNames (tsx) makes every closure created here a defineProperty call.
 */
export function decodeEvent(batch: Uint8Array, offset: number, header: BatchHeader, options: DecodeOptions = {}): TraceeEvent {
  const v = viewOf(batch);
  const eventId = v.getUint32(offset + O_EVENT_ID, true);
  const def = eventById(eventId);
  const flags = v.getUint32(offset + O_FLAGS, true);
  const container = options.containers?.get(v.getUint32(offset + O_CONTAINER, true));
  const syscallId = v.getInt32(offset + O_SYSCALL, true);
  const args = def ? decodeArgs(batch, v, offset, def.args, options) : [];
  const returnValue = v.getBigInt64(offset + O_RETURN, true);
  const timestamp = v.getBigUint64(offset + O_TIMESTAMP, true);
  const threadStart = v.getBigUint64(offset + O_THREAD_START, true);
  const processes = options.processes;
  const hostPid = v.getUint32(offset + O_HOST_PID, true);
  if (processes && def?.name === 'sched_process_exec' && !args.some((a) => a.name === 'prev_comm')) {
    const prevComm = processes.prevCommAt(hostPid, timestamp);
    if (prevComm !== undefined) insertArg(args, def.args, { name: 'prev_comm', type: 'string', value: prevComm });
  }
  return {
    timestamp: timestamp + header.clockOffsetNs,
    threadStartTime: threadStart === 0n ? 0n : threadStart + header.clockOffsetNs,
    processorId: v.getUint32(offset + O_PROCESSOR, true),
    processId: v.getUint32(offset + O_PID, true),
    cgroupId: v.getBigUint64(offset + O_CGROUP, true),
    threadId: v.getUint32(offset + O_TID, true),
    parentProcessId: v.getUint32(offset + O_PPID, true),
    hostProcessId: hostPid,
    hostThreadId: v.getUint32(offset + O_HOST_TID, true),
    hostParentProcessId: v.getUint32(offset + O_HOST_PPID, true),
    userId: v.getUint32(offset + O_UID, true),
    mountNamespace: v.getUint32(offset + O_MNTNS, true),
    pidNamespace: v.getUint32(offset + O_PIDNS, true),
    processName: cString(batch, offset + O_COMM, MAX_PROCESS_NAME),
    executable: { path: processes?.executableAt(hostPid, timestamp) ?? '' },
    hostName: cString(batch, offset + O_HOST_NAME, MAX_PROCESS_NAME),
    containerId: container?.id ?? '',
    container: container ? { id: container.id, name: container.name, image: container.image, imageDigest: container.imageDigest } : {},
    kubernetes: container?.podName ? { podName: container.podName, podNamespace: container.podNamespace, podUID: container.podUID, podSandbox: container.podSandbox } : {},
    eventId: String(eventId),
    eventName: def?.name ?? `unknown_${eventId}`,
    matchedPolicies: [],
    argsNum: args.length,
    returnValue: Number.isSafeInteger(Number(returnValue)) ? Number(returnValue) : returnValue,
    syscall: syscallId >= 0 ? (eventById(syscallId)?.name ?? String(syscallId)) : '',
    stackAddresses: null,
    contextFlags: { containerStarted: (flags & FLAG_CONTAINER_STARTED) !== 0, isCompat: (flags & FLAG_IS_COMPAT) !== 0 },
    threadEntityId: v.getUint32(offset + O_THREAD_ENTITY, true),
    processEntityId: v.getUint32(offset + O_PROCESS_ENTITY, true),
    parentEntityId: v.getUint32(offset + O_PARENT_ENTITY, true),
    args,
  };
}

/** Inserts a fallback argument at its catalogue position among the decoded ones. */
function insertArg(args: EventArg[], defs: readonly ArgDef[], arg: EventArg): void {
  const rank = (name: string) => defs.findIndex((d) => d.name === name);
  const at = args.findIndex((a) => rank(a.name) > rank(arg.name));
  args.splice(at < 0 ? args.length : at, 0, arg);
}

/** A NUL-padded string field of at most `max` bytes. */
function cString(batch: Uint8Array, at: number, max: number): string {
  let end = at;
  const limit = Math.min(at + max, batch.length);
  while (end < limit && batch[end] !== 0) end++;
  return text(batch, at, end);
}

// The last batch as a Buffer (no copy), for its native UTF-8 decoding:
// cheaper than a TextDecoder call per string, same replacement of invalid
// sequences (U+FFFD).
let textBatch: Uint8Array | undefined;
let textBuffer: Buffer | undefined;

/** UTF-8 bytes [start, end) of a batch as a string. */
function text(batch: Uint8Array, start: number, end: number): string {
  if (batch !== textBatch || textBuffer === undefined) {
    textBuffer = Buffer.isBuffer(batch) ? batch : Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
    textBatch = batch;
  }
  return textBuffer.toString('utf8', start, end);
}

function decodeArgs(batch: Uint8Array, v: DataView, offset: number, defs: readonly ArgDef[], options: DecodeOptions): EventArg[] {
  const size = v.getUint32(offset + O_SIZE, true);
  const n = Math.min(v.getUint16(offset + O_ARGS_NUM, true), defs.length);
  const out: EventArg[] = [];
  for (let i = 0; i < n; i++) {
    const entry = offset + CONTEXT_SIZE + i * ARG_ENTRY_SIZE;
    const at = v.getUint32(entry, true);
    const len = v.getUint32(entry + 4, true);
    const def = defs[i];
    if (at === 0) continue;
    if (at + len > size) throw new EventFormatError(`argument ${def.name}: ${len} bytes at ${at} run past the ${size}-byte record`);
    out.push({ name: def.name, type: def.type, value: decodeValue(def, batch, v, offset + at, len, options) });
  }
  return out;
}

function tooShort(def: ArgDef, len: number): EventFormatError {
  return new EventFormatError(`argument ${def.name}: ${len} bytes for a ${def.type}`);
}

/** The argument of `len` bytes at batch offset `at`, by its catalogue type. */
function decodeValue(def: ArgDef, batch: Uint8Array, v: DataView, at: number, len: number, options: DecodeOptions): unknown {
  let n: number | bigint;
  switch (def.type) {
    case 'string': return text(batch, at, at + len);
    case '[]byte': return Uint8Array.from(batch.subarray(at, at + len));
    case 'SockAddr': return decodeSockAddr(batch.subarray(at, at + len));
    case '[]trace.HookedSymbolData': return parseJsonArg(def, batch.subarray(at, at + len));
    case '[]string': return decodeStrings(def, batch, v, at, len);
    case 'bool': if (len < 1) throw tooShort(def, len); return batch[at] !== 0;
    case 'uint16': if (len < 2) throw tooShort(def, len); n = v.getUint16(at, true); break;
    case 'int32': if (len < 4) throw tooShort(def, len); n = v.getInt32(at, true); break;
    case 'uint32': if (len < 4) throw tooShort(def, len); n = v.getUint32(at, true); break;
    case 'int64': if (len < 8) throw tooShort(def, len); n = v.getBigInt64(at, true); break;
    default: if (len < 8) throw tooShort(def, len); n = v.getBigUint64(at, true); break;
  }
  if (options.parseArguments && def.parser) return renderNamedValue(def.parser, Number(n));
  return typeof n === 'bigint' && Number.isSafeInteger(Number(n)) ? Number(n) : n;
}

/** A []string argument: u32 count, then count × {u32 length, bytes}. */
function decodeStrings(def: ArgDef, batch: Uint8Array, v: DataView, start: number, len: number): string[] {
  if (len < 4) return [];
  const end = start + len;
  const count = v.getUint32(start, true);
  const out: string[] = [];
  let at = start + 4;
  for (let i = 0; i < count; i++) {
    if (at + 4 > end) throw new EventFormatError(`argument ${def.name}: string ${i} of ${count} runs past the argument`);
    const n = v.getUint32(at, true);
    if (at + 4 + n > end) throw new EventFormatError(`argument ${def.name}: string ${i} of ${count} runs past the argument`);
    out.push(text(batch, at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

function parseJsonArg(def: ArgDef, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new EventFormatError(`argument ${def.name}: not JSON: ${(err as Error).message}`);
  }
}
