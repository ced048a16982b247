/**
 * The two ways the syscall benchmark decodes what it captures, and the check
 * that they agree:
 *
 * - lean: RecordReader (host/events/record-reader.ts) reads every context
 *   field and every argument by its catalogue type (integers as numbers,
 *   strings and argv as JS strings, sockaddrs decoded) and folds the values
 *   into a checksum; no object per event.
 * - full: decodeEvent (batch-reader.ts) builds Tracee's JSON event object,
 *   and the same values are folded from it.
 *
 * foldEvent(decodeEvent(...)) must equal foldRecord(reader) for every
 * record: checkBatch() compares them on real batches after a run, so the
 * lean checksum is known to cover every value decodeEvent gives. Both also
 * tally the workload's own events (by comm, and path for openat) so a run
 * that decoded less than the workload made is caught.
 */
import { ARG_KIND, RecordReader } from '../../host/events/record-reader.ts';
import { decodeEvent, forEachRecord, readBatchHeader, type BatchHeader } from '../../host/events/batch-reader.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { CTX } from '../../host/events/layout.ts';
import { decodeSockAddr } from '../../host/events/sockaddr.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';

// FNV-style integer mixing: cheap next to the reads it checks. 32-bit
// fields mix as they are; 64-bit values as their low and high halves
// (`x | 0` and `x / 2^32 | 0` are exact for the same double on both sides).
const mix32 = (h: number, x: number): number => Math.imul(h ^ x, 16777619);
const mix = (h: number, x: number): number => Math.imul(h ^ (x | 0) ^ ((x / 4294967296) | 0), 16777619);
const mixString = (h: number, s: string): number =>
  s.length === 0 ? mix32(h, 0) : mix32(mix32(mix32(mix32(h, s.length), s.charCodeAt(0)), s.charCodeAt(s.length >> 1)), s.charCodeAt(s.length - 1));
const mixBytes = (h: number, b: Uint8Array): number => (b.length === 0 ? mix32(h, 0) : mix32(mix32(mix32(h, b.length), b[0]), b[b.length - 1]));
const mixSockAddr = (h: number, a: Record<string, string>): number => {
  for (const k in a) h = mixString(mixString(h, k), a[k]);
  return h;
};

// Context offsets as constants (CTX is a dictionary: a lookup per use).
const {
  timestamp, threadStartTime, cgroupId, returnValue, processorId, processId, threadId, parentProcessId,
  hostProcessId, hostThreadId, hostParentProcessId, userId, mountNamespace, pidNamespace, syscall, flags,
  threadEntityId, processEntityId, parentEntityId, containerRef, matchedPolicies,
} = CTX;

/** What the workload itself made: events of its comm (openat: of `path` too), counted by event id. */
export interface Tally {
  comm: string;
  path?: string;
  counts: number[];
}

export function tallyOf(comm: string, path?: string): Tally {
  return { comm, path, counts: [] };
}

const OPENAT = eventByName('openat')!.id;

function count(t: Tally, id: number, comm: string, path: string | undefined): void {
  if (comm !== t.comm) return;
  if (id === OPENAT && t.path !== undefined && path !== t.path) return;
  t.counts[id] = (t.counts[id] ?? 0) + 1;
}

/** Lean decode of the reader's current record. `side` gets the two fields the JSON shape lacks (containerRef, matchedPolicies). */
export function foldRecord(r: RecordReader, h: number, t: Tally | undefined, side: { sum: number }): number {
  h = foldContext(r, h, side);
  const comm = r.processName();
  h = mixString(mixString(h, comm), r.hostName());
  return foldArgs(r, h, t, comm);
}

// Two functions, not one: each gets V8's own inlining budget, so the
// reader's one-line accessors are inlined in both.
function foldContext(r: RecordReader, h: number, side: { sum: number }): number {
  h = mix32(h, r.eventId);
  h = mix(h, r.u64(timestamp));
  h = mix(h, r.u64(threadStartTime));
  h = mix(h, r.u64(cgroupId));
  h = mix(h, r.i64(returnValue));
  h = mix32(h, r.u32(processorId));
  h = mix32(h, r.u32(processId));
  h = mix32(h, r.u32(threadId));
  h = mix32(h, r.u32(parentProcessId));
  h = mix32(h, r.u32(hostProcessId));
  h = mix32(h, r.u32(hostThreadId));
  h = mix32(h, r.u32(hostParentProcessId));
  h = mix32(h, r.u32(userId));
  h = mix32(h, r.u32(mountNamespace));
  h = mix32(h, r.u32(pidNamespace));
  h = mix32(h, r.i32(syscall));
  h = mix32(h, r.u32(flags));
  h = mix32(h, r.u32(threadEntityId));
  h = mix32(h, r.u32(processEntityId));
  h = mix32(h, r.u32(parentEntityId));
  side.sum = mix(mix32(side.sum, r.u32(containerRef)), r.u64(matchedPolicies));
  return h;
}

function foldArgs(r: RecordReader, h: number, t: Tally | undefined, comm: string): number {
  let path: string | undefined;
  for (let i = 0; i < r.argCount; i++) {
    if (r.argOffset(i) === 0) continue; // absent
    const kind = r.argKind(i);
    if (kind <= ARG_KIND.u64) h = mix(h, r.argNumber(i));
    else if (kind === ARG_KIND.string) {
      const s = r.argString(i)!;
      path ??= s;
      h = mixString(h, s);
    } else if (kind === ARG_KIND.strings) {
      const list = r.argStrings(i)!;
      h = mix(h, list.length);
      for (const s of list) h = mixString(h, s);
    } else if (kind === ARG_KIND.sockaddr) h = mixSockAddr(h, decodeSockAddr(r.argBytes(i)!));
    else h = mixBytes(h, r.argBytes(i)!);
  }
  if (t) count(t, r.eventId, comm, path);
  return h;
}

/** A record's own timestamp from decodeEvent's (0 stays 0). */
function raw(ns: bigint, header: BatchHeader): number {
  return Number(ns === 0n ? 0n : ns - header.clockOffsetNs);
}

/** The same fold from decodeEvent's object. */
export function foldEvent(e: TraceeEvent, header: BatchHeader, h: number, t: Tally | undefined): number {
  h = mix32(h, Number(e.eventId));
  h = mix(h, raw(e.timestamp, header));
  h = mix(h, raw(e.threadStartTime, header));
  h = mix(h, Number(e.cgroupId));
  h = mix(h, Number(e.returnValue));
  h = mix32(h, e.processorId);
  h = mix32(h, e.processId);
  h = mix32(h, e.threadId);
  h = mix32(h, e.parentProcessId);
  h = mix32(h, e.hostProcessId);
  h = mix32(h, e.hostThreadId);
  h = mix32(h, e.hostParentProcessId);
  h = mix32(h, e.userId);
  h = mix32(h, e.mountNamespace);
  h = mix32(h, e.pidNamespace);
  h = mix32(h, e.syscall === '' ? -1 : (eventByName(e.syscall)?.id ?? Number(e.syscall)));
  h = mix32(h, (e.contextFlags.containerStarted ? 1 : 0) | (e.contextFlags.isCompat ? 2 : 0));
  h = mix32(h, e.threadEntityId);
  h = mix32(h, e.processEntityId);
  h = mix32(h, e.parentEntityId);
  h = mixString(mixString(h, e.processName), e.hostName);
  let path: string | undefined;
  for (const a of e.args) {
    const v = a.value;
    if (typeof v === 'number' || typeof v === 'bigint') h = mix(h, Number(v));
    else if (typeof v === 'boolean') h = mix(h, v ? 1 : 0);
    else if (typeof v === 'string') {
      path ??= v;
      h = mixString(h, v);
    } else if (Array.isArray(v)) {
      h = mix(h, v.length);
      for (const s of v) h = mixString(h, s);
    } else if (v instanceof Uint8Array) h = mixBytes(h, v);
    else h = mixSockAddr(h, v as Record<string, string>);
  }
  if (t) count(t, Number(e.eventId), e.processName, path);
  return h;
}

/** Lean-decodes a batch: the checksum of every record (and the tally). */
export function leanBatch(batch: Uint8Array, h: number, t: Tally | undefined, side: { sum: number }): { h: number; events: number } {
  const header = readBatchHeader(batch);
  const r = new RecordReader(batch);
  forEachRecord(batch, header, (offset) => { h = foldRecord(r.at(offset), h, t, side); });
  return { h, events: header.count };
}

/** Decodes a batch to Tracee JSON objects, folding each (and the tally). */
export function fullBatch(batch: Uint8Array, h: number, t: Tally | undefined): { h: number; events: number } {
  const header = readBatchHeader(batch);
  forEachRecord(batch, header, (offset) => { h = foldEvent(decodeEvent(batch, offset, header), header, h, t); });
  return { h, events: header.count };
}

/** Throws unless lean and full decoding give the same checksum for every record of `batch`; returns the records checked. */
export function checkBatch(batch: Uint8Array): number {
  const header = readBatchHeader(batch);
  const r = new RecordReader(batch);
  const side = { sum: 0 };
  forEachRecord(batch, header, (offset, i) => {
    const lean = foldRecord(r.at(offset), 1, undefined, side);
    const full = foldEvent(decodeEvent(batch, offset, header), header, 1, undefined);
    if (lean !== full) throw new Error(`lean and full decoding disagree on record ${i} (event ${r.eventId}) of a captured batch`);
  });
  return header.count;
}
