/**
 * The user-space policy stage, run on each batch right after capture (and
 * after the process tree has seen it):
 *
 * 1. each record starts with the policies interested in its event (a rule
 *    selects it, or it feeds a signature a policy selects);
 * 2. scope: for policies the kernel scoped, the record's matchedPolicies
 *    bits are kept as the kernel set them; the other policies' scopes are
 *    evaluated here (ScopeContext; `follow` is tracked per policy);
 * 3. rule filters (data, retval, scope fields) clear the bit of a policy
 *    whose rule rejects the record, unless that policy also needs the event
 *    as a signature input (then it is kept for the signature, not printed);
 * 4. records left with no policy are dropped (counted in `stats.filtered`,
 *    Tracee's tracee_ebpf_events_filtered), the rest are compacted in place
 *    and get their final matchedPolicies.
 *
 * After process(), forEachPrinted() names the records to print and the
 * policies they matched; findingPolicies() says for which policies a
 * detection is reported. Records are read in place (record-match.ts); the
 * batch is modified in place (the capture hands over fresh buffers).
 */
import { ARG_ENTRY_SIZE, BATCH_HEADER, CONTEXT_SIZE, CTX } from '../events/layout.ts';
import { eventByName, eventById } from '../events/catalogue.ts';
import { readBatchHeader, viewOf } from '../events/batch-reader.ts';
import { bitIndexes, NO_BITS, type Bits, type PolicyPlan } from './plan.ts';
import { compileFindingFilters, compileRecordFilters, type RecordCursor, type RecordPredicate } from './record-match.ts';
import { compileScope, type CompiledScope, type ScopeContext } from './scope-match.ts';
import type { Finding } from '../engine/finding.ts';
import type { FindingData } from '../engine/finding-data.ts';

export interface PolicyFilterOptions extends ScopeContext {
  /**
   * Policies whose scope the kernel applied (their matchedPolicies bits are
   * trusted). Default: none, every scope is evaluated here.
   */
  kernelScope?: Bits;
  /** Counters to add to (a filter replacing another after a hot reload carries on its counts). */
  stats?: PolicyFilterStats;
}

export interface PolicyFilterStats {
  /** Records seen. */
  events: number;
  /** Records kept for at least one policy. */
  passed: number;
  /** Records some policy wanted but every such policy's scope (evaluated here) or rule filters rejected. */
  filtered: number;
  /** Records only the process tree asked for (no policy selects the event, or it is out of every kernel-applied scope), dropped after enrichment. */
  internal: number;
  /** Records dropped because the batch could not be walked past a malformed record (a decode failure). */
  malformed: number;
}

interface RuleCheck {
  policy: number;
  lo: number;
  hi: number;
  test: RecordPredicate;
}

interface EventState {
  interestLo: number; interestHi: number;
  directLo: number; directHi: number;
  inputLo: number; inputHi: number;
  /** Interested policies whose scope is evaluated here. */
  userScoped: number[];
  checks: RuleCheck[];
}

interface SignatureState {
  selectingLo: number; selectingHi: number;
  checks: Array<{ policy: number; test: (data: FindingData, c: RecordCursor) => boolean }>;
}

const FORK = eventByName('sched_process_fork')!;
const EXIT = eventByName('sched_process_exit')!;
const FORK_CHILD_PID = FORK.args.findIndex((a) => a.name === 'child_pid');
const FORK_CHILD_TID = FORK.args.findIndex((a) => a.name === 'child_tid');

export class PolicyFilter {
  readonly stats: PolicyFilterStats;
  private readonly states: Array<EventState | undefined> = [];
  private readonly signatures = new Map<string, SignatureState>();
  private readonly scopes: CompiledScope[];
  /** Per follow policy: host pids followed (true) or known not to be (false). */
  private readonly follow: Array<Map<number, boolean> | undefined>;
  private readonly following: boolean;
  private readonly namesCache = new Map<string, string[]>();
  private readonly cursor: RecordCursor = { bytes: new Uint8Array(0), view: new DataView(new ArrayBuffer(0)), at: 0, clockOffsetNs: 0n };
  // Records of the last batch to print: offset and policy bits.
  private printCount = 0;
  private printAt = new Uint32Array(256);
  private printLo = new Uint32Array(256);
  private printHi = new Uint32Array(256);

  constructor(private readonly plan: PolicyPlan, private readonly options: PolicyFilterOptions = {}) {
    this.stats = options.stats ?? { events: 0, passed: 0, filtered: 0, internal: 0, malformed: 0 };
    const kernel = options.kernelScope ?? NO_BITS;
    this.scopes = plan.policies.map((p) => compileScope(p.scope, options));
    this.follow = this.scopes.map((s, i) => (s.follow && !hasBitIn(kernel, i) ? new Map() : undefined));
    this.following = this.follow.some((f) => f !== undefined);
    for (const [id, ep] of plan.events) {
      const def = eventById(id)!;
      const interest = { lo: (ep.direct.lo | ep.input.lo) >>> 0, hi: (ep.direct.hi | ep.input.hi) >>> 0 };
      this.states[id] = {
        interestLo: interest.lo, interestHi: interest.hi,
        directLo: ep.direct.lo, directHi: ep.direct.hi,
        inputLo: ep.input.lo, inputHi: ep.input.hi,
        userScoped: bitIndexes(interest).filter((i) => !hasBitIn(kernel, i)),
        checks: ep.filtered.map(({ policy, filters }) => {
          const b = policy < 32 ? { lo: (1 << policy) >>> 0, hi: 0 } : { lo: 0, hi: (1 << (policy - 32)) >>> 0 };
          return { policy, ...b, test: compileRecordFilters(filters, def.args, options) };
        }),
      };
    }
    for (const [name, sp] of plan.signatures) {
      this.signatures.set(name, {
        selectingLo: sp.selecting.lo, selectingHi: sp.selecting.hi,
        checks: sp.filtered.map(({ policy, filters }) => ({ policy, test: compileFindingFilters(filters, options) })),
      });
    }
  }

  /**
   * Applies scopes and rule filters to `batch` in place. Returns the batch
   * holding only the kept records (a prefix view of the same memory), or
   * undefined when none is left.
   */
  process(batch: Uint8Array): Uint8Array | undefined {
    const header = readBatchHeader(batch);
    const v = viewOf(batch);
    const c = this.cursor;
    c.bytes = batch; c.view = v; c.clockOffsetNs = header.clockOffsetNs;
    this.printCount = 0;
    let read = header.headerSize;
    let write = read;
    let kept = 0;
    for (let i = 0; i < header.count; i++) {
      const size = v.getUint32(read, true);
      if (size < CTX.argsNum || (size & 7) !== 0 || read + size > header.byteLength) {
        this.stats.malformed += header.count - i; // nothing after it can be located
        break;
      }
      c.at = read;
      this.stats.events++;
      const bits = this.decide(c);
      if (bits) {
        v.setUint32(read + CTX.matchedPolicies, keepLo, true);
        v.setUint32(read + CTX.matchedPolicies + 4, keepHi, true);
        if ((printLo | printHi) !== 0) this.remember(write, printLo, printHi);
        if (write !== read) batch.copyWithin(write, read, read + size);
        write += size;
        kept++;
      }
      read += size;
    }
    this.stats.passed += kept;
    if (kept === 0) return undefined;
    v.setUint32(BATCH_HEADER.count.offset, kept, true);
    v.setUint32(BATCH_HEADER.byteLength.offset, write, true);
    return write === batch.byteLength ? batch : batch.subarray(0, write);
  }

  /** Calls `fn` for each record of the last processed batch that a policy prints. */
  forEachPrinted(fn: (offset: number, policies: string[]) => void): void {
    for (let i = 0; i < this.printCount; i++) fn(this.printAt[i], this.policyNames(this.printLo[i], this.printHi[i]));
  }

  /** Names of the policies a detection is reported for: empty means not reported. */
  findingPolicies(f: Finding): string[] {
    const s = this.signatures.get(f.signature.eventName);
    if (!s) return [];
    const v = viewOf(f.record);
    let lo = (v.getUint32(CTX.matchedPolicies, true) & s.selectingLo) >>> 0;
    let hi = (v.getUint32(CTX.matchedPolicies + 4, true) & s.selectingHi) >>> 0;
    if (s.checks.length && (lo | hi) !== 0) {
      const c: RecordCursor = { bytes: f.record, view: v, at: 0, clockOffsetNs: f.clockOffsetNs };
      for (const check of s.checks) {
        const p = check.policy;
        const set = p < 32 ? (lo >>> p) & 1 : (hi >>> (p - 32)) & 1;
        if (set && !check.test(f.data, c)) {
          if (p < 32) lo = (lo & ~(1 << p)) >>> 0;
          else hi = (hi & ~(1 << (p - 32))) >>> 0;
        }
      }
    }
    return (lo | hi) === 0 ? [] : this.policyNames(lo, hi);
  }

  policyNames(lo: number, hi: number): string[] {
    const key = hi === 0 ? String(lo) : `${lo}:${hi}`;
    let names = this.namesCache.get(key);
    if (!names) this.namesCache.set(key, names = bitIndexes({ lo, hi }).map((i) => this.plan.names[i]));
    return names;
  }

  /** Decides one record; sets keepLo/keepHi/printLo/printHi. Returns false to drop it. */
  private decide(c: RecordCursor): boolean {
    const v = c.view;
    const id = v.getUint32(c.at + CTX.eventId, true);
    if (this.following && (id === FORK.id || id === EXIT.id)) this.trackFollow(c, id);
    const st = this.states[id];
    if (st === undefined || (st.interestLo | st.interestHi) === 0) {
      this.stats.internal++;
      return false;
    }
    // Scope: kernel-scoped policies as the record says, the others evaluated here.
    let lo = (st.interestLo & v.getUint32(c.at + CTX.matchedPolicies, true)) >>> 0;
    let hi = (st.interestHi & v.getUint32(c.at + CTX.matchedPolicies + 4, true)) >>> 0;
    for (const p of st.userScoped) {
      if (this.inScope(p, c)) {
        if (p < 32) lo = (lo | (1 << p)) >>> 0;
        else hi = (hi | (1 << (p - 32))) >>> 0;
      } else if (p < 32) lo = (lo & ~(1 << p)) >>> 0;
      else hi = (hi & ~(1 << (p - 32))) >>> 0;
    }
    if ((lo | hi) === 0) {
      // Out of every scope. Kernel-scoped policies only see such a record when it came for another reason (the process tree).
      if (st.userScoped.length === 0) this.stats.internal++;
      else this.stats.filtered++;
      return false;
    }
    // Rule filters.
    let failLo = 0;
    let failHi = 0;
    for (const check of st.checks) {
      if (((lo & check.lo) | (hi & check.hi)) !== 0 && !check.test(c)) {
        failLo |= check.lo;
        failHi |= check.hi;
      }
    }
    printLo = (lo & st.directLo & ~failLo) >>> 0;
    printHi = (hi & st.directHi & ~failHi) >>> 0;
    keepLo = (lo & ~(failLo & ~st.inputLo)) >>> 0;
    keepHi = (hi & ~(failHi & ~st.inputHi)) >>> 0;
    if ((keepLo | keepHi) === 0) {
      this.stats.filtered++;
      return false;
    }
    return true;
  }

  private inScope(p: number, c: RecordCursor): boolean {
    const scope = this.scopes[p];
    const follow = this.follow[p];
    if (!follow) return scope.test(c);
    const pid = c.view.getUint32(c.at + CTX.hostProcessId, true);
    if (scope.test(c)) {
      follow.set(pid, true);
      return true;
    }
    let state = follow.get(pid);
    if (state === undefined) {
      state = false;
      const tree = this.options.processes;
      if (tree) for (const [followed, yes] of follow) if (yes && followed !== pid && tree.descendsFrom(pid, followed)) { state = true; break; }
      follow.set(pid, state);
    }
    return state;
  }

  /** follow: children of followed processes are followed; exited processes are forgotten. */
  private trackFollow(c: RecordCursor, id: number): void {
    const v = c.view;
    const pid = v.getUint32(c.at + CTX.hostProcessId, true);
    for (let p = 0; p < this.follow.length; p++) {
      const follow = this.follow[p];
      if (!follow) continue;
      if (id === EXIT.id) {
        if (v.getUint32(c.at + CTX.hostThreadId, true) === pid) follow.delete(pid);
        continue;
      }
      if (!this.inScope(p, c)) continue;
      const child = readI32Arg(c, FORK_CHILD_PID);
      const childTid = readI32Arg(c, FORK_CHILD_TID);
      if (child > 0 && child === childTid) follow.set(child, true); // a new process, not a thread
    }
  }

  private remember(at: number, lo: number, hi: number): void {
    if (this.printCount === this.printAt.length) {
      const grow = (a: Uint32Array) => { const b = new Uint32Array(a.length * 2); b.set(a); return b; };
      this.printAt = grow(this.printAt); this.printLo = grow(this.printLo); this.printHi = grow(this.printHi);
    }
    this.printAt[this.printCount] = at;
    this.printLo[this.printCount] = lo;
    this.printHi[this.printCount] = hi;
    this.printCount++;
  }
}

// Results of decide(), kept out of the return value so no object is allocated per record.
let keepLo = 0;
let keepHi = 0;
let printLo = 0;
let printHi = 0;

function hasBitIn(b: Bits, i: number): boolean {
  return i < 32 ? ((b.lo >>> i) & 1) === 1 : ((b.hi >>> (i - 32)) & 1) === 1;
}

function readI32Arg(c: RecordCursor, index: number): number {
  const v = c.view;
  if (index < 0 || index >= v.getUint16(c.at + CTX.argsNum, true)) return -1;
  const entry = c.at + CONTEXT_SIZE + index * ARG_ENTRY_SIZE;
  const off = v.getUint32(entry, true);
  if (off === 0 || v.getUint32(entry + 4, true) < 4) return -1;
  return v.getInt32(c.at + off, true);
}
