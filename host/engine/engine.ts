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
}

export type EngineErrorSink = (message: string) => void;

export class Engine {
  private readonly slots: Slot[];
  /** Selectors by event id; index -1 of the map holds "*" selectors. */
  private readonly byEvent = new Map<number, Selector[]>();
  private readonly anyEvent: Selector[] = [];
  readonly stats: EngineStats = { batches: 0, events: 0, findings: 0, bundleErrors: 0, badBatches: 0 };

  constructor(bundles: readonly Bundle[], private readonly onError: EngineErrorSink = (m) => console.error(m)) {
    this.slots = bundles.map((bundle, index) => ({ bundle, index, disabled: null, findings: 0, offsets: [], out: null, outPos: 0, runStart: 0, runEnd: 0 }));
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
    let header;
    try {
      header = readBatchHeader(batch);
    } catch (err) {
      this.stats.badBatches++;
      this.onError(`engine: dropped a batch: ${(err as Error).message}`);
      return [];
    }
    this.stats.batches++;
    this.stats.events += header.count;
    const touched = this.gather(batch, header.headerSize, header.count, header.byteLength);
    const found: Array<[offset: number, finding: Finding]> = [];
    for (const slot of touched) this.runSlot(slot, batch, header.clockOffsetNs, found);
    this.stats.findings += found.length;
    if (touched.length > 1) found.sort((a, b) => a[0] - b[0]); // stable: bundle order within an event
    return found.map(([, f]) => f);
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

  private runSlot(slot: Slot, batch: Uint8Array, clockOffsetNs: bigint, found: Array<[number, Finding]>): void {
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
      slot.bundle.onFinding = (index, data) => {
        if (index >= offsets.length) throw new Error(`emit_finding for event ${index} of a batch of ${offsets.length}`);
        const at = offsets[index];
        const size = viewOf(batch).getUint32(at, true);
        found.push([at, { signature: slot.bundle.metadata, record: batch.slice(at, at + size), clockOffsetNs, data }]);
        slot.findings++;
      };
      const result = slot.bundle.run(slot.outPos);
      if (result < 0) throw new Error(`tracee_on_batch returned error ${result}`);
    } catch (err) {
      this.disable(slot, err as Error);
    }
  }

  private disable(slot: Slot, err: Error): void {
    const m = slot.bundle.metadata;
    slot.disabled = err.message;
    this.stats.bundleErrors++;
    this.onError(`engine: signature ${m.id} (${slot.bundle.name}) disabled: ${err.message}`);
  }
}
