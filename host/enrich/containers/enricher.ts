/**
 * The container enrichment stage, between capture and engine: for every
 * record of a flat batch it finds the container of the record's cgroup and
 * sets `containerRef` (an index into the ContainerTable) and the
 * containerStarted flag in place (docs/abi/flat-encoding.md).
 *
 * cgroup id → path comes from a start-up walk of the cgroup v2 filesystem
 * (the id is the directory's inode), from cgroup_mkdir/cgroup_rmdir records,
 * and, for an id seen first in an event, from /proc/<pid>/cgroup checked
 * against the inode. The path's shape names the container (cgroup-path.ts);
 * a plain containerd path is a container only once containerd confirms it.
 *
 * Runtime look-ups are asynchronous and cached: one per container (at its
 * cgroup's creation or its first event), concurrent requests for an id share
 * one look-up, results live in the ContainerTable, and a container's cache
 * entry is evicted a grace period after its last cgroup is removed. A batch
 * whose containers are still being looked up is held at most `maxWaitMs`
 * from its arrival; then its events go out with the container id only, and
 * `stats.unresolved` counts them. A runtime that fails (down, hung, garbage)
 * is counted in `stats.errors`, skipped for `retryMs`, and logged once per
 * outage.
 *
 * Concurrency: single-threaded (the JS thread that receives batches). The
 * ContainerTable entry of a container is written when its look-up finishes;
 * entries are never removed, since records already handed on hold their refs.
 */
import { channel } from 'node:diagnostics_channel';
import { statSync } from 'node:fs';
import { endianness } from 'node:os';
import { readBatchHeader, viewOf } from '../../events/batch-reader.ts';
import { eventByName } from '../../events/catalogue.ts';
import { ContainerTable, type ContainerInfo } from '../../events/containers.ts';
import { ARG_ENTRY_SIZE, CONTEXT_SIZE, CTX, FLAG_CONTAINER_STARTED } from '../../events/layout.ts';
import { EventFormatError, TraceeError } from '../../errors.ts';
import { parseCgroupPath, plainContainerdCandidate, type RuntimeKind } from './cgroup-path.ts';
import { cgroupPathOfProcess, findCgroup2Mount, namespaceInode, walkCgroups } from './cgroupfs.ts';
import type { ContainerMetadata, RuntimeClient } from './runtime.ts';
import { connectRuntimes, type RuntimeSocket } from './sockets.ts';

/**
 * Diagnostics: `tracee:containers:lookup` gets {id, runtime, ms, ok} for each
 * runtime answer or failure, `tracee:containers:evict` gets {id}.
 */
const lookupChannel = channel('tracee:containers:lookup');
const evictChannel = channel('tracee:containers:evict');

export const CGROUP_MKDIR = eventByName('cgroup_mkdir')!.id;
export const CGROUP_RMDIR = eventByName('cgroup_rmdir')!.id;

export interface ContainerEnricherOptions {
  /** The table records' containerRef indexes; a new one when absent. */
  table?: ContainerTable;
  /** Explicit runtime sockets; when given, default paths are not probed (as Tracee's --cri). */
  sockets?: readonly RuntimeSocket[];
  /** Ready-made runtime clients (tests, benchmarks); replace socket discovery entirely. */
  clients?: readonly RuntimeClient[];
  /** cgroup2 mount point; found in /proc/self/mountinfo when absent. */
  cgroupfsPath?: string;
  /** Longest time a batch is held waiting for look-ups, from its arrival. Default 100 ms; 0 never holds. */
  maxWaitMs?: number;
  /** Per runtime request. Default 2000 ms. */
  requestTimeoutMs?: number;
  /** After a runtime failure: skip that runtime, and retry a failed look-up, after this long. Default 5000 ms. */
  retryMs?: number;
  /** Look-ups of one container before giving up on it when no runtime knows it. Default 3. */
  maxAttempts?: number;
  /** Cache entries outlive their cgroup's removal by this long (late records). Default 1000 ms. */
  evictGraceMs?: number;
  /** Look-ups in flight at once. Default 16. */
  concurrency?: number;
  /** Where log lines go (socket discovery, runtime outages). Default: stderr. */
  log?: (line: string) => void;
  /** /proc, for tests. */
  procRoot?: string;
  /** The host's mount namespace inode; read from /proc/1/ns/mnt when absent. */
  hostMountNamespace?: number;
}

export interface ContainerEnricherStats {
  /** Records that got a containerRef. */
  containerEvents: number;
  /** ...of which went out with the runtime's metadata. */
  resolved: number;
  /** ...of which went out with the container id only (look-up pending past the bound, failed, or no runtime knows it). */
  unresolved: number;
  /** Runtime requests that failed: unavailable, timed out, or answered garbage. */
  errors: number;
  /** Runtime look-ups started. */
  lookups: number;
  /** Look-up requests that joined one already in flight. */
  coalesced: number;
  /** Container cache entries dropped after their cgroups went away. */
  evicted: number;
  /** Batches held for look-ups. */
  heldBatches: number;
  /** Batches that could not be read (passed on unchanged). */
  badBatches: number;
}

/** Where the container of a cgroup stands. */
const HOST = 0;
const CONTAINER = 1;
/** A plain containerd path waiting for containerd to confirm it. */
const CANDIDATE = 2;
/** Id seen in an event but its path could not be found (yet). */
const UNKNOWN = 3;

/** Look-up status of a container (numbers: compared on every record). */
const NEW = 0;
const PENDING = 1;
const RESOLVED = 2;
/** No runtime knows it (yet). */
const NOT_KNOWN = 3;
/** The runtimes asked failed. */
const FAILED = 4;

interface Container {
  id: string;
  ref: number;
  runtime: RuntimeKind | undefined;
  /** containerd namespace hint (plain containerd paths). */
  namespace: string | undefined;
  podUidHint: string | undefined;
  /** A path shape names it, or a runtime confirmed it. */
  confirmed: boolean;
  status: number;
  attempts: number;
  retryAt: number;
  promise: Promise<void> | undefined;
  cgroups: Set<Cgroup>;
  ctimeNs: bigint;
  /** Per-batch event count (valid while stamp === the enricher's batch sequence). */
  stamp: number;
  count: number;
}

interface Cgroup {
  kind: number;
  path: string | null;
  container: Container | null;
  started: boolean;
  removedAt: number;
  retryAt: number;
}

interface Health {
  downUntil: number;
  logged: boolean;
}

interface ScanState {
  seq: number;
  now: number;
  touched: Container[];
  deferred: number[] | null;
  waits: Set<Promise<void>> | null;
}

const EMPTY: Container[] = [];
const CTX_EVENT_ID = CTX.eventId;
const SCHED_PROCESS_EXEC = eventByName('sched_process_exec')!.id;
const CTX_CGROUP_ID = CTX.cgroupId;
const CTX_HOST_PID = CTX.hostProcessId;
const CTX_MNT_NS = CTX.mountNamespace;
const CTX_FLAGS = CTX.flags;
const CTX_CONTAINER_REF = CTX.containerRef;
/** The same offsets in 32-bit words (every one is 4-aligned). */
const W_EVENT_ID = CTX_EVENT_ID >>> 2;
const W_CGROUP_ID = CTX_CGROUP_ID >>> 2;
const W_HOST_PID = CTX_HOST_PID >>> 2;
const W_FLAGS = CTX_FLAGS >>> 2;
const W_CONTAINER_REF = CTX_CONTAINER_REF >>> 2;
const LITTLE_ENDIAN = endianness() === 'LE';

const SLOTS = 1024;

/**
 * cgroup id → Cgroup: a Map with a direct-mapped cache in front (the
 * per-record look-up is two array loads when the cgroup was seen lately).
 */
class CgroupIndex {
  private readonly map = new Map<number, Cgroup>();
  private readonly keys = new Float64Array(SLOTS).fill(-1);
  private readonly vals: Array<Cgroup | undefined> = new Array<Cgroup | undefined>(SLOTS).fill(undefined);

  get(key: number): Cgroup | undefined {
    const slot = key & (SLOTS - 1);
    if (this.keys[slot] === key) return this.vals[slot];
    const cg = this.map.get(key);
    if (cg !== undefined) {
      this.keys[slot] = key;
      this.vals[slot] = cg;
    }
    return cg;
  }

  has(key: number): boolean {
    return this.map.has(key);
  }

  set(key: number, cg: Cgroup): void {
    this.map.set(key, cg);
    const slot = key & (SLOTS - 1);
    this.keys[slot] = key;
    this.vals[slot] = cg;
  }

  delete(key: number): void {
    this.map.delete(key);
    const slot = key & (SLOTS - 1);
    if (this.keys[slot] === key) {
      this.keys[slot] = -1;
      this.vals[slot] = undefined;
    }
  }
}

const HOST_CGROUP: Cgroup = Object.freeze({ kind: HOST, path: null, container: null, started: false, removedAt: 0, retryAt: 0 }) as Cgroup;

export class ContainerEnricher {
  readonly containerTable: ContainerTable;
  readonly stats: ContainerEnricherStats = {
    containerEvents: 0, resolved: 0, unresolved: 0, errors: 0, lookups: 0, coalesced: 0, evicted: 0, heldBatches: 0, badBatches: 0,
  };
  /** Kernel events the stage reads for cgroup tracking: capture them too when the kernel side has them. */
  static readonly eventIds: readonly number[] = [CGROUP_MKDIR, CGROUP_RMDIR];

  readonly #opts: Required<Pick<ContainerEnricherOptions, 'maxWaitMs' | 'requestTimeoutMs' | 'retryMs' | 'maxAttempts' | 'evictGraceMs' | 'concurrency' | 'procRoot'>>;
  readonly #log: (line: string) => void;
  readonly #cgroups = new CgroupIndex();
  readonly #containers = new Map<string, Container>();
  readonly #clients: RuntimeClient[];
  readonly #health = new Map<RuntimeClient, Health>();
  /** Clients that list containerd namespaces. */
  readonly #containerd: RuntimeClient[];
  /** containerd namespaces, for plain containerd paths. */
  #namespaces = new Set<string>();
  #namespacesAt = 0;
  #namespacesLoading: Promise<void> | undefined;
  /** Live two-level host cgroups, re-checked when containerd's namespace list changes. */
  readonly #twoLevel = new Map<number, string>();
  #mount: string | undefined;
  #hostMnt: number;
  #ownMnt: number;
  #batchSeq = 0;
  #removals: Array<{ key: number; cg: Cgroup }> = [];
  #rescan: Promise<void> | undefined;
  #rescanAt = 0;
  #inflight = 0;
  #queue: Array<() => void> = [];
  #tail: Promise<void> | null = null;
  #closed = false;
  readonly #scanState: ScanState = { seq: 0, now: 0, touched: EMPTY, deferred: null, waits: null };

  constructor(options: ContainerEnricherOptions = {}) {
    this.containerTable = options.table ?? new ContainerTable();
    this.#log = options.log ?? ((line) => process.stderr.write(`tracee: ${line}\n`));
    this.#opts = {
      maxWaitMs: options.maxWaitMs ?? 100,
      requestTimeoutMs: options.requestTimeoutMs ?? 2000,
      retryMs: options.retryMs ?? 5000,
      maxAttempts: options.maxAttempts ?? 3,
      evictGraceMs: options.evictGraceMs ?? 1000,
      concurrency: options.concurrency ?? 16,
      procRoot: options.procRoot ?? '/proc',
    };
    this.#clients = options.clients
      ? [...options.clients]
      : connectRuntimes(options.sockets ?? [], this.#log, { timeoutMs: this.#opts.requestTimeoutMs });
    for (const c of this.#clients) this.#health.set(c, { downUntil: 0, logged: false });
    this.#containerd = this.#clients.filter((c) => typeof c.namespaces === 'function');
    this.#mount = options.cgroupfsPath ?? findCgroup2Mount();
    this.#hostMnt = options.hostMountNamespace ?? namespaceInode(`${this.#opts.procRoot}/1/ns/mnt`);
    this.#ownMnt = options.hostMountNamespace ?? namespaceInode(`${this.#opts.procRoot}/self/ns/mnt`);
  }

  /** The runtimes in use, as "runtime socket". */
  get runtimes(): string[] {
    return this.#clients.map((c) => `${c.runtime} ${c.socket}`);
  }

  /**
   * Walks the cgroup filesystem (containers that already run are marked
   * started and looked up in the background) and asks containerd for its
   * namespaces without waiting for the answer. Never throws for a runtime
   * problem; a missing cgroup v2 mount is logged once.
   */
  async start(): Promise<void> {
    if (this.#mount === undefined) {
      this.#log('containers: no cgroup v2 filesystem mounted (events carry cgroup v2 ids): no event will be matched to a container');
      return;
    }
    void this.#refreshNamespaces();
    const found = await walkCgroups(this.#mount);
    for (const [key, path] of found) {
      if (!this.#cgroups.has(key)) this.#classify(key, path, true);
    }
  }

  /**
   * Enriches one batch in place. Returns undefined when every record is
   * final; otherwise a promise that settles when the look-ups the batch waits
   * for are done or `maxWaitMs` after `arrivedAt` (performance.now() time),
   * whichever comes first, with the remaining records finished then. Throws
   * EventFormatError for a batch that cannot be read (records before the bad
   * one may already carry their containerRef).
   */
  enrichBatch(batch: Uint8Array, arrivedAt: number = performance.now()): Promise<void> | undefined {
    const header = readBatchHeader(batch);
    const scan = this.#scanState;
    scan.seq = ++this.#batchSeq;
    scan.now = Date.now();
    scan.touched = [];
    scan.deferred = null;
    scan.waits = null;
    if (this.#removals.length > 0) this.#sweep(scan.now);
    if (LITTLE_ENDIAN && (batch.byteOffset & 3) === 0) this.#scan32(batch, header.headerSize, header.count, header.byteLength, header.clockOffsetNs, scan);
    else this.#scan(batch, header.headerSize, header.count, header.byteLength, header.clockOffsetNs, scan);
    const { touched, deferred, waits } = scan;
    scan.touched = EMPTY;
    const counts = touched.map((c) => c.count);
    if (!waits) {
      this.#account(touched, counts);
      return undefined;
    }
    return this.#hold(batch, touched, counts, deferred, waits, arrivedAt);
  }

  /**
   * The per-record loop, kept small so it optimizes well: a record of a
   * known cgroup costs a few loads and stores; everything rare (cgroup
   * events, first sight of a cgroup or of a container in the batch, pending
   * confirmations) goes to out-of-line methods.
   */
  #scan(batch: Uint8Array, first: number, count: number, byteLength: number, clockOffsetNs: bigint, scan: ScanState): void {
    const v = viewOf(batch);
    const seq = scan.seq;
    let lastKey = -1;
    let lastCg = HOST_CGROUP;
    let at = first;
    let resolved = 0;
    for (let i = 0; i < count; i++) {
      const size = at + CONTEXT_SIZE <= byteLength ? v.getUint32(at, true) : 0;
      if (size < CONTEXT_SIZE || (size & 7) !== 0 || at + size > byteLength) {
        throw new EventFormatError(`record ${i} at offset ${at}: bad size ${size}`);
      }
      const eventId = v.getUint32(at + CTX_EVENT_ID, true);
      if (eventId === CGROUP_MKDIR || eventId === CGROUP_RMDIR) {
        this.#cgroupEvent(batch, v, at, size, eventId, clockOffsetNs, scan.now);
        lastKey = -1;
      }
      const lo = v.getUint32(at + CTX_CGROUP_ID, true);
      const hi = v.getUint32(at + CTX_CGROUP_ID + 4, true);
      const key = hi === 0 ? lo : lo + hi * 0x1_0000_0000;
      if (key !== lastKey) {
        lastCg = this.#cgroups.get(key) ?? this.#resolve(key, v.getUint32(at + CTX_HOST_PID, true));
        lastKey = key;
      }
      const cg = lastCg;
      if (cg.kind === CONTAINER) {
        const c = cg.container!;
        v.setUint32(at + CTX_CONTAINER_REF, c.ref, true);
        if (cg.started || this.#startedBy(v, at, cg)) v.setUint32(at + CTX_FLAGS, v.getUint32(at + CTX_FLAGS, true) | FLAG_CONTAINER_STARTED, true);
        if (c.status === RESOLVED) resolved++;
        else {
          if (c.stamp !== seq) this.#firstInBatch(c, scan);
          c.count++;
        }
      } else if (cg.kind !== HOST) {
        this.#pendingRecord(v, at, key, cg, scan);
        lastKey = -1; // its state may change on the next record
      }
      at += size;
    }
    // Resolved before the batch: final now (a resolved entry never goes back).
    this.stats.containerEvents += resolved;
    this.stats.resolved += resolved;
  }

  /** #scan over a Uint32Array view (little-endian host, 4-aligned batch): the same steps, fewer checks per load. */
  #scan32(batch: Uint8Array, first: number, count: number, byteLength: number, clockOffsetNs: bigint, scan: ScanState): void {
    const u = new Uint32Array(batch.buffer, batch.byteOffset, byteLength >>> 2);
    const v = viewOf(batch);
    const seq = scan.seq;
    let lastKey = -1;
    let lastCg = HOST_CGROUP;
    /** containerRef of lastCg when it is a started, resolved container (0: decide per record). */
    let fastRef = 0;
    let at = first;
    let resolved = 0;
    for (let i = 0; i < count; i++) {
      const w = at >>> 2;
      const size = at + CONTEXT_SIZE <= byteLength ? u[w] : 0;
      if (size < CONTEXT_SIZE || (size & 7) !== 0 || at + size > byteLength) {
        throw new EventFormatError(`record ${i} at offset ${at}: bad size ${size}`);
      }
      const eventId = u[w + W_EVENT_ID];
      if (eventId === CGROUP_MKDIR || eventId === CGROUP_RMDIR) {
        this.#cgroupEvent(batch, v, at, size, eventId, clockOffsetNs, scan.now);
        lastKey = -1;
      }
      const hi = u[w + W_CGROUP_ID + 1];
      const key = hi === 0 ? u[w + W_CGROUP_ID] : u[w + W_CGROUP_ID] + hi * 0x1_0000_0000;
      if (key === lastKey && fastRef !== 0) {
        // Same started, resolved container as the record before: nothing to decide.
        u[w + W_CONTAINER_REF] = fastRef;
        u[w + W_FLAGS] |= FLAG_CONTAINER_STARTED;
        resolved++;
        at += size;
        continue;
      }
      if (key !== lastKey) {
        lastCg = this.#cgroups.get(key) ?? this.#resolve(key, u[w + W_HOST_PID]);
        lastKey = key;
      }
      const cg = lastCg;
      fastRef = 0;
      if (cg.kind === CONTAINER) {
        const c = cg.container!;
        u[w + W_CONTAINER_REF] = c.ref;
        if (cg.started || this.#startedBy(v, at, cg)) u[w + W_FLAGS] |= FLAG_CONTAINER_STARTED;
        if (c.status === RESOLVED) {
          resolved++;
          if (cg.started) fastRef = c.ref;
        } else {
          if (c.stamp !== seq) this.#firstInBatch(c, scan);
          c.count++;
        }
      } else if (cg.kind !== HOST) {
        this.#pendingRecord(v, at, key, cg, scan);
        lastKey = -1;
      }
      at += size;
    }
    this.stats.containerEvents += resolved;
    this.stats.resolved += resolved;
  }

  /**
   * A container record in a cgroup not known to be started: started at the
   * first exec outside the host's mount namespaces (the runtime exec'ing the
   * container's entrypoint), as in Tracee — so the runtime's own set-up in the
   * container's cgroup (runc re-exec'ing itself, its mounts) is not "in a
   * started container". The host's namespaces are PID 1's and tracee's own
   * (they differ when tracee or PID 1 runs in a namespace of its own).
   */
  #startedBy(v: DataView, at: number, cg: Cgroup): boolean {
    if (v.getUint32(at + CTX_EVENT_ID, true) !== SCHED_PROCESS_EXEC) return false;
    const mnt = v.getUint32(at + CTX_MNT_NS, true);
    if (mnt === this.#hostMnt || mnt === this.#ownMnt) return false;
    cg.started = true;
    return true;
  }

  /** First record of container `c` in this batch: start or join its look-up. */
  #firstInBatch(c: Container, scan: ScanState): void {
    c.stamp = scan.seq;
    c.count = 0;
    scan.touched.push(c);
    if (c.status === PENDING) this.stats.coalesced++;
    else if (c.status !== RESOLVED) this.#maybeLookup(c, scan.now);
    if (c.status === PENDING && this.#opts.maxWaitMs > 0) (scan.waits ??= new Set()).add(c.promise!);
  }

  /** CANDIDATE or UNKNOWN cgroup: finish the record after the wait if something can still change it. */
  #pendingRecord(v: DataView, at: number, key: number, cg: Cgroup, scan: ScanState): void {
    const p = cg.kind === CANDIDATE ? this.#candidateWait(cg, scan.now) : this.#unknownWait(key, cg, v.getUint32(at + CTX_HOST_PID, true), scan.now);
    if (p && this.#opts.maxWaitMs > 0) {
      (scan.deferred ??= []).push(at);
      (scan.waits ??= new Set()).add(p);
    }
  }

  /**
   * The stage as the CLI composes it: `capture.start(enricher.stage((b) =>
   * output.print(engine.process(b))))`. Batches reach `next` in arrival
   * order; one that needs no look-up goes through synchronously when nothing
   * is held before it. An unreadable batch is passed on unchanged (the engine
   * counts it) and counted in stats.badBatches.
   */
  stage(next: (batch: Uint8Array) => void, onError: (err: unknown) => void = (e) => this.#log(`containers: ${(e as Error).message}`)): (batch: Uint8Array) => void {
    return (batch) => {
      const arrived = performance.now();
      let held: Promise<void> | undefined;
      try {
        held = this.enrichBatch(batch, arrived);
      } catch (err) {
        this.stats.badBatches++;
        if (!(err instanceof EventFormatError)) onError(err);
      }
      if (!held && !this.#tail) {
        next(batch);
        return;
      }
      const prev = this.#tail;
      const p: Promise<void> = (async () => {
        try {
          if (held) await held;
        } catch (err) {
          onError(err); // the batch still goes on, with what it has
        }
        if (prev) await prev;
        try {
          next(batch);
        } catch (err) {
          onError(err);
        }
      })();
      this.#tail = p;
      void p.finally(() => { if (this.#tail === p) this.#tail = null; });
    };
  }

  /** Resolves when every batch handed to a stage() function has reached its `next`. */
  async flush(): Promise<void> {
    while (this.#tail) await this.#tail;
  }

  /** What the cache knows about a live container (for the containers data source). */
  describe(id: string): { info: ContainerInfo; ctimeNs: bigint } | undefined {
    const c = this.#containers.get(id);
    if (!c || !c.confirmed || c.ref === 0) return undefined;
    const info = this.containerTable.get(c.ref);
    return info ? { info, ctimeNs: c.ctimeNs } : undefined;
  }

  /** Ids of the live containers the cache knows. */
  containerIds(): string[] {
    return [...this.#containers.values()].filter((c) => c.confirmed).map((c) => c.id);
  }

  /** Waits for look-ups in flight, then closes the runtime clients. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    await Promise.allSettled([...this.#containers.values()].map((c) => c.promise));
    await Promise.allSettled(this.#clients.map((c) => c.close()));
  }

  // ---- records ----

  #mark(v: DataView, at: number, cg: Cgroup, c: Container): void {
    v.setUint32(at + CTX_CONTAINER_REF, c.ref, true);
    if (cg.started || this.#startedBy(v, at, cg)) v.setUint32(at + CTX_FLAGS, v.getUint32(at + CTX_FLAGS, true) | FLAG_CONTAINER_STARTED, true);
  }

  #account(touched: Container[], counts: number[]): void {
    for (let i = 0; i < touched.length; i++) {
      const n = counts[i];
      this.stats.containerEvents += n;
      if (touched[i].status === RESOLVED) this.stats.resolved += n;
      else this.stats.unresolved += n;
    }
  }

  async #hold(batch: Uint8Array, touched: Container[], counts: number[], deferred: number[] | null, waits: Set<Promise<void>>, arrivedAt: number): Promise<void> {
    const remaining = this.#opts.maxWaitMs - (performance.now() - arrivedAt);
    if (remaining > 0) {
      this.stats.heldBatches++;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(waits),
        new Promise<void>((r) => { timer = setTimeout(r, remaining); }),
      ]);
      clearTimeout(timer);
    }
    if (deferred) {
      const v = viewOf(batch);
      for (const at of deferred) {
        const key = v.getUint32(at + CTX.cgroupId, true) + v.getUint32(at + CTX.cgroupId + 4, true) * 0x1_0000_0000;
        const cg = this.#cgroups.get(key);
        if (!cg || cg.kind !== CONTAINER) continue;
        const c = cg.container!;
        this.#mark(v, at, cg, c);
        const i = touched.indexOf(c);
        if (i >= 0) counts[i]++;
        else { touched.push(c); counts.push(1); }
      }
    }
    this.#account(touched, counts);
  }

  // ---- cgroups ----

  /** First sight of a cgroup id in an event: its path from the process, checked against the inode. */
  #resolve(key: number, pid: number): Cgroup {
    if (this.#mount === undefined) return this.#setHost(key, null);
    const path = cgroupPathOfProcess(this.#mount, pid, key, this.#opts.procRoot);
    if (path === undefined) {
      const cg: Cgroup = { kind: UNKNOWN, path: null, container: null, started: false, removedAt: 0, retryAt: 0 };
      this.#cgroups.set(key, cg);
      return cg;
    }
    return this.#classify(key, path, false);
  }

  #setHost(key: number, path: string | null): Cgroup {
    const cg: Cgroup = { kind: HOST, path, container: null, started: false, removedAt: 0, retryAt: 0 };
    this.#cgroups.set(key, cg);
    return cg;
  }

  /** Registers cgroup `key` at `path`; `existing` for cgroups found at start-up (their containers count as started). */
  #classify(key: number, path: string, existing: boolean, ctimeNs?: bigint): Cgroup {
    const old = this.#cgroups.get(key);
    if (old && old.kind !== UNKNOWN && old.path === path) return old;
    if (old) this.#detach(key, old);
    const parsed = parseCgroupPath(path);
    if (parsed) {
      const c = this.#container(parsed.id, parsed.runtime, undefined, true, ctimeNs ?? this.#ctime(path));
      if (parsed.podUid) c.podUidHint = parsed.podUid;
      const cg: Cgroup = { kind: CONTAINER, path, container: c, started: existing, removedAt: 0, retryAt: 0 };
      c.cgroups.add(cg);
      this.#cgroups.set(key, cg);
      this.#maybeLookup(c, Date.now());
      return cg;
    }
    if (this.#containerd.length > 0) {
      const cand = plainContainerdCandidate(path, this.#namespaces);
      if (cand) {
        const c = this.#container(cand.id, 'containerd', cand.namespace, false, ctimeNs ?? this.#ctime(path));
        const cg: Cgroup = { kind: c.confirmed ? CONTAINER : CANDIDATE, path, container: c, started: existing, removedAt: 0, retryAt: 0 };
        c.cgroups.add(cg);
        this.#cgroups.set(key, cg);
        this.#maybeLookup(c, Date.now());
        return cg;
      }
      if (path.split('/').filter((p) => p !== '').length === 2) {
        this.#twoLevel.set(key, path);
        if (Date.now() - this.#namespacesAt > 2000) void this.#refreshNamespaces();
      }
    }
    return this.#setHost(key, path);
  }

  #container(id: string, runtime: RuntimeKind | undefined, namespace: string | undefined, confirmed: boolean, ctimeNs: bigint): Container {
    let c = this.#containers.get(id);
    if (!c) {
      c = {
        id, ref: 0, runtime, namespace, podUidHint: undefined, confirmed: false, status: NEW, attempts: 0, retryAt: 0,
        promise: undefined, cgroups: new Set(), ctimeNs, stamp: 0, count: 0,
      };
      this.#containers.set(id, c);
    }
    if (confirmed && !c.confirmed) {
      c.confirmed = true;
      c.ref = this.containerTable.refFor(id);
    }
    return c;
  }

  #ctime(path: string): bigint {
    try {
      return statCtimeNs(`${this.#mount}${path === '/' ? '' : path}`);
    } catch {
      return BigInt(Date.now()) * 1_000_000n;
    }
  }

  /** cgroup_mkdir / cgroup_rmdir: args cgroup_id u64, cgroup_path string, hierarchy_id u32. */
  #cgroupEvent(batch: Uint8Array, v: DataView, at: number, size: number, eventId: number, clockOffsetNs: bigint, now: number): void {
    const arg = (i: number): [number, number] | null => {
      if (i >= v.getUint16(at + CTX.argsNum, true)) return null;
      const e = at + CONTEXT_SIZE + i * ARG_ENTRY_SIZE;
      const off = v.getUint32(e, true);
      const len = v.getUint32(e + 4, true);
      return off === 0 || off + len > size ? null : [at + off, len];
    };
    const idArg = arg(0);
    const pathArg = arg(1);
    const hierArg = arg(2);
    if (!idArg || idArg[1] < 8 || !pathArg) return;
    // Only the cgroup v2 hierarchy (id 0) has the ids events carry.
    if (hierArg && hierArg[1] >= 4 && v.getUint32(hierArg[0], true) !== 0) return;
    const key = v.getUint32(idArg[0], true) + v.getUint32(idArg[0] + 4, true) * 0x1_0000_0000;
    let path = Buffer.from(batch.buffer, batch.byteOffset + pathArg[0], pathArg[1]).toString('utf8');
    if (this.#mount && path.startsWith(this.#mount + '/')) path = path.slice(this.#mount.length);
    if (!path.startsWith('/')) path = '/' + path;
    if (eventId === CGROUP_MKDIR) {
      const ts = v.getBigUint64(at + CTX.timestamp, true) + clockOffsetNs;
      this.#classify(key, path, false, ts);
    } else {
      const cg = this.#cgroups.get(key);
      if (cg && cg.removedAt === 0) {
        cg.removedAt = now;
        this.#removals.push({ key, cg });
      }
    }
  }

  /** Drops cgroups removed more than the grace period ago, and containers left without a cgroup. */
  #sweep(now: number): void {
    const due = now - this.#opts.evictGraceMs;
    let i = 0;
    for (; i < this.#removals.length && this.#removals[i].cg.removedAt <= due; i++) {
      const { key, cg } = this.#removals[i];
      if (this.#cgroups.get(key) === cg) {
        this.#cgroups.delete(key);
        this.#detach(key, cg);
      }
    }
    if (i > 0) this.#removals = this.#removals.slice(i);
  }

  #detach(key: number, cg: Cgroup): void {
    this.#twoLevel.delete(key);
    const c = cg.container;
    if (!c) return;
    c.cgroups.delete(cg);
    if (c.cgroups.size === 0 && this.#containers.get(c.id) === c) {
      this.#containers.delete(c.id);
      this.stats.evicted++;
      if (evictChannel.hasSubscribers) evictChannel.publish({ id: c.id });
    }
  }

  /** A record of a plain containerd candidate: the look-up that decides it, if one can still run. */
  #candidateWait(cg: Cgroup, now: number): Promise<void> | undefined {
    const c = cg.container!;
    if (c.status !== PENDING) this.#maybeLookup(c, now);
    return c.status === PENDING ? c.promise : undefined;
  }

  /** A record whose cgroup path is unknown: re-read /proc, then re-walk the cgroup fs (at most once a second). */
  #unknownWait(key: number, cg: Cgroup, pid: number, now: number): Promise<void> | undefined {
    if (cg.retryAt > now || this.#mount === undefined) return undefined;
    const path = cgroupPathOfProcess(this.#mount, pid, key, this.#opts.procRoot);
    if (path !== undefined) {
      this.#classify(key, path, false);
      return undefined;
    }
    cg.retryAt = now + 1000;
    if (!this.#rescan && now - this.#rescanAt >= 1000) {
      this.#rescanAt = now;
      const mount = this.#mount;
      this.#rescan = walkCgroups(mount).then((found) => {
        for (const [k, p] of found) {
          const old = this.#cgroups.get(k);
          if (!old || old.kind === UNKNOWN) this.#classify(k, p, false);
        }
      }, () => {}).finally(() => { this.#rescan = undefined; });
    }
    return this.#rescan;
  }

  // ---- containerd namespaces ----

  #refreshNamespaces(): Promise<void> {
    if (this.#containerd.length === 0) return Promise.resolve();
    this.#namespacesLoading ??= (async () => {
      this.#namespacesAt = Date.now();
      const names = new Set<string>();
      for (const client of this.#containerd) {
        if (this.#health.get(client)!.downUntil > Date.now()) continue;
        try {
          for (const ns of await client.namespaces!(true)) names.add(ns);
          this.#healthy(client);
        } catch (err) {
          this.#failed(client, err);
        }
      }
      if (names.size === 0) return;
      this.#namespaces = names;
      for (const [key, path] of this.#twoLevel) {
        if (plainContainerdCandidate(path, names)) {
          this.#twoLevel.delete(key);
          this.#cgroups.delete(key);
          this.#classify(key, path, false);
        }
      }
    })().finally(() => { this.#namespacesLoading = undefined; });
    return this.#namespacesLoading;
  }

  // ---- runtime look-ups ----

  #maybeLookup(c: Container, now: number): void {
    if (this.#closed || c.status === PENDING || c.status === RESOLVED) return;
    if (c.status !== NEW && (c.retryAt > now || c.attempts >= this.#opts.maxAttempts)) return;
    this.#lookup(c);
  }

  #lookup(c: Container): Promise<void> {
    if (c.promise) {
      this.stats.coalesced++;
      return c.promise;
    }
    c.status = PENDING;
    c.attempts++;
    this.stats.lookups++;
    c.promise = this.#limited(() => this.#runLookup(c)).finally(() => { c.promise = undefined; });
    return c.promise;
  }

  /** Same id asked again while its look-up runs: joins it (used by tests and the data source). */
  lookup(id: string): Promise<void> | undefined {
    const c = this.#containers.get(id);
    if (!c) return undefined;
    if (c.promise) { this.stats.coalesced++; return c.promise; }
    this.#maybeLookup(c, Date.now());
    return c.promise;
  }

  async #limited(fn: () => Promise<void>): Promise<void> {
    if (this.#inflight >= this.#opts.concurrency) await new Promise<void>((r) => this.#queue.push(r));
    this.#inflight++;
    try {
      await fn();
    } finally {
      this.#inflight--;
      this.#queue.shift()?.();
    }
  }

  #clientsFor(c: Container): RuntimeClient[] {
    const order: RuntimeKind[] =
      !c.confirmed ? ['containerd']
        : c.runtime === 'podman' ? ['podman', 'docker']
          : c.runtime === 'docker' ? ['docker', 'podman', 'containerd']
            : c.runtime === 'containerd' ? ['containerd']
              : c.runtime === 'crio' ? ['crio']
                : ['containerd', 'crio', 'docker', 'podman'];
    const out: RuntimeClient[] = [];
    for (const r of order) for (const client of this.#clients) if (client.runtime === r) out.push(client);
    return out;
  }

  async #runLookup(c: Container): Promise<void> {
    let failed = false;
    for (const client of this.#clientsFor(c)) {
      const health = this.#health.get(client)!;
      if (health.downUntil > Date.now()) { failed = true; continue; }
      let meta: ContainerMetadata | null;
      const t0 = performance.now();
      try {
        meta = await client.inspect(c.id, c.namespace ? { namespace: c.namespace } : {});
      } catch (err) {
        if (lookupChannel.hasSubscribers) lookupChannel.publish({ id: c.id, runtime: client.runtime, ms: performance.now() - t0, ok: false, error: err });
        this.#failed(client, err);
        failed = true;
        continue;
      }
      if (lookupChannel.hasSubscribers) lookupChannel.publish({ id: c.id, runtime: client.runtime, ms: performance.now() - t0, ok: meta !== null });
      this.#healthy(client);
      if (meta) {
        this.#apply(c, meta);
        return;
      }
    }
    if (!c.confirmed && !failed) {
      // containerd does not know it: a host cgroup that merely looks like /<namespace>/<name>.
      for (const cg of c.cgroups) { cg.kind = HOST; cg.container = null; }
      c.cgroups.clear();
      this.#containers.delete(c.id);
      c.status = NOT_KNOWN;
      return;
    }
    c.status = failed ? FAILED : NOT_KNOWN;
    c.retryAt = Date.now() + this.#opts.retryMs;
  }

  #apply(c: Container, meta: ContainerMetadata): void {
    if (!c.confirmed) {
      c.confirmed = true;
      c.ref = this.containerTable.refFor(c.id);
      for (const cg of c.cgroups) cg.kind = CONTAINER;
    }
    const { id: _id, ...info } = meta;
    if (info.podUID === '' && c.podUidHint && info.podName !== '') info.podUID = c.podUidHint;
    this.containerTable.update(c.id, info);
    c.status = RESOLVED;
  }

  #failed(client: RuntimeClient, err: unknown): void {
    this.stats.errors++;
    const health = this.#health.get(client)!;
    health.downUntil = Date.now() + this.#opts.retryMs;
    if (!health.logged) {
      health.logged = true;
      const msg = err instanceof TraceeError ? err.message : `containers: ${client.runtime} at ${client.socket}: ${(err as Error).message}`;
      this.#log(`${msg} (enrichment from ${client.runtime} paused ${this.#opts.retryMs} ms at a time until it answers)`);
    }
  }

  #healthy(client: RuntimeClient): void {
    const health = this.#health.get(client)!;
    health.downUntil = 0;
    if (health.logged) {
      health.logged = false;
      this.#log(`containers: ${client.runtime} at ${client.socket} answers again`);
    }
  }
}

function statCtimeNs(path: string): bigint {
  return statSync(path, { bigint: true }).ctimeNs;
}
