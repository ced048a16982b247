/**
 * Reads flat-encoded batches (docs/abi/flat-encoding.md): header validation,
 * record iteration, and decoding a record to Tracee's JSON event shape — the
 * last only when an event must be printed, never on the detection path
 * (record-reader.ts reads fields and arguments in place).
 */
import { eventById, type ArgDef } from './catalogue.ts';
import { renderNamedValue } from './arg-values.ts';
import { BATCH_HEADER, BATCH_HEADER_SIZE, BATCH_MAGIC, CONTEXT_SIZE, CTX, FLAG_CONTAINER_STARTED, FLAG_IS_COMPAT, FLAT_VERSION } from './layout.ts';
import { RecordReader } from './record-reader.ts';
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

// Context offsets as constants: these run for every record.
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

// The last batch's reader: decodeEvent is called record by record.
let reader: RecordReader | undefined;

function readerAt(batch: Uint8Array, offset: number): RecordReader {
  if (reader === undefined || reader.batch !== batch) reader = new RecordReader(batch);
  return reader.at(offset);
}

/**
 * Decodes a record to Tracee's JSON event shape (for printing; detection
 * reads records in place). The wire format is read by RecordReader, the one
 * reader of records; this only shapes values. No closures: esbuild's
 * keepNames (tsx) makes every closure created here a defineProperty call.
 */
export function decodeEvent(batch: Uint8Array, offset: number, header: BatchHeader, options: DecodeOptions = {}): TraceeEvent {
  const r = readerAt(batch, offset);
  const v = r.view;
  const eventId = r.eventId;
  const def = r.def;
  const flags = v.getUint32(offset + O_FLAGS, true);
  const container = options.containers?.get(v.getUint32(offset + O_CONTAINER, true));
  const syscallId = v.getInt32(offset + O_SYSCALL, true);
  const args = def ? decodeArgs(r, def.args, options) : [];
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
    processName: r.processName(),
    executable: { path: processes?.executableAt(hostPid, timestamp) ?? '' },
    hostName: r.hostName(),
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

function decodeArgs(r: RecordReader, defs: readonly ArgDef[], options: DecodeOptions): EventArg[] {
  const out: EventArg[] = [];
  for (let i = 0; i < r.argCount; i++) {
    const value = decodeValue(r, i, defs[i], options);
    if (value !== undefined) out.push({ name: defs[i].name, type: defs[i].type, value });
  }
  return out;
}

/** Argument i as the JSON value of its catalogue type; undefined when the record lacks it. */
function decodeValue(r: RecordReader, i: number, def: ArgDef, options: DecodeOptions): unknown {
  let n: number | bigint | undefined;
  switch (def.type) {
    case 'string': return r.argString(i);
    case '[]string': return r.argStrings(i);
    case '[]byte': { const b = r.argBytes(i); return b && Uint8Array.from(b); }
    case 'SockAddr': { const b = r.argBytes(i); return b && decodeSockAddr(b); }
    case '[]trace.HookedSymbolData': { const b = r.argBytes(i); return b && parseJsonArg(def, b); }
    case 'bool': n = r.argNumber(i); return Number.isNaN(n) ? undefined : n !== 0;
    case 'uint16': case 'int32': case 'uint32': n = r.argNumber(i); if (Number.isNaN(n)) return undefined; break;
    default: n = r.argBigInt(i); if (n === undefined) return undefined; break;
  }
  if (options.parseArguments && def.parser) return renderNamedValue(def.parser, Number(n));
  return typeof n === 'bigint' && Number.isSafeInteger(Number(n)) ? Number(n) : n;
}

const utf8 = new TextDecoder('utf-8');

function parseJsonArg(def: ArgDef, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new EventFormatError(`argument ${def.name}: not JSON: ${(err as Error).message}`);
  }
}
