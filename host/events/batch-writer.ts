/**
 * Writes Tracee JSON events as flat-encoded batches (docs/abi/flat-encoding.md),
 * for replay, tests and benchmarks. Live capture does not come through here:
 * the kernel writes the same layout itself.
 */
import { eventByName, type ArgDef } from './catalogue.ts';
import { parseNamedValue } from './arg-values.ts';
import { ARG_ENTRY_SIZE, BATCH_HEADER, BATCH_HEADER_SIZE, BATCH_MAGIC, CONTEXT_SIZE, CTX, FLAG_CONTAINER_STARTED, FLAG_IS_COMPAT, FLAT_VERSION, MAX_PROCESS_NAME, align8 } from './layout.ts';
import { EventFormatError } from '../errors.ts';
import { encodeSockAddr } from './sockaddr.ts';

const utf8 = new TextEncoder();

type JsonObject = Record<string, unknown>;

export class BatchWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = BATCH_HEADER_SIZE;
  private records = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  get count(): number {
    return this.records;
  }

  get byteLength(): number {
    return this.pos;
  }

  /**
   * Appends one event. Throws EventFormatError naming the field and the
   * problem; the batch is left as it was before the call.
   */
  add(event: unknown, containerRef = 0): void {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new EventFormatError('event is not a JSON object');
    const e = event as JsonObject;
    const name = e.eventName;
    if (typeof name !== 'string') throw new EventFormatError('eventName is missing or not a string');
    const def = eventByName(name);
    if (!def) throw new EventFormatError(`unknown event "${name}"`);
    const args = argValues(e.args);

    const start = this.pos;
    const tableEnd = CONTEXT_SIZE + def.args.length * ARG_ENTRY_SIZE;
    this.ensure(start + tableEnd);
    this.buf.fill(0, start, start + tableEnd);
    let dataPos = tableEnd;
    try {
      def.args.forEach((arg, i) => {
        if (!args.has(arg.name)) return;
        const bytes = encodeArg(arg, args.get(arg.name));
        if (bytes === undefined) return;
        this.ensure(start + dataPos + bytes.length + 8);
        this.buf.set(bytes, start + dataPos);
        const entry = start + CONTEXT_SIZE + i * ARG_ENTRY_SIZE;
        this.view.setUint32(entry, dataPos, true);
        this.view.setUint32(entry + 4, bytes.length, true);
        dataPos += bytes.length;
      });
      const size = align8(dataPos);
      this.ensure(start + size);
      this.buf.fill(0, start + dataPos, start + size);
      this.writeContext(start, e, def.id, def.args.length, size, containerRef);
      this.pos = start + size;
      this.records++;
    } catch (err) {
      this.pos = start;
      throw err;
    }
  }

  /** Returns the finished batch (a copy) and resets the writer. */
  finish(clockOffsetNs = 0n): Uint8Array {
    const v = this.view;
    v.setUint32(BATCH_HEADER.magic.offset, BATCH_MAGIC, true);
    v.setUint16(BATCH_HEADER.version.offset, FLAT_VERSION, true);
    v.setUint16(BATCH_HEADER.headerSize.offset, BATCH_HEADER_SIZE, true);
    v.setUint32(BATCH_HEADER.count.offset, this.records, true);
    v.setUint32(BATCH_HEADER.byteLength.offset, this.pos, true);
    v.setBigInt64(BATCH_HEADER.clockOffsetNs.offset, clockOffsetNs, true);
    const out = this.buf.slice(0, this.pos);
    this.pos = BATCH_HEADER_SIZE;
    this.records = 0;
    return out;
  }

  private writeContext(at: number, e: JsonObject, id: number, argsNum: number, size: number, containerRef: number): void {
    const v = this.view;
    v.setUint32(at + CTX.size, size, true);
    v.setUint32(at + CTX.eventId, id, true);
    v.setBigUint64(at + CTX.timestamp, u64(e, 'timestamp'), true);
    v.setBigUint64(at + CTX.threadStartTime, u64(e, 'threadStartTime'), true);
    v.setBigUint64(at + CTX.cgroupId, u64(e, 'cgroupId'), true);
    v.setBigInt64(at + CTX.returnValue, BigInt.asIntN(64, u64(e, 'returnValue', true)), true);
    v.setBigUint64(at + CTX.matchedPolicies, 0n, true);
    for (const f of ['processorId', 'processId', 'threadId', 'parentProcessId', 'hostProcessId', 'hostThreadId',
      'hostParentProcessId', 'userId', 'mountNamespace', 'pidNamespace', 'threadEntityId', 'processEntityId', 'parentEntityId']) {
      v.setUint32(at + CTX[f], Number(BigInt.asUintN(32, u64(e, f))), true);
    }
    const syscall = typeof e.syscall === 'string' ? eventByName(e.syscall) : undefined;
    v.setInt32(at + CTX.syscall, syscall?.id ?? (typeof e.syscall === 'number' ? e.syscall : -1), true);
    const flags = (e.contextFlags ?? {}) as JsonObject;
    v.setUint32(at + CTX.flags, (flags.containerStarted === true ? FLAG_CONTAINER_STARTED : 0) | (flags.isCompat === true ? FLAG_IS_COMPAT : 0), true);
    v.setUint32(at + CTX.containerRef, containerRef, true);
    this.writeName(at + CTX.processName, e.processName);
    this.writeName(at + CTX.hostName, e.hostName);
    v.setUint16(at + CTX.argsNum, argsNum, true);
  }

  private writeName(at: number, value: unknown): void {
    this.buf.fill(0, at, at + MAX_PROCESS_NAME);
    if (typeof value === 'string') this.buf.set(utf8.encode(value).subarray(0, MAX_PROCESS_NAME), at);
  }

  private ensure(end: number): void {
    if (end <= this.buf.length) return;
    let n = this.buf.length * 2;
    while (n < end) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.buf); // all of it: a record in progress lies beyond this.pos
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

function argValues(args: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (args === undefined || args === null) return out;
  if (!Array.isArray(args)) throw new EventFormatError('args is not an array');
  for (const a of args) {
    if (typeof a !== 'object' || a === null || typeof (a as JsonObject).name !== 'string') {
      throw new EventFormatError('args entry without a string "name"');
    }
    out.set((a as JsonObject).name as string, (a as JsonObject).value);
  }
  return out;
}

/** An integer context field: number, digit string or absent (0). */
function u64(e: JsonObject, field: string, signed = false): bigint {
  const v = e[field];
  if (v === undefined || v === null) return 0n;
  const n = toBigInt(v);
  if (n === undefined) throw new EventFormatError(`${field}: expected an integer, got ${JSON.stringify(v)}`);
  if (!signed && n < 0n) return BigInt.asUintN(64, n);
  return n;
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

/** Byte width of each integer argument type (two's complement for signed ones). */
const INT_WIDTH: Record<string, number> = { 'int32': 4, 'uint32': 4, 'int64': 8, 'uint64': 8, 'uint16': 2, 'trace.Pointer': 8 };

/** Encodes one argument value per its catalogue type; undefined for null (absent). */
function encodeArg(arg: ArgDef, value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  const fail = (what: string) => new EventFormatError(`argument ${arg.name}: expected ${what}, got ${JSON.stringify(value)}`);
  switch (arg.type) {
    case 'string':
      if (typeof value !== 'string') throw fail('a string');
      return utf8.encode(value);
    case '[]byte':
      if (typeof value !== 'string') throw fail('base64 bytes');
      return Buffer.from(value, 'base64');
    case 'bool':
      if (typeof value !== 'boolean') throw fail('a boolean');
      return Uint8Array.of(value ? 1 : 0);
    case '[]string':
      if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw fail('an array of strings');
      return encodeStrings(value as string[]);
    case '[]trace.HookedSymbolData':
      if (!Array.isArray(value)) throw fail('an array');
      return utf8.encode(JSON.stringify(value));
    case 'SockAddr':
      if (typeof value !== 'object' || Array.isArray(value)) throw fail('a SockAddr object');
      return encodeSockAddr(value as Record<string, unknown>, fail);
    default: {
      const bytes = INT_WIDTH[arg.type];
      let n = toBigInt(value);
      if (n === undefined && typeof value === 'string' && arg.parser) {
        const parsed = parseNamedValue(arg.parser, value);
        if (parsed !== undefined) n = BigInt(parsed);
      }
      if (n === undefined) throw fail(arg.parser ? `an integer or a ${arg.parser} name` : 'an integer');
      const out = new Uint8Array(bytes);
      const dv = new DataView(out.buffer);
      if (bytes === 8) dv.setBigUint64(0, BigInt.asUintN(64, n), true);
      else if (bytes === 4) dv.setUint32(0, Number(BigInt.asUintN(32, n)), true);
      else dv.setUint16(0, Number(BigInt.asUintN(16, n)), true);
      return out;
    }
  }
}

function encodeStrings(items: string[]): Uint8Array {
  const parts = items.map((s) => utf8.encode(s));
  const out = new Uint8Array(4 + parts.reduce((n, p) => n + 4 + p.length, 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let at = 4;
  for (const p of parts) {
    dv.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}
