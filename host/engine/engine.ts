/**
 * The engine: dispatches each flat-encoded batch to the bundles that selected
 * something in it, one call per bundle per batch, and collects findings.
 *
 * Dispatch is indexed by event id, so the cost of an event grows with the
 * signatures that selected it, not with the number loaded. Each bundle gets
 * only its selected records (consecutive ones copied as one run) behind a
 * fresh batch header. A bundle that traps or misbehaves is disabled with its
 * error recorded and counted; the others carry on with every event.
 *
 * The signatures of one multi-signature module (the Rego all-in-one) share
 * an instance: they are one slot, given each record any of them selected,
 * once, and run with one call; the module evaluates each record for its
 * signatures, and each finding says which signature it is from.
 */
import { BATCH_HEADER, BATCH_HEADER_SIZE, BATCH_MAGIC, CTX, FLAG_CONTAINER_STARTED, FLAT_VERSION } from '../events/layout.ts';
import { readBatchHeader, viewOf } from '../events/batch-reader.ts';
import { eventByName } from '../events/catalogue.ts';
import { EventFormatError } from '../errors.ts';
import type { Bundle } from './bundle.ts';
import type { Finding } from './finding.ts';
import type { FindingData } from './finding-data.ts';
import { BundleLimitError, formatBytes } from './limits.ts';
import type { Origin } from './metadata.ts';

const ORIGIN_ANY = 0;
const ORIGIN_CONTAINER = 1;
const ORIGIN_HOST = 2;
const ORIGIN_CODES: Record<Origin, number> = { '*': ORIGIN_ANY, container: ORIGIN_CONTAINER, host: ORIGIN_HOST };

interface Slot {
  /** The bundle whose instance runs (the first of `members`). */
  bundle: Bundle;
  /** The signatures run by this instance, in the engine's order; by `member` index in `bySignature`. */
  members: Bundle[];
  bySignature: Array<Bundle | undefined>;
  disabled: string | null;
  findings: Map<Bundle, number>;
  /** Per batch: original record offsets in the order copied, and the copy state. */
  offsets: number[];
  out: Uint8Array | null;
  outPos: number;
  runStart: number;
  runEnd: number;
}

interface Selector {
  slot: Slot;
  origin: number;
}

export interface BundleStatus {
  id: string;
  name: string;
  severity: number | string;
  findings: number;
  disabled: string | null;
}

export interface EngineStats {
  batches: number;
  events: number;
  findings: number;
  bundleErrors: number;
  badBatches: number;
  /** Bundles disabled for going past one of their limits (limits.ts); also counted in bundleErrors. */
  limitsExceeded: number;
}

/**
 * `disabled` is given when the error disabled a bundle: which (the
 * signatures of its instance: several for a multi-signature module), and the
 * error (a BundleLimitError for a limit).
 */
export type EngineErrorSink = (message: string, disabled?: { bundles: Bundle[]; error: Error }) => void;

/**
 * Receives each finding as the bundle emits it (bundle order, not event
 * order): the bundle, the offset of the triggering record in the batch, the
 * data, and the data as the bundle encoded it when it did (valid only during the call).
 */
export type FindingCollector = (bundle: Bundle, recordOffset: number, data: FindingData, raw?: Uint8Array) => void;

/** Memory this close to the limit when a bundle fails is taken as the limit being hit (a failed memory.grow). */
const MEMORY_LIMIT_SLACK = 1 << 20;

export class Engine {
  private slots: Slot[] = [];
  /** Selectors by event id. */
  private byEvent = new Map<number, Selector[]>();
  private anyEvent: Selector[] = [];
  readonly stats: EngineStats = { batches: 0, events: 0, findings: 0, bundleErrors: 0, badBatches: 0, limitsExceeded: 0 };

  constructor(bundles: readonly Bundle[], private readonly onError: EngineErrorSink = (m) => console.error(m)) {
    this.setBundles(bundles);
  }

  /**
   * Runs `bundles` from the next batch on (hot reload, reload.ts). A bundle
   * that was already loaded keeps its finding count and disabled state;
   * one no longer listed is dropped. Call it between batches.
   */
  setBundles(bundles: readonly Bundle[]): void {
    const previous = new Map(this.slots.map((s) => [s.bundle.instanceKey, s]));
    const byInstance = new Map<object, Slot>();
    this.slots = [];
    for (const bundle of bundles) {
      let slot = byInstance.get(bundle.instanceKey);
      if (!slot) {
        const was = previous.get(bundle.instanceKey);
        slot = { bundle, members: [], bySignature: [], disabled: was?.disabled ?? null, findings: new Map(), offsets: [], out: null, outPos: 0, runStart: 0, runEnd: 0 };
        byInstance.set(bundle.instanceKey, slot);
        this.slots.push(slot);
      }
      slot.members.push(bundle);
      slot.bySignature[bundle.member ?? 0] = bundle;
      slot.findings.set(bundle, previous.get(bundle.instanceKey)?.findings.get(bundle) ?? 0);
    }
    this.byEvent = new Map();
    this.anyEvent = [];
    for (const slot of this.slots) {
      for (const member of slot.members) {
        for (const sel of member.metadata.selectedEvents) {
          const selector = { slot, origin: ORIGIN_CODES[sel.origin] };
          if (sel.name === '*') { this.anyEvent.push(selector); continue; }
          const id = eventByName(sel.name)!.id;
          const list = this.byEvent.get(id) ?? [];
          list.push(selector);
          this.byEvent.set(id, list);
        }
      }
    }
  }

  /** Event ids some loaded bundle selected (all: undefined when a bundle selected "*"). */
  selectedEventIds(): number[] | undefined {
    return this.anyEvent.length ? undefined : [...this.byEvent.keys()];
  }

  bundles(): BundleStatus[] {
    return this.slots.flatMap((s) => s.members.map((b) => ({
      id: b.metadata.id, name: b.name, severity: (b.metadata.properties.Severity as number | string) ?? '',
      findings: s.findings.get(b) ?? 0, disabled: s.disabled,
    })));
  }

  /** Runs every interested bundle on the batch; returns the findings in event order. */
  process(batch: Uint8Array): Finding[] {
    const found: Array<[offset: number, finding: Finding]> = [];
    let clockOffsetNs = 0n;
    const touched = this.run(batch, (bundle, at, data) => {
      const size = viewOf(batch).getUint32(at, true);
      found.push([at, { signature: bundle.metadata, record: batch.slice(at, at + size), clockOffsetNs, data }]);
    }, (offset) => { clockOffsetNs = offset; });
    if (touched > 1) found.sort((a, b) => a[0] - b[0]); // stable: bundle order within an event
    return found.map(([, f]) => f);
  }

  /**
   * Runs every interested bundle on the batch, handing each finding to
   * `collect` instead of building Finding objects (the sandbox's workers send
   * them on in a compact form); returns the number of findings.
   */
  collect(batch: Uint8Array, collect: FindingCollector): number {
    const before = this.stats.findings;
    this.run(batch, collect);
    return this.stats.findings - before;
  }

  /** Returns the number of bundles that ran. */
  private run(batch: Uint8Array, collect: FindingCollector, onHeader?: (clockOffsetNs: bigint) => void): number {
    let header;
    try {
      header = readBatchHeader(batch);
    } catch (err) {
      this.stats.badBatches++;
      this.onError(`engine: dropped a batch: ${(err as Error).message}`);
      return 0;
    }
    onHeader?.(header.clockOffsetNs);
    this.stats.batches++;
    this.stats.events += header.count;
    const touched = this.gather(batch, header.headerSize, header.count, header.byteLength);
    for (const slot of touched) this.runSlot(slot, batch, header.clockOffsetNs, collect);
    return touched.length;
  }

  /** Copies each record into the input of every enabled bundle that selected it. */
  private gather(batch: Uint8Array, start: number, count: number, byteLength: number): Slot[] {
    const v = viewOf(batch);
    const touched: Slot[] = [];
    let at = start;
    for (let i = 0; i < count; i++) {
      const size = v.getUint32(at, true);
      if (size < CTX.argsNum || (size & 7) !== 0 || at + size > byteLength) {
        this.stats.badBatches++;
        this.onError(`engine: ${new EventFormatError(`record ${i} at offset ${at}: bad size ${size}`).message}; the rest of the batch (${count - i} events) was dropped`);
        break;
      }
      const selectors = this.byEvent.get(v.getUint32(at + CTX.eventId, true));
      if (selectors !== undefined || this.anyEvent.length !== 0) {
        const inContainer = (v.getUint32(at + CTX.flags, true) & FLAG_CONTAINER_STARTED) !== 0;
        if (selectors) this.select(selectors, batch, at, size, inContainer, touched);
        if (this.anyEvent.length) this.select(this.anyEvent, batch, at, size, inContainer, touched);
      }
      at += size;
    }
    return touched;
  }

  private select(selectors: Selector[], batch: Uint8Array, at: number, size: number, inContainer: boolean, touched: Slot[]): void {
    for (const { slot, origin } of selectors) {
      if (slot.disabled !== null) continue;
      if (origin === ORIGIN_CONTAINER ? !inContainer : origin === ORIGIN_HOST && inContainer) continue;
      if (slot.out === null) {
        slot.out = batch; // marker: touched in this batch; real buffer on flush
        slot.offsets.length = 0;
        slot.outPos = BATCH_HEADER_SIZE;
        slot.runStart = slot.runEnd = at;
        touched.push(slot);
      }
      if (slot.offsets.length && slot.offsets[slot.offsets.length - 1] === at) continue; // selected twice (e.g. by name and "*")
      slot.offsets.push(at);
      if (at !== slot.runEnd) {
        try {
          this.flushRun(slot, batch);
        } catch (err) {
          this.disable(slot, err as Error);
          continue;
        }
      }
      if (slot.runStart === slot.runEnd) slot.runStart = at;
      slot.runEnd = at + size;
    }
  }

  /** Copies the pending run of consecutive records into the bundle's input. */
  private flushRun(slot: Slot, batch: Uint8Array): void {
    const len = slot.runEnd - slot.runStart;
    if (len > 0) {
      const { ptr, bytes } = slot.bundle.input(batch.byteLength);
      bytes.set(batch.subarray(slot.runStart, slot.runEnd), ptr + slot.outPos);
      slot.outPos += len;
    }
    slot.runStart = slot.runEnd;
  }

  private runSlot(slot: Slot, batch: Uint8Array, clockOffsetNs: bigint, collect: FindingCollector): void {
    const offsets = slot.offsets;
    slot.out = null;
    if (slot.disabled !== null) return;
    try {
      this.flushRun(slot, batch);
      const { ptr, bytes } = slot.bundle.input(batch.byteLength);
      const v = new DataView(bytes.buffer, ptr, BATCH_HEADER_SIZE);
      v.setUint32(BATCH_HEADER.magic.offset, BATCH_MAGIC, true);
      v.setUint16(BATCH_HEADER.version.offset, FLAT_VERSION, true);
      v.setUint16(BATCH_HEADER.headerSize.offset, BATCH_HEADER_SIZE, true);
      v.setUint32(BATCH_HEADER.count.offset, offsets.length, true);
      v.setUint32(BATCH_HEADER.byteLength.offset, slot.outPos, true);
      v.setBigInt64(BATCH_HEADER.clockOffsetNs.offset, clockOffsetNs, true);
      const maxFindings = slot.bundle.limits.maxFindingsPerBatch;
      let emitted = 0;
      slot.bundle.onFinding = (index, data, raw, signature = 0) => {
        if (index >= offsets.length) throw new Error(`emit_finding for event ${index} of a batch of ${offsets.length}`);
        if (++emitted > maxFindings) throw new BundleLimitError('findings', `more than ${maxFindings} findings in one batch (the findings per batch limit)`);
        const member = slot.bySignature[signature];
        if (member === undefined) {
          // A signature of the module this engine does not run (not selected): not a finding.
          if (slot.bundle.member === undefined) throw new Error(`a finding for signature ${signature} of a single-signature bundle`);
          return;
        }
        collect(member, offsets[index], data, raw);
        slot.findings.set(member, slot.findings.get(member)! + 1);
        this.stats.findings++;
      };
      const result = slot.bundle.run(slot.outPos);
      if (result < 0) throw new Error(`tracee_on_batch returned error ${result}`);
    } catch (err) {
      this.disable(slot, err as Error);
    }
  }

  private disable(slot: Slot, err: Error): void {
    if (err instanceof WebAssembly.RuntimeError) err = new Error(`trap: ${err.message}`, { cause: err });
    err = asMemoryLimit(slot.bundle, err);
    slot.disabled = err.message;
    this.stats.bundleErrors++;
    if (err instanceof BundleLimitError) this.stats.limitsExceeded++;
    this.onError(disabledMessage(slot.members.map((b) => b.metadata.id), slot.bundle.name, err.message), { bundles: slot.members, error: err });
  }
}

/** What the engines say when they disable a bundle: every signature of its instance, its file, and why. */
export function disabledMessage(ids: readonly string[], file: string, reason: string): string {
  return `engine: ${ids.length > 1 ? 'signatures' : 'signature'} ${ids.join(', ')} (${file}) disabled: ${reason}`;
}

/**
 * A bundle that fails with its memory at (or within a MiB of) its limit most
 * likely failed to grow it: say so. The limit itself is enforced by the
 * module's memory maximum (limits.ts).
 */
function asMemoryLimit(bundle: Bundle, err: Error): Error {
  if (err instanceof BundleLimitError) return err;
  const limit = bundle.limits.maxMemoryBytes;
  let used: number;
  try {
    used = bundle.memoryBytes;
  } catch {
    return err;
  }
  if (used < limit - Math.min(MEMORY_LIMIT_SLACK, limit / 4)) return err;
  return new BundleLimitError('memory', `memory limit of ${formatBytes(limit)} reached (it has ${formatBytes(used)}): ${err.message}`);
}
