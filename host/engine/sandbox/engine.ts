/**
 * The sandboxed engine: the same detection as Engine (engine.ts), with the
 * bundles run in worker threads, a group of bundles per worker, under a
 * watchdog (docs/sandbox.md).
 *
 * Per batch, the main thread walks the records once and copies each one a
 * worker's bundles selected into that worker's input (a growable
 * SharedArrayBuffer) — one sub-batch per worker, no per-event objects — then
 * wakes the workers, which run in parallel, and waits for them. Findings come
 * back as compact records in each worker's output buffer. When one call into
 * a bundle runs longer than the time budget, the worker is terminated and
 * restarted with its other bundles, re-instantiated; the one that overran is
 * disabled, and the sub-batch is run again so the others' findings for those
 * events are all produced (their state from earlier batches is lost).
 *
 * Two ways in. process() is synchronous, like Engine's: the main thread
 * blocks while the workers run. submit() pipelines: it routes a batch while
 * the workers still run the previous one, and hands each batch's findings to
 * its callback in submission order — when the next batch is submitted, or
 * as soon as the workers are done if none comes (flush() forces it). With
 * submit(), the main thread's routing and the workers' detection overlap,
 * and the cost of waking a worker is hidden.
 *
 * The host data a bundle reads besides its records (its worker reports
 * what, when it instantiates it) is sent only while a running bundle reads
 * it: container table changes before a batch (containers.ts); to the
 * workers whose bundles read them, the process tree's executables with the
 * batch (executables.ts) and the policy names after they change.
 */
import { availableParallelism } from 'node:os';
import { BATCH_HEADER, BATCH_HEADER_SIZE, BATCH_MAGIC, CTX, FLAT_VERSION } from '../../events/layout.ts';
import { readBatchHeader, viewOf } from '../../events/batch-reader.ts';
import { eventByName } from '../../events/catalogue.ts';
import { EventFormatError, BundleLoadError } from '../../errors.ts';
import type { ContainerTable } from '../../events/containers.ts';
import type { CompiledBundle, HostReads, LogSink } from '../bundle.ts';
import type { RegoEventHost } from '../rego-glue.ts';
import { disabledMessage, type BundleStatus, type EngineErrorSink, type EngineStats } from '../engine.ts';
import type { Finding } from '../finding.ts';
import { decodeFindingData, type FindingData } from '../finding-data.ts';
import { DEFAULT_BATCH_BUDGET_MS, resolveLimits, type BundleLimits } from '../limits.ts';
import {
  CMD_ACTIVATE, CMD_BATCH, CMD_CONTAINERS, CMD_EXIT, CMD_LOAD, CMD_POLICIES, CTRL, FINDING_HEADER, INPUT_INITIAL, INPUT_MAX,
  growableShared, type BatchHost, type BatchReply, type BundleSpec, type ContainersRequest, type GrowableShared, type LoadReply, type PoliciesRequest,
} from './protocol.ts';
import { ContainerMirror } from './containers.ts';
import { ExecutableAnswers } from './executables.ts';
import { WorkerHandle } from './worker-handle.ts';

export interface SandboxOptions {
  /** Longest one call into a bundle may run (a batch, or its start function), ms; default 1000. */
  budgetMs?: number;
  /** Worker threads; default: one per CPU but one, at most one per bundle, at most 32. */
  workers?: number;
  /** Per-bundle limits; the memory limit must be the one the bundles were compiled with. */
  limits?: Partial<BundleLimits>;
  /** Bundle log lines, prefixed with the bundle's file name. */
  log?: LogSink;
  /** What tracee.container_get answers from; mirrored into the workers as it changes. */
  containers?: ContainerTable;
  /**
   * What Rego bundles' executable and matchedPolicies input fields and
   * tracee.containers' container_ctime come from (BundleOptions.eventHost),
   * sent to the workers whose bundles read them. Change the policy names
   * with setPolicyNames().
   */
  eventHost?: Omit<RegoEventHost, 'containers'>;
  /** How long a worker may take to start, ms; default 30000. */
  startupTimeoutMs?: number;
}

export interface SandboxStats extends EngineStats {
  /** Calls stopped by the watchdog. */
  timeouts: number;
  /** Workers restarted (after a timeout or a failure). */
  restarts: number;
}

/** A bundle the sandbox knows: running, or loaded for a swap not yet committed. */
interface Entry {
  id: number;
  compiled: CompiledBundle;
  spec: BundleSpec;
  slot: number;
  findings: number;
  disabled: string | null;
  /** Position in the running list (finding order within an event). */
  order: number;
  /** What it reads of the host, as its worker reported when loading it. */
  reads: HostReads;
}

/** One of a worker's two input buffers and the sub-batch routed into it. */
interface SubBatch {
  input: GrowableShared;
  bytes: Uint8Array;
  pos: number;
  count: number;
  runStart: number;
  runEnd: number;
  /** Per run copied: [sub-batch offset, batch index in the group, original offset], flattened. */
  runs: number[];
  /** The executables of its records that executable-reading bundles selected. */
  executables: ExecutableAnswers;
}

/** A worker slot: its current worker, its bundles and its input buffers. */
interface Slot {
  handle: WorkerHandle;
  subs: [SubBatch, SubBatch];
  /** Bundles instantiated in the worker, running or staged. */
  entries: Set<Entry>;
  running: Entry[];
  /** An enabled running bundle reads the policy names. */
  readsPolicies: boolean;
  /** The policy names the current worker has (none yet: undefined). */
  policyNames: readonly string[] | undefined;
}

export type FindingsCallback = (findings: Finding[]) => void;

/** A submitted batch waiting for its findings. */
interface Member {
  batch: Uint8Array;
  done: FindingsCallback;
  found: Array<[offset: number, order: number, finding: Finding]>;
}

/**
 * Batches routed into one input buffer and handed to the workers together:
 * batches submitted back to back (the capture delivering a backlog) share
 * one round trip to the workers.
 */
interface Group {
  members: Member[];
  clockOffsetNs: bigint;
  buffer: 0 | 1;
  /** Bit set of the slots with records. */
  used: number;
  bytes: number;
  /** Sequence numbers of the requests, once dispatched. */
  seqs: number[];
}

/** A group is handed to the workers once it holds this many bytes of batches (or this many batches), or at the next turn of the event loop. */
const GROUP_BYTES = 1 << 20;
const GROUP_BATCHES = 64;

const MAX_WORKERS = 32;
const MAX_ROUTED_ID = 1 << 16;

let nextId = 1;

export class SandboxEngine {
  readonly stats: SandboxStats = { batches: 0, events: 0, findings: 0, bundleErrors: 0, badBatches: 0, limitsExceeded: 0, timeouts: 0, restarts: 0 };
  /** Bundles that could not be started at start(). */
  readonly loadErrors: BundleLoadError[] = [];
  private readonly slots: Slot[] = [];
  private readonly entries = new Map<CompiledBundle, Entry>();
  private readonly ids = new Map<number, Entry>();
  /** Some running bundle imports tracee.container_get: keep the workers' container tables in step. */
  private needsContainers = false;
  private running: Entry[] = [];
  private routeById = new Uint32Array(0);
  private routeAny = 0;
  /** The same routes for the bundles that read executables (none without a process tree). */
  private executableRouteById = new Uint32Array(0);
  private executableRouteAny = 0;
  private readonly processes: RegoEventHost['processes'];
  private policyNames: readonly string[];
  private readonly budgetMs: number;
  private readonly hangMs: number;
  private readonly startupMs: number;
  private readonly limits: BundleLimits;
  private readonly log: LogSink;
  private readonly mirror: ContainerMirror | undefined;
  private closed = false;
  /** The group being filled, and the one the workers run. */
  private open: Group | null = null;
  private inFlight: Group | null = null;
  private buffer: 0 | 1 = 0;
  private idleScheduled = false;
  private awaiting = false;

  private constructor(private readonly onError: EngineErrorSink, options: SandboxOptions, workers: number) {
    this.budgetMs = positive('budgetMs', options.budgetMs ?? DEFAULT_BATCH_BUDGET_MS);
    this.hangMs = Math.max(10 * this.budgetMs, 10_000);
    this.startupMs = positive('startupTimeoutMs', options.startupTimeoutMs ?? 30_000);
    this.limits = resolveLimits(options.limits);
    this.log = options.log ?? ((level, message) => console.error(`bundle log[${level}]: ${message}`));
    this.mirror = options.containers ? new ContainerMirror(options.containers, options.eventHost?.containerDirectory) : undefined;
    this.processes = options.eventHost?.processes;
    this.policyNames = options.eventHost?.policyNames ?? [];
    for (let i = 0; i < workers; i++) {
      const subs = [subBatch(), subBatch()] as [SubBatch, SubBatch];
      this.slots.push({ handle: new WorkerHandle([subs[0].input, subs[1].input]), subs, entries: new Set(), running: [], readsPolicies: false, policyNames: undefined });
    }
  }

  /**
   * Starts the workers and the bundles. A bundle that fails to start (its
   * start function traps or overruns, wrong ABI version) is left out and
   * listed in `loadErrors`; the others run.
   */
  static async start(bundles: readonly CompiledBundle[], onError: EngineErrorSink = (m) => console.error(m), options: SandboxOptions = {}): Promise<SandboxEngine> {
    const workers = options.workers ?? Math.max(1, Math.min(bundles.length, availableParallelism() - 1));
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new RangeError(`sandbox workers must be 1 to ${MAX_WORKERS}, got ${workers}`);
    const engine = new SandboxEngine(onError, options, workers);
    try {
      await Promise.all(engine.slots.map((s) => s.handle.readyAsync(engine.startupMs)));
    } catch (err) {
      await engine.close();
      throw err;
    }
    const failed = engine.prepare(bundles);
    for (const [b, err] of failed) engine.loadErrors.push(err instanceof BundleLoadError ? err : new BundleLoadError(b.name, err.message));
    engine.commit(bundles.filter((b) => !failed.has(b)));
    return engine;
  }

  /**
   * Hot reload, step 1: instantiates these bundles in the workers without
   * running them yet. Returns the ones that failed, with why; the others
   * are ready for commit(). Blocks while the workers instantiate.
   */
  prepare(bundles: readonly CompiledBundle[]): Map<CompiledBundle, Error> {
    this.flush();
    const failed = new Map<CompiledBundle, Error>();
    const bySlot = new Map<number, Entry[]>();
    for (const compiled of bundles) {
      if (this.entries.has(compiled)) continue;
      // The signatures of one multi-signature module share its instance: same worker, same group.
      const peer = compiled.member === undefined ? undefined : this.groupOf(compiled)[0];
      const slot = peer?.slot ?? this.lightestSlot();
      const id = nextId++;
      const entry: Entry = {
        id, compiled, slot, findings: 0, disabled: null, order: 0, reads: { containers: false, executables: false, policies: false },
        spec: {
          id, name: compiled.name, module: compiled.module, metadata: compiled.metadata, limits: this.limits,
          ...(compiled.member === undefined ? {} : { member: compiled.member, group: peer?.spec.group ?? id }),
        },
      };
      this.entries.set(compiled, entry);
      this.ids.set(id, entry);
      this.slots[slot].entries.add(entry);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), entry]);
    }
    for (const [slot, entries] of bySlot) {
      for (const [entry, reason] of this.load(slot, entries)) {
        failed.set(entry.compiled, new BundleLoadError(entry.compiled.name, reason));
        this.forget(entry);
      }
    }
    return failed;
  }

  /**
   * Hot reload, step 2: runs exactly `bundles` (each running already or
   * prepared) from the next batch on; any other bundle is dropped. A bundle
   * that keeps running keeps its state, findings count and disabled state.
   */
  commit(bundles: readonly CompiledBundle[]): void {
    this.flush();
    const running = bundles.map((b) => {
      const entry = this.entries.get(b);
      if (!entry) throw new Error(`sandbox: bundle ${b.name} was not prepared`);
      return entry;
    });
    const keep = new Set(running);
    for (const entry of [...this.entries.values()]) if (!keep.has(entry)) this.forget(entry);
    running.forEach((e, i) => { e.order = i; });
    this.running = running;
    this.needsContainers = running.some((e) => e.reads.containers);
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      slot.running = running.filter((e) => e.slot === i);
      this.request(i, CMD_ACTIVATE, { ids: slot.running.map((e) => e.id) });
    }
    this.buildRoutes();
  }

  /**
   * Policy names by matchedPolicies bit (a Rego bundle's `matchedPolicies`)
   * for the batches submitted from now on (a reload re-planned the
   * policies). A worker whose bundles read them gets them before its next
   * batch.
   */
  setPolicyNames(names: readonly string[]): void {
    if (names.length === this.policyNames.length && names.every((n, i) => n === this.policyNames[i])) return;
    this.flush(); // the batches submitted so far were filtered under the old names
    this.policyNames = [...names];
  }

  /** Worker threads running. */
  get workers(): number {
    return this.slots.length;
  }

  /** Event ids some running bundle selected (all: undefined when a bundle selected "*"). */
  selectedEventIds(): number[] | undefined {
    const ids = new Set<number>();
    for (const e of this.running) {
      for (const s of e.compiled.metadata.selectedEvents) {
        if (s.name === '*') return undefined;
        ids.add(eventByName(s.name)!.id);
      }
    }
    return [...ids];
  }

  bundles(): BundleStatus[] {
    return this.running.map((e) => ({
      id: e.compiled.metadata.id, name: e.compiled.name, severity: (e.compiled.metadata.properties.Severity as number | string) ?? '',
      findings: e.findings, disabled: e.disabled,
    }));
  }

  /** Runs every interested bundle on the batch; returns the findings in event order. */
  process(batch: Uint8Array): Finding[] {
    let found: Finding[] = [];
    this.submit(batch, (f) => { found = f; });
    this.flush();
    return found;
  }

  /**
   * Hands the batch to the workers; `done` gets its findings, in event
   * order, later (see the file comment). Callbacks run in submission order.
   * `batch` must not change until then.
   */
  submit(batch: Uint8Array, done: FindingsCallback): void {
    if (this.closed) throw new Error('sandbox: used after close()');
    const member: Member = { batch, done, found: [] };
    let header;
    try {
      header = readBatchHeader(batch);
    } catch (err) {
      this.stats.badBatches++;
      this.onError(`engine: dropped a batch: ${(err as Error).message}`);
      this.join(member, undefined); // no records, but its callback keeps its turn
      return;
    }
    this.stats.batches++;
    this.stats.events += header.count;
    if (this.open && this.open.clockOffsetNs !== header.clockOffsetNs && this.open.members.length) this.dispatchOpen();
    const group = this.join(member, header.clockOffsetNs);
    group.used |= this.route(batch, header.headerSize, header.count, header.byteLength, group, group.members.length - 1);
    group.bytes += batch.byteLength;
    if (group.bytes >= GROUP_BYTES || group.members.length >= GROUP_BATCHES) this.dispatchOpen();
  }

  /** Delivers the findings of every batch submitted, waiting for the workers (under the watchdog). */
  flush(): void {
    this.dispatchOpen();
    this.finishInFlight();
  }

  /** Adds a batch to the open group (opening one, and scheduling its dispatch, if needed). */
  private join(member: Member, clockOffsetNs: bigint | undefined): Group {
    if (!this.open) {
      this.open = { members: [], clockOffsetNs: clockOffsetNs ?? 0n, buffer: this.buffer, used: 0, bytes: 0, seqs: [] };
      this.buffer = this.buffer === 0 ? 1 : 0;
      this.whenIdle();
    }
    if (this.open.members.length === 0 && clockOffsetNs !== undefined) this.open.clockOffsetNs = clockOffsetNs;
    this.open.members.push(member);
    return this.open;
  }

  /** Hands the open group to the workers, after collecting the group before it (whose workers ran while this one was routed). */
  private dispatchOpen(): void {
    const group = this.open;
    if (!group) return;
    this.open = null;
    this.finishInFlight();
    if (group.used === 0) {
      for (const m of group.members) m.done([]);
      return;
    }
    if (this.mirror && this.needsContainers) this.syncContainers();
    for (let i = 0; i < this.slots.length; i++) {
      if ((group.used & (1 << i)) === 0) continue;
      const sub = this.slots[i].subs[group.buffer];
      const h = new DataView(sub.input, 0, BATCH_HEADER_SIZE);
      h.setUint32(BATCH_HEADER.magic.offset, BATCH_MAGIC, true);
      h.setUint16(BATCH_HEADER.version.offset, FLAT_VERSION, true);
      h.setUint16(BATCH_HEADER.headerSize.offset, BATCH_HEADER_SIZE, true);
      h.setUint32(BATCH_HEADER.count.offset, sub.count, true);
      h.setUint32(BATCH_HEADER.byteLength.offset, sub.pos, true);
      h.setBigInt64(BATCH_HEADER.clockOffsetNs.offset, group.clockOffsetNs, true);
      group.seqs[i] = this.sendBatch(i, group);
    }
    this.inFlight = group;
    this.whenIdle();
  }

  /** Collects the group in flight, if any, waiting for it; its callbacks run now, in order. */
  private finishInFlight(): void {
    const group = this.inFlight;
    if (group === null) return;
    this.inFlight = null;
    for (let i = 0; i < this.slots.length; i++) if (group.used & (1 << i)) this.finishBatch(i, group);
    for (const m of group.members) {
      if (m.found.length > 1) m.found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      this.stats.findings += m.found.length;
      m.done(m.found.map((f) => f[2]));
    }
  }

  /**
   * Once the event loop turns (no batch submitted right after): the open
   * group goes to the workers, and the one in flight is collected as soon as
   * its workers are done, without blocking. One pending callback at a time.
   */
  private whenIdle(): void {
    if (this.idleScheduled || this.closed) return;
    this.idleScheduled = true;
    setImmediate(() => {
      this.idleScheduled = false;
      this.onIdle();
    });
  }

  private onIdle(): void {
    const flight = this.inFlight;
    if (flight) {
      const i = this.slots.findIndex((s, j) => (flight.used & (1 << j)) !== 0 && !s.handle.isDone(flight.seqs[j]));
      if (i >= 0) {
        this.awaitWorker(flight, i);
        return;
      }
      this.finishInFlight();
    }
    if (this.open) this.dispatchOpen(); // schedules the next look
  }

  /** Waits for slot i without blocking, then looks again; after a whole budget, collects (the watchdog, blocking). */
  private awaitWorker(flight: Group, i: number): void {
    if (this.awaiting) return;
    this.awaiting = true;
    const handle = this.slots[i].handle;
    const keepAlive = setTimeout(() => {}, this.budgetMs); // Atomics.waitAsync alone does not keep the event loop alive
    handle.whenDone(flight.seqs[i], this.budgetMs).then(() => {
      clearTimeout(keepAlive);
      this.awaiting = false;
      if (this.inFlight !== flight || this.closed) return;
      if (handle.isDone(flight.seqs[i])) this.onIdle();
      else this.flush();
    }, () => {});
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    await Promise.all(this.slots.map((s) => {
      if (!s.handle.isStopped) s.handle.send(CMD_EXIT);
      return s.handle.terminate();
    }));
  }

  // --- batches ---------------------------------------------------------------

  /**
   * Appends each record of the batch to the sub-batch of every worker whose
   * bundles selected its event (consecutive records copied as one run).
   * Returns the bit set of workers that got records.
   */
  private route(batch: Uint8Array, start: number, count: number, byteLength: number, group: Group, member: number): number {
    const v = viewOf(batch);
    const table = this.routeById;
    const any = this.routeAny;
    if (any === 0 && table.length === 0) return 0;
    const exeTable = this.executableRouteById;
    const exeAny = this.executableRouteAny;
    let used = 0;
    let at = start;
    for (let i = 0; i < count; i++) {
      const size = at + 4 <= byteLength ? v.getUint32(at, true) : 0;
      if (size < CTX.argsNum || (size & 7) !== 0 || at + size > byteLength) {
        this.stats.badBatches++;
        this.onError(`engine: ${new EventFormatError(`record ${i} at offset ${at}: bad size ${size}`).message}; the rest of the batch (${count - i} events) was dropped`);
        break;
      }
      const eventId = v.getUint32(at + CTX.eventId, true);
      let mask = (eventId < table.length ? table[eventId] : 0) | any;
      while (mask !== 0) {
        const bit = mask & -mask;
        mask ^= bit;
        const s = this.slots[31 - Math.clz32(bit)].subs[group.buffer];
        if ((used & bit) === 0) {
          used |= bit;
          this.reserve(s, (group.used & bit) !== 0, batch.byteLength);
        }
        if (at !== s.runEnd) {
          this.copyRun(s, batch);
          s.runStart = at;
          s.runs.push(s.pos, member, at);
        }
        s.runEnd = at + size;
        s.count++;
      }
      const exe = (eventId < exeTable.length ? exeTable[eventId] : 0) | exeAny;
      if (exe !== 0) this.addExecutable(v, at, exe, group.buffer);
      at += size;
    }
    for (let i = 0; i < this.slots.length; i++) {
      if ((used & (1 << i)) === 0) continue;
      const s = this.slots[i].subs[group.buffer];
      this.copyRun(s, batch);
      s.runStart = s.runEnd = -1; // the next batch's offsets are another batch's
    }
    return used;
  }

  /** The process tree's executable for the record at `at`, for the sub-batches of the slots in `mask` (their bundles read it). */
  private addExecutable(v: DataView, at: number, mask: number, buffer: 0 | 1): void {
    const pid = v.getUint32(at + CTX.hostProcessId, true);
    const time = v.getBigUint64(at + CTX.timestamp, true);
    const path = this.processes!.executableAt(pid, time) ?? '';
    while (mask !== 0) {
      const bit = mask & -mask;
      mask ^= bit;
      this.slots[31 - Math.clz32(bit)].subs[buffer].executables.add(pid, time, path);
    }
  }

  /** Room for `batchBytes` more in the sub-batch; `continuing`: it already holds earlier batches of the group. */
  private reserve(s: SubBatch, continuing: boolean, batchBytes: number): void {
    if (!continuing) {
      s.pos = BATCH_HEADER_SIZE;
      s.count = 0;
      s.runStart = s.runEnd = -1;
      s.runs.length = 0;
      s.executables.clear();
    }
    const need = s.pos + batchBytes;
    if (need > s.input.byteLength) {
      if (need > INPUT_MAX) throw new EventFormatError(`batch of ${batchBytes} bytes does not fit the sandbox's input buffer (${INPUT_MAX} bytes)`);
      s.input.grow(Math.min(INPUT_MAX, Math.max(need, s.input.byteLength * 2)));
      s.bytes = new Uint8Array(s.input);
    }
  }

  private copyRun(s: SubBatch, batch: Uint8Array): void {
    if (s.runEnd > s.runStart) {
      s.bytes.set(batch.subarray(s.runStart, s.runEnd), s.pos);
      s.pos += s.runEnd - s.runStart;
    }
    s.runStart = s.runEnd;
  }

  /** Waits for slot i's part of the group under the watchdog, restarting its worker as needed, and collects its findings. */
  private finishBatch(i: number, group: Group): void {
    const s = this.slots[i];
    const sub = s.subs[group.buffer];
    let seq = group.seqs[i];
    let failures = 0;
    for (;;) {
      const r = s.handle.wait(seq, this.budgetMs, this.hangMs);
      if (r.state === 'done') break;
      if (r.state === 'overrun') {
        this.timedOut(r.id, r.ms);
      } else if (++failures > 1) {
        for (const e of s.running) this.disable(e, `its sandbox worker failed twice on one batch: ${r.reason}`, false);
        this.restart(i, `failed: ${r.reason}`);
        return;
      }
      this.restart(i, r.state === 'overrun' ? `${this.ids.get(r.id)?.compiled.name ?? 'a bundle'} overran its time budget` : `failed: ${r.reason}`);
      if (!s.running.some((e) => e.disabled === null)) return;
      seq = this.sendBatch(i, group); // the same sub-batch, to the others again
    }
    const reply = s.handle.reply<BatchReply>();
    if (reply) this.applyReply(reply);
    this.readFindings(s, sub, group);
    for (const [id, subOffset, data] of reply?.findings ?? []) this.addFinding(id, subOffset, data, sub, group);
  }

  /** Sends slot i its sub-batch of the group, with the host data its bundles read; returns the request's sequence number. */
  private sendBatch(i: number, group: Group): number {
    const s = this.slots[i];
    if (s.readsPolicies && s.policyNames !== this.policyNames) {
      this.request(i, CMD_POLICIES, { names: this.policyNames } satisfies PoliciesRequest);
      s.policyNames = this.policyNames;
    }
    const sub = s.subs[group.buffer];
    const host: BatchHost | undefined = sub.executables.empty ? undefined : { executables: sub.executables.payload() };
    return s.handle.send(CMD_BATCH, host, sub.pos, group.buffer);
  }

  /** Turns slot s's compact findings (output buffer) into Findings. */
  private readFindings(s: Slot, sub: SubBatch, group: Group): void {
    const len = Atomics.load(s.handle.ctrl, CTRL.OUT_LEN);
    if (len === 0) return;
    const out = s.handle.outBytes;
    const v = new DataView(s.handle.output, 0, len);
    for (let at = 0; at < len;) {
      const id = v.getUint32(at, true);
      const subOffset = v.getUint32(at + 4, true);
      const dataLen = v.getUint32(at + 8, true);
      const dataAt = at + FINDING_HEADER;
      at = dataAt + ((dataLen + 3) & ~3);
      this.addFinding(id, subOffset, decodeFindingData(out, dataAt, dataLen), sub, group);
    }
  }

  private addFinding(id: number, subOffset: number, data: FindingData, sub: SubBatch, group: Group): void {
    const entry = this.ids.get(id);
    if (!entry) return;
    const run = findRun(sub.runs, subOffset);
    const member = group.members[sub.runs[run + 1]];
    const offset = sub.runs[run + 2] + (subOffset - sub.runs[run]);
    const size = viewOf(member.batch).getUint32(offset, true);
    member.found.push([offset, entry.order, { signature: entry.compiled.metadata, record: member.batch.slice(offset, offset + size), clockOffsetNs: group.clockOffsetNs, data }]);
    entry.findings++;
  }

  private applyReply(reply: BatchReply): void {
    for (const [id, level, message] of reply.logs) {
      const e = this.ids.get(id);
      this.log(level, `${e?.compiled.name ?? `bundle #${id}`}: ${message}`);
    }
    for (const [id, reason, limit] of reply.disabled) {
      const e = this.ids.get(id);
      if (e) this.disable(e, reason, limit);
    }
    if (reply.disabled.length) this.buildRoutes();
  }

  // --- watchdog --------------------------------------------------------------

  private timedOut(id: number, ms: number): void {
    this.stats.timeouts++;
    const e = this.ids.get(id);
    if (e) this.disable(e, `exceeded its time budget: one call ran ${ms} ms, the limit is ${this.budgetMs} ms (stopped; an endless loop?)`, true);
  }

  /**
   * Replaces slot i's worker with a new one running its enabled bundles,
   * re-instantiated (blocks until it is up).
   */
  private restart(i: number, why: string): void {
    const s = this.slots[i];
    const keep = [...s.entries].filter((e) => e.disabled === null);
    this.onError(`engine: sandbox worker ${i} restarted (${why}); re-instantiating ${keep.length} bundle${keep.length === 1 ? '' : 's'}${keep.length ? `: ${keep.map((e) => e.compiled.name).join(', ')}` : ''}`);
    if (this.replaceWorker(i, keep)) {
      for (const [e, reason] of this.load(i, keep)) this.disable(e, `could not be re-instantiated: ${reason}`, false);
    }
    this.request(i, CMD_ACTIVATE, { ids: s.running.filter((e) => e.disabled === null).map((e) => e.id) });
    this.buildRoutes();
  }

  /** Terminates slot i's worker and starts a new one; false (with `affected` disabled) when it cannot start. */
  private replaceWorker(i: number, affected: Entry[]): boolean {
    const s = this.slots[i];
    void s.handle.terminate();
    this.stats.restarts++;
    s.handle = new WorkerHandle([s.subs[0].input, s.subs[1].input]);
    s.policyNames = undefined;
    try {
      s.handle.ready(this.startupMs);
      // The new worker's container table is empty: give it what the others have, so later changes are in step.
      const containers = this.mirror?.snapshot() ?? [];
      if (containers.length) this.request(i, CMD_CONTAINERS, { entries: containers } satisfies ContainersRequest);
      return true;
    } catch (err) {
      for (const e of affected) this.disable(e, `its sandbox worker could not be restarted: ${(err as Error).message}`, false);
      return false;
    }
  }

  /**
   * Instantiates `entries` in slot i's worker; returns the ones that failed,
   * with why. A start function that overruns the budget fails its bundle:
   * the worker is replaced, what it ran before is loaded again, and the rest
   * of `entries` is retried.
   */
  private load(i: number, entries: Entry[]): Array<[Entry, string]> {
    const failed: Array<[Entry, string]> = [];
    let pending = entries;
    while (pending.length) {
      const s = this.slots[i];
      const r = s.handle.wait(s.handle.send(CMD_LOAD, { bundles: pending.map((e) => e.spec) }), this.budgetMs, this.hangMs);
      if (r.state === 'done') {
        const reply = s.handle.reply<LoadReply & BatchReply>();
        for (const [id, level, message] of reply?.logs ?? []) this.log(level, `${this.ids.get(id)?.compiled.name}: ${message}`);
        for (const [id, reason] of reply?.failed ?? []) failed.push([this.ids.get(id)!, reason]);
        for (const [id, reads] of reply?.reads ?? []) {
          const e = this.ids.get(id);
          if (e) e.reads = reads;
        }
        return failed;
      }
      const culprit = r.state === 'overrun' ? pending.find((e) => e.id === r.id) : undefined;
      if (culprit) {
        this.stats.timeouts++;
        failed.push([culprit, `its start function ran over the time budget of ${this.budgetMs} ms (stopped)`]);
        pending = pending.filter((e) => e !== culprit);
      } else {
        const reason = r.state === 'overrun' ? 'its sandbox worker overran while loading it' : `its sandbox worker failed while loading it: ${r.reason}`;
        for (const e of pending) failed.push([e, reason]);
        pending = [];
      }
      const before = [...s.entries].filter((e) => !entries.includes(e) && e.disabled === null);
      if (!this.replaceWorker(i, before)) {
        for (const e of pending) failed.push([e, 'its sandbox worker could not be restarted']);
        return failed;
      }
      if (before.length) {
        for (const [e, why] of this.load(i, before)) this.disable(e, `could not be re-instantiated: ${why}`, false);
        this.request(i, CMD_ACTIVATE, { ids: s.running.filter((e) => e.disabled === null).map((e) => e.id) });
      }
    }
    return failed;
  }

  /** A request other than a batch, waited for; an overrun here is a worker bug, reported. */
  private request(i: number, cmd: number, payload: unknown): void {
    const s = this.slots[i];
    const r = s.handle.wait(s.handle.send(cmd, payload), this.budgetMs, this.hangMs);
    if (r.state !== 'done') this.onError(`engine: sandbox worker ${i}: request ${cmd} did not complete (${r.state === 'failed' ? r.reason : 'overrun'})`);
  }

  // --- bookkeeping -------------------------------------------------------------

  /** Disables the bundle, and the other signatures of its module (they share its instance). */
  private disable(e: Entry, reason: string, limit: boolean): void {
    if (e.disabled !== null) return;
    const group = e.compiled.member === undefined ? [e] : this.groupOf(e.compiled).filter((g) => g.disabled === null);
    for (const g of group) g.disabled = reason;
    this.stats.bundleErrors++;
    if (limit) this.stats.limitsExceeded++;
    this.onError(disabledMessage(group.map((g) => g.compiled.metadata.id), e.compiled.name, reason));
  }

  /** The entries of the signatures of `compiled`'s module. */
  private groupOf(compiled: CompiledBundle): Entry[] {
    return [...this.entries.values()].filter((e) => e.compiled.module === compiled.module);
  }

  private forget(e: Entry): void {
    this.entries.delete(e.compiled);
    this.ids.delete(e.id);
    this.slots[e.slot].entries.delete(e);
  }

  private lightestSlot(): number {
    let best = 0;
    for (let i = 1; i < this.slots.length; i++) if (this.slots[i].entries.size < this.slots[best].entries.size) best = i;
    return best;
  }

  /** The routes of the enabled running bundles, and of those among them that read executables; which workers' bundles read policy names. */
  private buildRoutes(): void {
    const enabled = this.running.filter((e) => e.disabled === null);
    [this.routeById, this.routeAny] = routes(enabled);
    [this.executableRouteById, this.executableRouteAny] = routes(this.processes ? enabled.filter((e) => e.reads.executables) : []);
    this.slots.forEach((s, i) => { s.readsPolicies = enabled.some((e) => e.slot === i && e.reads.policies); });
  }

  /** Sends container table changes to every worker; none has a batch in flight. */
  private syncContainers(): void {
    const changes = this.mirror!.changes();
    if (changes.length === 0) return;
    for (let i = 0; i < this.slots.length; i++) this.request(i, CMD_CONTAINERS, { entries: changes } satisfies ContainersRequest);
  }
}

function subBatch(): SubBatch {
  const input = growableShared(INPUT_INITIAL, INPUT_MAX);
  return { input, bytes: new Uint8Array(input), pos: 0, count: 0, runStart: 0, runEnd: 0, runs: [], executables: new ExecutableAnswers() };
}

/** Event id → bit set of the workers with one of `entries` selecting it, and the bit set of those selecting every event. */
function routes(entries: readonly Entry[]): [byId: Uint32Array<ArrayBuffer>, any: number] {
  let max = -1;
  let any = 0;
  const pairs: Array<[number, number]> = [];
  for (const e of entries) {
    for (const s of e.compiled.metadata.selectedEvents) {
      if (s.name === '*') { any |= 1 << e.slot; continue; }
      const id = eventByName(s.name)!.id;
      if (id >= MAX_ROUTED_ID) { any |= 1 << e.slot; continue; }
      pairs.push([id, e.slot]);
      max = Math.max(max, id);
    }
  }
  const table = new Uint32Array(max + 1);
  for (const [id, slot] of pairs) table[id] |= 1 << slot;
  return [table, any];
}

/** Index in `runs` (triples: sub-batch offset, member, original offset) of the run holding sub-batch offset `sub`. */
function findRun(runs: number[], sub: number): number {
  let lo = 0;
  let hi = runs.length / 3 - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (runs[mid * 3] <= sub) lo = mid;
    else hi = mid - 1;
  }
  return lo * 3;
}

function positive(name: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`sandbox ${name} must be a positive number, got ${n}`);
  return n;
}
