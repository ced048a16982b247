/**
 * Reads flat-encoded batches (docs/abi/flat-encoding.md): header validation,
 * record iteration, and decoding a record to Tracee's JSON event shape — the
 * last only when an event must be printed, never on the detection path.
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

export function viewOf(batch: Uint8Array): DataView {
  return new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
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

export function decodeEvent(batch: Uint8Array, offset: number, header: BatchHeader, options: DecodeOptions = {}): TraceeEvent {
  const v = viewOf(batch);
  const u32 = (f: string) => v.getUint32(offset + CTX[f], true);
  const u64 = (f: string) => v.getBigUint64(offset + CTX[f], true);
  const eventId = u32('eventId');
  const def = eventById(eventId);
  const flags = u32('flags');
  const container = options.containers?.get(u32('containerRef'));
  const syscallId = v.getInt32(offset + CTX.syscall, true);
  const args = def ? decodeArgs(batch, offset, def.args, options) : [];
  const returnValue = v.getBigInt64(offset + CTX.returnValue, true);
  const processes = options.processes;
  const hostPid = u32('hostProcessId');
  if (processes && def?.name === 'sched_process_exec' && !args.some((a) => a.name === 'prev_comm')) {
    const prevComm = processes.prevCommAt(hostPid, u64('timestamp'));
    if (prevComm !== undefined) insertArg(args, def.args, { name: 'prev_comm', type: 'string', value: prevComm });
  }
  return {
    timestamp: u64('timestamp') + header.clockOffsetNs,
    threadStartTime: u64('threadStartTime') === 0n ? 0n : u64('threadStartTime') + header.clockOffsetNs,
    processorId: u32('processorId'),
    processId: u32('processId'),
    cgroupId: u64('cgroupId'),
    threadId: u32('threadId'),
    parentProcessId: u32('parentProcessId'),
    hostProcessId: u32('hostProcessId'),
    hostThreadId: u32('hostThreadId'),
    hostParentProcessId: u32('hostParentProcessId'),
    userId: u32('userId'),
    mountNamespace: u32('mountNamespace'),
    pidNamespace: u32('pidNamespace'),
    processName: cString(batch, offset + CTX.processName, MAX_PROCESS_NAME),
    executable: { path: processes?.executableAt(hostPid, u64('timestamp')) ?? '' },
    hostName: cString(batch, offset + CTX.hostName, MAX_PROCESS_NAME),
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
    threadEntityId: u32('threadEntityId'),
    processEntityId: u32('processEntityId'),
    parentEntityId: u32('parentEntityId'),
    args,
  };
}

/** Inserts a fallback argument at its catalogue position among the decoded ones. */
function insertArg(args: EventArg[], defs: readonly ArgDef[], arg: EventArg): void {
  const rank = (name: string) => defs.findIndex((d) => d.name === name);
  const at = args.findIndex((a) => rank(a.name) > rank(arg.name));
  args.splice(at < 0 ? args.length : at, 0, arg);
}

function cString(batch: Uint8Array, at: number, max: number): string {
  const bytes = batch.subarray(at, at + max);
  const nul = bytes.indexOf(0);
  return utf8.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

function decodeArgs(batch: Uint8Array, offset: number, defs: readonly ArgDef[], options: DecodeOptions): EventArg[] {
  const v = viewOf(batch);
  const size = v.getUint32(offset, true);
  const n = Math.min(v.getUint16(offset + CTX.argsNum, true), defs.length);
  const out: EventArg[] = [];
  for (let i = 0; i < n; i++) {
    const entry = offset + CONTEXT_SIZE + i * ARG_ENTRY_SIZE;
    const at = v.getUint32(entry, true);
    const len = v.getUint32(entry + 4, true);
    const def = defs[i];
    if (at === 0) continue;
    if (at + len > size) throw new EventFormatError(`argument ${def.name}: ${len} bytes at ${at} run past the ${size}-byte record`);
    out.push({ name: def.name, type: def.type, value: decodeValue(def, batch.subarray(offset + at, offset + at + len), options) });
  }
  return out;
}

function decodeValue(def: ArgDef, bytes: Uint8Array, options: DecodeOptions): unknown {
  const v = viewOf(bytes);
  const need = (n: number) => {
    if (bytes.length < n) throw new EventFormatError(`argument ${def.name}: ${bytes.length} bytes for a ${def.type}`);
  };
  let n: number | bigint;
  switch (def.type) {
    case 'string': return utf8.decode(bytes);
    case '[]byte': return Uint8Array.from(bytes);
    case 'SockAddr': return decodeSockAddr(bytes);
    case '[]trace.HookedSymbolData': return parseJsonArg(def, bytes);
    case '[]string': return decodeStrings(def, bytes);
    case 'bool': need(1); return bytes[0] !== 0;
    case 'uint16': need(2); n = v.getUint16(0, true); break;
    case 'int32': need(4); n = v.getInt32(0, true); break;
    case 'uint32': need(4); n = v.getUint32(0, true); break;
    case 'int64': need(8); n = v.getBigInt64(0, true); break;
    default: need(8); n = v.getBigUint64(0, true); break;
  }
  if (options.parseArguments && def.parser) return renderNamedValue(def.parser, Number(n));
  return typeof n === 'bigint' && Number.isSafeInteger(Number(n)) ? Number(n) : n;
}

function decodeStrings(def: ArgDef, bytes: Uint8Array): string[] {
  const v = viewOf(bytes);
  if (bytes.length < 4) return [];
  const count = v.getUint32(0, true);
  const out: string[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw new EventFormatError(`argument ${def.name}: string ${i} of ${count} runs past the argument`);
    const len = v.getUint32(at, true);
    if (at + 4 + len > bytes.length) throw new EventFormatError(`argument ${def.name}: string ${i} of ${count} runs past the argument`);
    out.push(utf8.decode(bytes.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
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
