/**
 * Reads the records of a flat-encoded batch in place — context fields and
 * arguments by their catalogue type — without building an object per event
 * (docs/abi/flat-encoding.md). What a stage that looks at every event needs:
 * it pays for the reads it makes, a few ns a number and ~50 ns a string
 * (~150 ns for every field and argument of a syscall record), where
 * decodeEvent (batch-reader.ts) builds Tracee's whole JSON shape (~400 ns),
 * for printing.
 *
 *   const r = new RecordReader(batch);
 *   forEachRecord(batch, header, (offset) => {
 *     r.at(offset);
 *     if (r.eventId === OPENAT && r.argString(1) === '/etc/shadow') ...
 *   });
 */
import { eventById, type ArgType, type EventDef } from './catalogue.ts';
import { ARG_ENTRY_SIZE, CONTEXT_SIZE, CTX, MAX_PROCESS_NAME } from './layout.ts';
import { EventFormatError } from '../errors.ts';

/** Argument kinds: the catalogue types as small integers, for a switch on the hot path. */
export const ARG_KIND = {
  bool: 1, u16: 2, i32: 3, u32: 4, i64: 5, u64: 6,
  string: 7, strings: 8, bytes: 9, sockaddr: 10, json: 11,
} as const;
export type ArgKind = (typeof ARG_KIND)[keyof typeof ARG_KIND];

function kindOf(type: ArgType): ArgKind {
  switch (type) {
    case 'bool': return ARG_KIND.bool;
    case 'uint16': return ARG_KIND.u16;
    case 'int32': return ARG_KIND.i32;
    case 'uint32': return ARG_KIND.u32;
    case 'int64': return ARG_KIND.i64;
    case 'uint64': case 'trace.Pointer': return ARG_KIND.u64;
    case 'string': return ARG_KIND.string;
    case '[]string': return ARG_KIND.strings;
    case '[]byte': return ARG_KIND.bytes;
    case 'SockAddr': return ARG_KIND.sockaddr;
    case '[]trace.HookedSymbolData': return ARG_KIND.json;
  }
}

const NO_KINDS = new Uint8Array(0);

// Catalogue entry and argument kinds per event id, looked up once per id:
// an array indexed by id (catalogue ids are below TR_MAX_EVENT_ID, 2048;
// a larger one, from a corrupt record, is looked up each time instead).
interface Known { def: EventDef | undefined; kinds: Uint8Array }
const knownById: Known[] = [];
function known(id: number): Known {
  let k = knownById[id];
  if (k === undefined) {
    const def = eventById(id);
    k = { def, kinds: def ? Uint8Array.from(def.args, (a) => kindOf(a.type)) : NO_KINDS };
    if (id < 2048) knownById[id] = k;
  }
  return k;
}

// Offsets used on every record, as constants.
const O_EVENT_ID = CTX.eventId;
const O_ARGS_NUM = CTX.argsNum;
const O_COMM = CTX.processName;
const O_HOST_NAME = CTX.hostName;
const TWO32 = 2 ** 32;
const REUSED_STRING_MAX = 128; // longest string argument argString compares with the last one
// Bytes an argument of each kind needs (by ARG_KIND; variable-length kinds: 0).
const MIN_WIDTH = [0, 1, 2, 4, 4, 8, 8, 0, 0, 0, 0, 0];

export class RecordReader {
  readonly batch: Uint8Array;
  readonly view: DataView;
  readonly #text: Buffer;
  /** The current record: batch offset, size in bytes and event id. */
  offset = 0;
  size = 0;
  eventId = 0;
  /** The catalogue entry of eventId (undefined for an id the catalogue lacks: no arguments are read). */
  def: EventDef | undefined = undefined;
  /** Argument table entries this reader can interpret (those of the catalogue entry). */
  argCount = 0;
  #kinds: Uint8Array = NO_KINDS;

  constructor(batch: Uint8Array) {
    this.batch = batch;
    this.view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    // A Buffer over the same bytes for its native UTF-8 decoding (cheaper
    // than a TextDecoder call per string; same U+FFFD replacement).
    this.#text = Buffer.isBuffer(batch) ? batch : Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  }

  /** Moves to the record at `offset` (from forEachRecord, which checked its size). Throws EventFormatError for a table past the record. */
  at(offset: number): this {
    const v = this.view;
    this.offset = offset;
    this.size = v.getUint32(offset, true);
    this.eventId = v.getUint32(offset + O_EVENT_ID, true);
    const { def, kinds } = known(this.eventId);
    this.def = def;
    if (def) {
      this.#kinds = kinds;
      this.argCount = Math.min(v.getUint16(offset + O_ARGS_NUM, true), def.args.length);
      if (CONTEXT_SIZE + this.argCount * ARG_ENTRY_SIZE > this.size) {
        throw new EventFormatError(`record at ${offset}: ${this.argCount} argument entries do not fit in ${this.size} bytes`);
      }
    } else {
      this.#kinds = NO_KINDS;
      this.argCount = 0;
    }
    return this;
  }

  /** A u32 context field (`CTX.hostProcessId`, ...). */
  u32(field: number): number {
    return this.view.getUint32(this.offset + field, true);
  }

  /** An i32 context field (`CTX.syscall`). */
  i32(field: number): number {
    return this.view.getInt32(this.offset + field, true);
  }

  /** A u64 context field as a number: exact below 2^53 (ids, ns since boot for 104 days); big() otherwise. */
  u64(field: number): number {
    const at = this.offset + field;
    return this.view.getUint32(at + 4, true) * TWO32 + this.view.getUint32(at, true);
  }

  /** An i64 context field (`CTX.returnValue`) as a number, exact within ±2^53. */
  i64(field: number): number {
    const at = this.offset + field;
    return this.view.getInt32(at + 4, true) * TWO32 + this.view.getUint32(at, true);
  }

  /** A 64-bit context field exactly. */
  big(field: number): bigint {
    return this.view.getBigUint64(this.offset + field, true);
  }

  /** comm. */
  processName(): string {
    return this.#cString(this.offset + O_COMM, 0);
  }

  /** The UTS nodename's first 16 bytes. */
  hostName(): string {
    return this.#cString(this.offset + O_HOST_NAME, 1);
  }

  /** Argument i's kind (ARG_KIND), 0 past argCount. */
  argKind(i: number): number {
    return i < this.argCount ? this.#kinds[i] : 0;
  }

  /** Batch offset of argument i's bytes; 0 when absent. Throws EventFormatError when they run past the record. */
  argOffset(i: number): number {
    if (i >= this.argCount) return 0;
    const entry = this.offset + CONTEXT_SIZE + i * ARG_ENTRY_SIZE;
    const at = this.view.getUint32(entry, true);
    if (at === 0) return 0;
    const len = this.view.getUint32(entry + 4, true);
    if (at + len > this.size) {
      throw new EventFormatError(`argument ${this.def!.args[i].name}: ${len} bytes at ${at} run past the ${this.size}-byte record`);
    }
    if (len < MIN_WIDTH[this.#kinds[i]]) {
      throw new EventFormatError(`argument ${this.def!.args[i].name}: ${len} bytes for a ${this.def!.args[i].type}`);
    }
    return this.offset + at;
  }

  /** Length in bytes of argument i (0 when absent). */
  argLength(i: number): number {
    return i < this.argCount ? this.view.getUint32(this.offset + CONTEXT_SIZE + i * ARG_ENTRY_SIZE + 4, true) : 0;
  }

  /**
   * An integer or bool argument as a number (64-bit ones exact within 2^53:
   * pointers, flags, ids; argBigInt for inodes and ctimes); NaN when absent
   * or not an integer.
   */
  argNumber(i: number): number {
    const at = this.argOffset(i);
    if (at === 0) return NaN;
    const v = this.view;
    switch (this.#kinds[i]) {
      case ARG_KIND.bool: return this.batch[at] !== 0 ? 1 : 0;
      case ARG_KIND.u16: return v.getUint16(at, true);
      case ARG_KIND.i32: return v.getInt32(at, true);
      case ARG_KIND.u32: return v.getUint32(at, true);
      case ARG_KIND.i64: return v.getInt32(at + 4, true) * TWO32 + v.getUint32(at, true);
      case ARG_KIND.u64: return v.getUint32(at + 4, true) * TWO32 + v.getUint32(at, true);
      default: return NaN;
    }
  }

  /** A 64-bit integer argument exactly; undefined when absent or not 64-bit. */
  argBigInt(i: number): bigint | undefined {
    const at = this.argOffset(i);
    if (at === 0) return undefined;
    const kind = this.#kinds[i];
    if (kind === ARG_KIND.i64) return this.view.getBigInt64(at, true);
    if (kind === ARG_KIND.u64) return this.view.getBigUint64(at, true);
    return undefined;
  }

  /** A string argument; undefined when absent or not a string. */
  argString(i: number): string | undefined {
    const at = this.argOffset(i);
    if (at === 0 || this.#kinds[i] !== ARG_KIND.string) return undefined;
    return this.#string(at, this.argLength(i));
  }

  /** A []string argument (argv, env); undefined when absent or not one. */
  argStrings(i: number): string[] | undefined {
    const start = this.argOffset(i);
    if (start === 0 || this.#kinds[i] !== ARG_KIND.strings) return undefined;
    const end = start + this.argLength(i);
    if (end - start < 4) return [];
    const v = this.view;
    const count = v.getUint32(start, true);
    const out: string[] = [];
    let at = start + 4;
    for (let k = 0; k < count; k++) {
      const n = at + 4 <= end ? v.getUint32(at, true) : -1;
      if (n < 0 || at + 4 + n > end) throw new EventFormatError(`argument ${this.def!.args[i].name}: string ${k} of ${count} runs past the argument`);
      out.push(this.#text.toString('utf8', at + 4, at + 4 + n));
      at += 4 + n;
    }
    return out;
  }

  /** The raw bytes of argument i (a view into the batch, not a copy: []byte, SockAddr, ...); undefined when absent. */
  argBytes(i: number): Uint8Array | undefined {
    const at = this.argOffset(i);
    return at === 0 ? undefined : this.batch.subarray(at, at + this.argLength(i));
  }

  // comm and hostname repeat from record to record: the last bytes of each
  // and their string, compared as four u32 instead of decoding again.
  #names = [new Uint32Array(4), new Uint32Array(4)];
  #nameStrings = ['', ''];
  #nameValid = [false, false];

  // Paths repeat from record to record too: the last short string argument
  // and its bytes, compared (cheaper than decoding UTF-8 again).
  #lastBytes = new Uint8Array(REUSED_STRING_MAX);
  #lastLength = -1;
  #lastString = '';

  #string(at: number, length: number): string {
    const bytes = this.batch;
    const last = this.#lastBytes;
    if (length === this.#lastLength) {
      let k = 0;
      while (k < length && bytes[at + k] === last[k]) k++;
      if (k === length) return this.#lastString;
    }
    const s = this.#text.toString('utf8', at, at + length);
    if (length <= REUSED_STRING_MAX) {
      for (let k = 0; k < length; k++) last[k] = bytes[at + k];
      this.#lastLength = length;
      this.#lastString = s;
    }
    return s;
  }

  #cString(at: number, slot: number): string {
    const v = this.view;
    const last = this.#names[slot];
    const a = v.getUint32(at, true), b = v.getUint32(at + 4, true), c = v.getUint32(at + 8, true), d = v.getUint32(at + 12, true);
    if (this.#nameValid[slot] && a === last[0] && b === last[1] && c === last[2] && d === last[3]) return this.#nameStrings[slot];
    const bytes = this.batch;
    let end = at;
    while (end < at + MAX_PROCESS_NAME && bytes[end] !== 0) end++;
    const s = this.#text.toString('utf8', at, end);
    last[0] = a; last[1] = b; last[2] = c; last[3] = d;
    this.#nameStrings[slot] = s;
    this.#nameValid[slot] = true;
    return s;
  }
}
