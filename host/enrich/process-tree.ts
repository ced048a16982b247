/**
 * The process tree, kept in user space from the kernel's fork, exec and exit
 * records (flat encoding) after an initial scan of /proc: per host process
 * (tgid) its parent, name, executable, start time and children. It gives
 * decoded events their `executable.path`, scope filters their `executable`,
 * `tree` and `follow` answers, and `prev_comm` a fallback.
 *
 * Times are on the record clock (CLOCK_BOOTTIME ns, before the batch's
 * clockOffsetNs is added); /proc start times (clock ticks since boot) are
 * converted to it. Exec history keeps the last few executables of a process
 * so an event is described with the executable it ran, even when the exec
 * that replaced it is in the same batch.
 *
 * Memory is bounded: exited processes are evicted once `graceNs` of record
 * time has passed since their exit (so late events still find them), and
 * at most `maxProcesses` are kept (the longest-exited, then the oldest, go
 * first). Single-threaded: call update() from the JS thread that receives
 * the batches.
 */
import { readBatchHeader, viewOf } from '../events/batch-reader.ts';
import { eventByName } from '../events/catalogue.ts';
import { ARG_ENTRY_SIZE, CONTEXT_SIZE, CTX, MAX_PROCESS_NAME } from '../events/layout.ts';
import { scanProc, type ProcEntry } from './proc-scan.ts';
import type { ProcessView } from '../policy/scope-match.ts';

export interface ExecRecord {
  /** Record time of the exec. */
  time: bigint;
  executable: string;
  /** The executable and name before the exec. */
  prevExecutable: string;
  prevComm: string;
}

export interface ProcessInfo {
  /** Host tgid. */
  pid: number;
  /** Host tgid of the parent (0: unknown). */
  ppid: number;
  comm: string;
  /** Current executable path ('' if unknown, e.g. kernel threads). */
  executable: string;
  /** Process start, record clock ns (0: unknown). */
  startTime: bigint;
  /** Exit time, record clock ns; undefined while alive. */
  exitTime?: bigint;
  exitCode?: number;
  children: Set<number>;
  /** The last execs, oldest first (at most EXEC_HISTORY). */
  execs: ExecRecord[];
}

export interface ProcessTreeOptions {
  /** How long an exited process stays, in record ns. Default 10 s. */
  graceNs?: bigint;
  /** Most processes kept. Default 65536. */
  maxProcesses?: number;
  /**
   * Look up a process missing from the tree in this procfs (its fork was
   * before the scan or lost). Default: none (replayed events come from
   * other hosts).
   */
  procRoot?: string;
}

export interface ProcessTreeStats {
  processes: number;
  forks: number;
  execs: number;
  exits: number;
  evicted: number;
  /** Processes added by a /proc lookup after a miss. */
  procLookups: number;
}

const EXEC_HISTORY = 4;
const MAX_ANCESTRY = 256;

const FORK = eventByName('sched_process_fork')!;
const EXEC = eventByName('sched_process_exec')!;
const EXIT = eventByName('sched_process_exit')!;
const argIndex = (def: typeof FORK, name: string) => def.args.findIndex((a) => a.name === name);
const FORK_CHILD_PID = argIndex(FORK, 'child_pid');
const FORK_CHILD_TID = argIndex(FORK, 'child_tid');
const FORK_START = argIndex(FORK, 'start_time');
const EXEC_PATHNAME = argIndex(EXEC, 'pathname');
const EXEC_PREV_COMM = argIndex(EXEC, 'prev_comm');
const EXIT_CODE = argIndex(EXIT, 'exit_code');
const EXIT_GROUP = argIndex(EXIT, 'process_group_exit');

/** Event ids the tree needs from the kernel. */
export const PROCESS_TREE_EVENTS: readonly number[] = [FORK.id, EXEC.id, EXIT.id];

const utf8 = new TextDecoder();

export class ProcessTree implements ProcessView {
  readonly stats: ProcessTreeStats = { processes: 0, forks: 0, execs: 0, exits: 0, evicted: 0, procLookups: 0 };
  private readonly procs = new Map<number, ProcessInfo>();
  private readonly missing = new Set<number>();
  private readonly graceNs: bigint;
  private readonly maxProcesses: number;
  private now = 0n;
  private lastSweep = 0n;

  constructor(private readonly options: ProcessTreeOptions = {}) {
    this.graceNs = options.graceNs ?? 10_000_000_000n;
    this.maxProcesses = options.maxProcesses ?? 65536;
  }

  /** Adds every process of a procfs (default /proc); returns how many. */
  scan(procRoot = '/proc'): number {
    const entries = scanProc(procRoot);
    for (const e of entries) this.addEntry(e);
    for (const e of entries) this.procs.get(e.ppid)?.children.add(e.pid);
    this.stats.processes = this.procs.size;
    return entries.length;
  }

  /** Updates the tree from the fork, exec and exit records of a batch. */
  update(batch: Uint8Array): void {
    const header = readBatchHeader(batch);
    const v = viewOf(batch);
    let at = header.headerSize;
    for (let i = 0; i < header.count; i++) {
      const size = v.getUint32(at, true);
      if (size < CONTEXT_SIZE || (size & 7) !== 0 || at + size > header.byteLength) break;
      const id = v.getUint32(at + CTX.eventId, true);
      if (id === FORK.id || id === EXEC.id || id === EXIT.id) this.apply(batch, v, at, id);
      at += size;
    }
    if (this.now - this.lastSweep > 1_000_000_000n || this.procs.size > this.maxProcesses) this.sweep();
  }

  get(pid: number): ProcessInfo | undefined {
    return this.procs.get(pid) ?? this.lookupProc(pid);
  }

  get size(): number {
    return this.procs.size;
  }

  /** The executable of `pid` at record time `timeNs` ('' known-empty, undefined unknown). */
  executableAt(pid: number, timeNs: bigint): string | undefined {
    const p = this.get(pid);
    if (!p) return undefined;
    if (p.execs.length === 0 || timeNs === 0n) return p.executable;
    for (let i = p.execs.length - 1; i >= 0; i--) if (p.execs[i].time <= timeNs) return p.execs[i].executable;
    return p.execs[0].prevExecutable;
  }

  /** The process name before the exec at (or just before) `timeNs`. */
  prevCommAt(pid: number, timeNs: bigint): string | undefined {
    const p = this.get(pid);
    if (!p) return undefined;
    for (let i = p.execs.length - 1; i >= 0; i--) if (p.execs[i].time <= timeNs) return p.execs[i].prevComm;
    return undefined;
  }

  /** Host pids of the parent, grandparent, ... of `pid`, nearest first (bounded, cycle-safe). */
  ancestors(pid: number): number[] {
    const out: number[] = [];
    let p = this.get(pid);
    while (p && p.ppid > 0 && out.length < MAX_ANCESTRY && !out.includes(p.ppid) && p.ppid !== pid) {
      out.push(p.ppid);
      p = this.procs.get(p.ppid);
    }
    return out;
  }

  descendsFrom(pid: number, ancestor: number): boolean {
    if (pid === ancestor) return true;
    let p = this.get(pid);
    for (let n = 0; p && p.ppid > 0 && n < MAX_ANCESTRY; n++) {
      if (p.ppid === ancestor) return true;
      if (p.ppid === p.pid) return false;
      p = this.procs.get(p.ppid);
    }
    return false;
  }

  private apply(batch: Uint8Array, v: DataView, at: number, id: number): void {
    const time = v.getBigUint64(at + CTX.timestamp, true);
    if (time > this.now) this.now = time;
    const pid = v.getUint32(at + CTX.hostProcessId, true);
    if (id === FORK.id) {
      const child = argI32(v, at, FORK_CHILD_PID);
      const childTid = argI32(v, at, FORK_CHILD_TID);
      if (child <= 0 || child !== childTid) return; // a new thread: same process
      this.stats.forks++;
      const parent = this.get(pid);
      const start = argU64(v, at, FORK_START);
      const old = this.procs.get(child);
      if (old) this.remove(old); // pid reuse, or the exit was missed
      const info: ProcessInfo = {
        pid: child, ppid: pid, comm: parent?.comm ?? name(batch, at + CTX.processName),
        executable: parent?.executable ?? '', startTime: start ?? time, children: new Set(), execs: [],
      };
      this.procs.set(child, info);
      this.missing.delete(child);
      parent?.children.add(child);
    } else if (id === EXEC.id) {
      this.stats.execs++;
      let p = this.get(pid);
      if (!p) {
        p = { pid, ppid: v.getUint32(at + CTX.hostParentProcessId, true), comm: '', executable: '', startTime: 0n, children: new Set(), execs: [] };
        this.procs.set(pid, p);
        this.procs.get(p.ppid)?.children.add(pid);
      }
      const path = argString(batch, v, at, EXEC_PATHNAME);
      const prevComm = argString(batch, v, at, EXEC_PREV_COMM) ?? p.comm;
      p.execs.push({ time, executable: path ?? p.executable, prevExecutable: p.executable, prevComm });
      if (p.execs.length > EXEC_HISTORY) p.execs.shift();
      p.executable = path ?? p.executable;
      p.comm = name(batch, at + CTX.processName);
      p.exitTime = undefined;
    } else {
      const tid = v.getUint32(at + CTX.hostThreadId, true);
      const group = argBool(v, at, EXIT_GROUP);
      if (!(group ?? tid === pid)) return; // one thread of a live process
      this.stats.exits++;
      const p = this.procs.get(pid);
      if (!p) return;
      p.exitTime = time;
      const code = argI64(v, at, EXIT_CODE);
      if (code !== undefined) p.exitCode = code;
    }
    this.stats.processes = this.procs.size;
  }

  private addEntry(e: ProcEntry): void {
    if (this.procs.has(e.pid)) return;
    this.procs.set(e.pid, { pid: e.pid, ppid: e.ppid, comm: e.comm, executable: e.executable, startTime: e.startTime, children: new Set(), execs: [] });
  }

  /** A pid not in the tree: read it from procfs once (live capture only). */
  private lookupProc(pid: number): ProcessInfo | undefined {
    const root = this.options.procRoot;
    if (!root || pid <= 0 || this.missing.has(pid)) return undefined;
    const [entry] = scanProc(root, [pid]);
    if (!entry) {
      if (this.missing.size > 4096) this.missing.clear();
      this.missing.add(pid);
      return undefined;
    }
    this.stats.procLookups++;
    this.addEntry(entry);
    this.procs.get(entry.ppid)?.children.add(pid);
    this.stats.processes = this.procs.size;
    return this.procs.get(pid);
  }

  /** Evicts processes exited longer than the grace period, then enforces the cap. */
  private sweep(): void {
    this.lastSweep = this.now;
    const limit = this.now - this.graceNs;
    for (const p of this.procs.values()) if (p.exitTime !== undefined && p.exitTime < limit) this.remove(p);
    if (this.procs.size <= this.maxProcesses) return;
    const excess = this.procs.size - this.maxProcesses;
    const order = [...this.procs.values()].sort((a, b) => rank(a) - rank(b) || Number(a.startTime - b.startTime));
    for (let i = 0; i < excess; i++) this.remove(order[i]);
  }

  private remove(p: ProcessInfo): void {
    if (this.procs.get(p.pid) !== p) return;
    this.procs.delete(p.pid);
    this.procs.get(p.ppid)?.children.delete(p.pid);
    this.stats.evicted++;
    this.stats.processes = this.procs.size;
  }
}

/** Exited processes go first, longest-exited first. */
function rank(p: ProcessInfo): number {
  return p.exitTime === undefined ? 1 : 0;
}

function name(batch: Uint8Array, pos: number): string {
  let n = 0;
  while (n < MAX_PROCESS_NAME && batch[pos + n] !== 0) n++;
  return utf8.decode(batch.subarray(pos, pos + n));
}

/** Offset of argument `index` in the batch, or -1; the length goes to argLen. */
let argLen = 0;
function argPos(v: DataView, at: number, index: number): number {
  if (index < 0 || index >= v.getUint16(at + CTX.argsNum, true)) return -1;
  const entry = at + CONTEXT_SIZE + index * ARG_ENTRY_SIZE;
  const off = v.getUint32(entry, true);
  if (off === 0) return -1;
  argLen = v.getUint32(entry + 4, true);
  if (off + argLen > v.getUint32(at, true)) return -1;
  return at + off;
}

function argI32(v: DataView, at: number, index: number): number {
  const pos = argPos(v, at, index);
  return pos < 0 || argLen < 4 ? -1 : v.getInt32(pos, true);
}

function argU64(v: DataView, at: number, index: number): bigint | undefined {
  const pos = argPos(v, at, index);
  return pos < 0 || argLen < 8 ? undefined : v.getBigUint64(pos, true);
}

function argI64(v: DataView, at: number, index: number): number | undefined {
  const pos = argPos(v, at, index);
  return pos < 0 || argLen < 8 ? undefined : Number(v.getBigInt64(pos, true));
}

function argBool(v: DataView, at: number, index: number): boolean | undefined {
  const pos = argPos(v, at, index);
  return pos < 0 || argLen < 1 ? undefined : v.getUint8(pos) !== 0;
}

function argString(batch: Uint8Array, v: DataView, at: number, index: number): string | undefined {
  const pos = argPos(v, at, index);
  return pos < 0 ? undefined : utf8.decode(batch.subarray(pos, pos + argLen));
}
