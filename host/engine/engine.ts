/**
 * The engine: dispatches each flat-encoded batch to the bundles that selected
 * something in it, one call per bundle per batch, and collects findings.
 *
 * Dispatch is indexed by event id, so the cost of an event grows with the
 * signatures that selected it, not with the number loaded. Each bundle gets
 * only its selected records (consecutive ones copied as one run) behind a
 * fresh batch header. A bundle that traps or misbehaves is disabled with its
 * error recorded and counted; the others carry on with every event.
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
  bundle: Bundle;
  index: number;
  disabled: string | null;
  findings: number;
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

/** `disabled` is given when the error disabled a bundle: which, and the error (a BundleLimitError for a limit). */
export type EngineErrorSink = (message: string, disabled?: { bundle: Bundle; error: Error }) => void;

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
    const previous = new Map(this.slots.map((s) => [s.bundle, s]));
    this.slots = bundles.map((bundle, index) => ({
      bundle, index, disabled: previous.get(bundle)?.disabled ?? null, findings: previous.get(bundle)?.findings ?? 0,
      offsets: [], out: null, outPos: 0, runStart: 0, runEnd: 0,
    }));
    this.byEvent = new Map();
    this.anyEvent = [];
    for (const slot of this.slots) {
      for (const sel of slot.bundle.metadata.selectedEvents) {
        const selector = { slot, origin: ORIGIN_CODES[sel.origin] };
        if (sel.name === '*') { this.anyEvent.push(selector); continue; }
        const id = eventByName(sel.name)!.id;
        const list = this.byEvent.get(id) ?? [];
        list.push(selector);
        this.byEvent.set(id, list);
      }
    }
  }

  /** Event ids some loaded bundle selected (all: undefined when a bundle selected "*"). */
  selectedEventIds(): number[] | undefined {
    return this.anyEvent.length ? undefined : [...this.byEvent.keys()];
  }

  bundles(): BundleStatus[] {
    return this.slots.map((s) => ({
      id: s.bundle.metadata.id, name: s.bundle.name, severity: (s.bundle.metadata.properties.Severity as number | string) ?? '',
      findings: s.findings, disabled: s.disabled,
    }));
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
      slot.bundle.onFinding = (index, data, raw) => {
        if (index >= offsets.length) throw new Error(`emit_finding for event ${index} of a batch of ${offsets.length}`);
        if (++emitted > maxFindings) throw new BundleLimitError('findings', `more than ${maxFindings} findings in one batch (the findings per batch limit)`);
        collect(slot.bundle, offsets[index], data, raw);
        slot.findings++;
        this.stats.findings++;
      };
      const result = slot.bundle.run(slot.outPos);
      if (result < 0) throw new Error(`tracee_on_batch returned error ${result}`);
    } catch (err) {
      this.disable(slot, err as Error);
    }
  }

  private disable(slot: Slot, err: Error): void {
    const m = slot.bundle.metadata;
    if (err instanceof WebAssembly.RuntimeError) err = new Error(`trap: ${err.message}`, { cause: err });
    err = asMemoryLimit(slot.bundle, err);
    slot.disabled = err.message;
    this.stats.bundleErrors++;
    if (err instanceof BundleLimitError) this.stats.limitsExceeded++;
    this.onError(`engine: signature ${m.id} (${slot.bundle.name}) disabled: ${err.message}`, { bundle: slot.bundle, error: err });
  }
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
