/**
 * Rule filters compiled to predicates over flat records (docs/abi/flat-encoding.md),
 * read in place: arguments through the record's argument table, strings
 * compared as bytes (with Tracee's `abc*`, `*abc`, `*abc*` wildcards),
 * integers at their natural width. Nothing is decoded or allocated per
 * record except where a field only exists on the host side (container
 * names, syscall names).
 */
import { ARG_ENTRY_SIZE, CONTEXT_SIZE, CTX, FLAG_CONTAINER_STARTED, MAX_PROCESS_NAME } from '../events/layout.ts';
import { eventById, type ArgDef } from '../events/catalogue.ts';
import type { ContainerInfo, ContainerTable } from '../events/containers.ts';
import type { FindingData } from '../engine/finding-data.ts';
import { stringMatchKind } from './expression.ts';
import type { EventFilter, Operator } from './model.ts';

/** One record of a batch; the stage moves it from record to record instead of allocating. */
export interface RecordCursor {
  bytes: Uint8Array;
  view: DataView;
  /** Offset of the record in `bytes`. */
  at: number;
  /** The batch's clock offset (timestamp filters compare epoch ns). */
  clockOffsetNs: bigint;
}

export type RecordPredicate = (c: RecordCursor) => boolean;

export interface MatchContext {
  containers?: ContainerTable;
}

const utf8 = new TextEncoder();

/** Strings matched as bytes: exact values, prefixes, suffixes, substrings. */
export class BytesMatcher {
  private readonly exact: Uint8Array[] = [];
  private readonly prefixes: Uint8Array[] = [];
  private readonly suffixes: Uint8Array[] = [];
  private readonly contains: Uint8Array[] = [];

  constructor(values: readonly string[]) {
    for (const v of values) {
      const m = stringMatchKind(v);
      if (!m) continue;
      const b = utf8.encode(m.text);
      (m.kind === 'exact' ? this.exact : m.kind === 'prefix' ? this.prefixes : m.kind === 'suffix' ? this.suffixes : this.contains).push(b);
    }
  }

  /** Does bytes[pos, pos+len) match any value? */
  test(bytes: Uint8Array, pos: number, len: number): boolean {
    for (const e of this.exact) if (e.length === len && same(bytes, pos, e)) return true;
    for (const p of this.prefixes) if (p.length <= len && same(bytes, pos, p)) return true;
    for (const s of this.suffixes) if (s.length <= len && same(bytes, pos + len - s.length, s)) return true;
    for (const c of this.contains) if (indexOf(bytes, pos, len, c) >= 0) return true;
    return false;
  }
}

function same(bytes: Uint8Array, pos: number, pattern: Uint8Array): boolean {
  for (let i = 0; i < pattern.length; i++) if (bytes[pos + i] !== pattern[i]) return false;
  return true;
}

function indexOf(bytes: Uint8Array, pos: number, len: number, pattern: Uint8Array): number {
  if (pattern.length === 0) return 0;
  const last = pos + len - pattern.length;
  const first = pattern[0];
  for (let i = pos; i <= last; i++) if (bytes[i] === first && same(bytes, i, pattern)) return i - pos;
  return -1;
}

/** Strings matched as JS strings (host-side fields: container names, syscall names, finding data). */
export function stringMatcher(values: readonly string[]): (s: string) => boolean {
  const tests = values.map((v) => {
    const m = stringMatchKind(v);
    if (!m) return () => false;
    const t = m.text;
    switch (m.kind) {
      case 'exact': return (s: string) => s === t;
      case 'prefix': return (s: string) => s.startsWith(t);
      case 'suffix': return (s: string) => s.endsWith(t);
      default: return (s: string) => s.includes(t);
    }
  });
  return (s) => tests.some((t) => t(s));
}

/** One numeric expression: `=` any value, `!=` none, `<`/`>`… against the loosest bound (values OR'd). */
export function numberTest(operator: Operator, values: readonly number[]): (v: number) => boolean {
  switch (operator) {
    case '=': { if (values.length === 1) { const x = values[0]; return (v) => v === x; } const s = new Set(values); return (v) => s.has(v); }
    case '!=': { if (values.length === 1) { const x = values[0]; return (v) => v !== x; } const s = new Set(values); return (v) => !s.has(v); }
    case '<': { const m = Math.max(...values); return (v) => v < m; }
    case '<=': { const m = Math.max(...values); return (v) => v <= m; }
    case '>': { const m = Math.min(...values); return (v) => v > m; }
    default: { const m = Math.min(...values); return (v) => v >= m; }
  }
}

function bigintTest(operator: Operator, values: readonly bigint[]): (v: bigint) => boolean {
  const max = values.reduce((a, b) => (b > a ? b : a));
  const min = values.reduce((a, b) => (b < a ? b : a));
  switch (operator) {
    case '=': return (v) => values.includes(v);
    case '!=': return (v) => !values.includes(v);
    case '<': return (v) => v < max;
    case '<=': return (v) => v <= max;
    case '>': return (v) => v > min;
    default: return (v) => v >= min;
  }
}

/** Signed 64-bit at `at` as a number (exact within ±2^53). */
export function readI64(view: DataView, at: number): number {
  return view.getInt32(at + 4, true) * 4294967296 + view.getUint32(at, true);
}

/** Unsigned 64-bit at `at` as a number (exact below 2^53). */
export function readU64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * 4294967296 + view.getUint32(at, true);
}

/** Length of the NUL-padded name at `pos` (at most 16 bytes). */
export function nameLength(bytes: Uint8Array, pos: number): number {
  let n = 0;
  while (n < MAX_PROCESS_NAME && bytes[pos + n] !== 0) n++;
  return n;
}

export function inContainer(c: RecordCursor): boolean {
  return c.view.getUint32(c.at + CTX.containerRef, true) !== 0 || (c.view.getUint32(c.at + CTX.flags, true) & FLAG_CONTAINER_STARTED) !== 0;
}

/** A record's rule filters AND'd; undefined when there are none (always true). */
export function compileRecordFilters(filters: readonly EventFilter[], args: readonly ArgDef[], ctx: MatchContext): RecordPredicate {
  const preds = filters.map((f) => compileRecordFilter(f, args, ctx));
  if (preds.length === 1) return preds[0];
  return (c) => {
    for (const p of preds) if (!p(c)) return false;
    return true;
  };
}

function compileRecordFilter(f: EventFilter, args: readonly ArgDef[], ctx: MatchContext): RecordPredicate {
  if (f.kind === 'retval') {
    const test = numberTest(f.operator, f.values.map(Number));
    return (c) => test(readI64(c.view, c.at + CTX.returnValue));
  }
  if (f.kind === 'scope') return compileScopeField(f, ctx);
  const index = args.findIndex((a) => a.name === f.field);
  if (index < 0) return () => false;
  return compileDataFilter(f, index, args[index]);
}

/** Where argument `index` of the record is: its offset in the batch, or -1 if absent. Length in argLength. */
let argLength = 0;
function argAt(c: RecordCursor, index: number): number {
  const v = c.view;
  if (index >= v.getUint16(c.at + CTX.argsNum, true)) return -1;
  const entry = c.at + CONTEXT_SIZE + index * ARG_ENTRY_SIZE;
  const off = v.getUint32(entry, true);
  if (off === 0) return -1;
  argLength = v.getUint32(entry + 4, true);
  if (off + argLength > v.getUint32(c.at, true)) return -1; // runs past the record: treat as absent
  return c.at + off;
}

function compileDataFilter(f: EventFilter, index: number, arg: ArgDef): RecordPredicate {
  const negate = f.operator === '!=';
  switch (arg.type) {
    case 'string': {
      const m = new BytesMatcher(f.values);
      return (c) => {
        const pos = argAt(c, index);
        if (pos < 0) return false;
        return m.test(c.bytes, pos, argLength) !== negate;
      };
    }
    case '[]string': {
      const m = new BytesMatcher(f.values);
      return (c) => {
        const pos = argAt(c, index);
        if (pos < 0 || argLength < 4) return false;
        const end = pos + argLength;
        const count = c.view.getUint32(pos, true);
        let p = pos + 4;
        let any = false;
        for (let i = 0; i < count && p + 4 <= end; i++) {
          const len = c.view.getUint32(p, true);
          if (p + 4 + len > end) break;
          if (m.test(c.bytes, p + 4, len)) { any = true; break; }
          p += 4 + len;
        }
        return any !== negate;
      };
    }
    case 'bool': {
      const want = f.values.map((v) => v === 'true');
      return (c) => {
        const pos = argAt(c, index);
        if (pos < 0 || argLength < 1) return false;
        return want.includes(c.bytes[pos] !== 0) !== negate;
      };
    }
    case 'int32': case 'uint32': case 'uint16': {
      const width = arg.type === 'uint16' ? 2 : 4;
      const values = f.values.map((v) => {
        const n = BigInt(v);
        // The same bits as the record holds, read back the way the record is read.
        return arg.type === 'int32' ? Number(BigInt.asIntN(32, n)) : arg.type === 'uint32' ? Number(BigInt.asUintN(32, n)) : Number(BigInt.asUintN(16, n));
      });
      const test = numberTest(negate ? '!=' : '=', values);
      return (c) => {
        const pos = argAt(c, index);
        if (pos < 0 || argLength < width) return false;
        const v = arg.type === 'int32' ? c.view.getInt32(pos, true) : arg.type === 'uint32' ? c.view.getUint32(pos, true) : c.view.getUint16(pos, true);
        return test(v);
      };
    }
    default: { // 64-bit: compare both halves exactly
      const halves = f.values.map((v) => {
        const n = BigInt.asUintN(64, BigInt(v));
        return [Number(n & 0xffffffffn), Number(n >> 32n)] as const;
      });
      return (c) => {
        const pos = argAt(c, index);
        if (pos < 0 || argLength < 8) return false;
        const lo = c.view.getUint32(pos, true);
        const hi = c.view.getUint32(pos + 4, true);
        let any = false;
        for (const [l, h] of halves) if (l === lo && h === hi) { any = true; break; }
        return any !== negate;
      };
    }
  }
}

const U32_FIELDS = new Set(['processorId', 'processId', 'threadId', 'parentProcessId', 'hostThreadId', 'hostProcessId',
  'hostParentProcessId', 'userId', 'mountNamespace', 'pidNamespace']);

const CONTAINER_FIELDS: Record<string, (info: ContainerInfo) => string> = {
  containerId: (i) => i.id,
  containerImage: (i) => i.image,
  containerImageDigest: (i) => i.imageDigest,
  containerName: (i) => i.name,
  podName: (i) => i.podName,
  podNamespace: (i) => i.podNamespace,
  podUid: (i) => i.podUID,
};

function compileScopeField(f: EventFilter, ctx: MatchContext): RecordPredicate {
  const field = f.field;
  if (U32_FIELDS.has(field)) {
    const off = CTX[field];
    const test = numberTest(f.operator, f.values.map(Number));
    return (c) => test(c.view.getUint32(c.at + off, true));
  }
  if (field === 'cgroupId') {
    const test = numberTest(f.operator, f.values.map(Number));
    return (c) => test(readU64(c.view, c.at + CTX.cgroupId));
  }
  if (field === 'timestamp') {
    const test = bigintTest(f.operator, f.values.map(BigInt));
    return (c) => test(c.view.getBigUint64(c.at + CTX.timestamp, true) + c.clockOffsetNs);
  }
  if (field === 'processName' || field === 'hostName') {
    const off = CTX[field];
    const m = new BytesMatcher(f.values);
    const negate = f.operator === '!=';
    return (c) => m.test(c.bytes, c.at + off, nameLength(c.bytes, c.at + off)) !== negate;
  }
  if (field === 'syscall') {
    const m = stringMatcher(f.values);
    const negate = f.operator === '!=';
    return (c) => {
      const id = c.view.getInt32(c.at + CTX.syscall, true);
      const name = id >= 0 ? (eventById(id)?.name ?? String(id)) : '';
      return m(name) !== negate;
    };
  }
  if (field === 'container') {
    if (f.values[0] === 'started') return (c) => (c.view.getUint32(c.at + CTX.flags, true) & FLAG_CONTAINER_STARTED) !== 0;
    return inContainer;
  }
  if (field === 'host') return (c) => !inContainer(c);
  const container = (c: RecordCursor) => ctx.containers?.get(c.view.getUint32(c.at + CTX.containerRef, true));
  if (field === 'podSandbox') {
    const want = (f.values[0] === 'true') !== (f.operator === '!=');
    return (c) => (container(c)?.podSandbox ?? false) === want;
  }
  const read = CONTAINER_FIELDS[field];
  if (!read) return () => false;
  const m = stringMatcher(f.values);
  const negate = f.operator === '!=';
  // Tracee: an = filter on a container field also requires a container; != lets host events through.
  return (c) => {
    const info = container(c);
    if (!info) return negate;
    return m(read(info)) !== negate;
  };
}

/** Rule filters of a signature event, on a finding: data against the finding's data, the rest on its trigger record. */
export function compileFindingFilters(filters: readonly EventFilter[], ctx: MatchContext): (data: FindingData, c: RecordCursor) => boolean {
  const preds = filters.map((f): ((data: FindingData, c: RecordCursor) => boolean) => {
    if (f.kind !== 'data') {
      const p = compileRecordFilter(f, [], ctx);
      return (_d, c) => p(c);
    }
    const m = stringMatcher(f.values);
    const negate = f.operator === '!=';
    return (data) => {
      const v = data[f.field];
      if (v === undefined) return false;
      const s = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v);
      return m(s) !== negate;
    };
  });
  return (data, c) => preds.every((p) => p(data, c));
}
