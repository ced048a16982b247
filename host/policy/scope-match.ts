/**
 * A policy's scope evaluated in user space, on flat records. This is the
 * fallback for policies whose scope the kernel did not apply (no in-kernel
 * scope maps, or fields the kernel side does not filter); with in-kernel
 * scope filtering the records arrive with matchedPolicies already set.
 * Semantics are those of docs/policies.md (Tracee's scopes):
 *
 * - uid, mntns, pidns: the record's userId, mountNamespace, pidNamespace;
 * - pid: `=`/`!=` match the host pid or the host tid; ranges the host pid;
 *   `pid=new`: threads started after tracee;
 * - tree: the process is the given pid or descends from it (host pids);
 * - uts, comm: hostName, processName (bytes, with prefix/suffix wildcards);
 * - executable: the process's executable path (from the process tree),
 *   optionally only in the host (`host:`) or a given mount namespace (`ID:`);
 * - container: in a container; `=started`/`=new`: the container had started;
 *   `=ID`: container id starts with ID; not-container: the opposite;
 * - follow: handled by the filter stage (it needs state).
 */
import { CTX } from '../events/layout.ts';
import { BytesMatcher, inContainer, nameLength, numberTest, stringMatcher, type MatchContext, type RecordCursor, type RecordPredicate } from './record-match.ts';
import type { ScopeFilter } from './model.ts';

/** What scope evaluation needs from the process tree (host/enrich/process-tree.ts). */
export interface ProcessView {
  /** The executable path of host process `pid` at `timeNs` (the record clock); undefined if unknown. */
  executableAt(pid: number, timeNs: bigint): string | undefined;
  /** True when host process `pid` is `ancestor` or one of its descendants. */
  descendsFrom(pid: number, ancestor: number): boolean;
}

export interface ScopeContext extends MatchContext {
  processes?: ProcessView;
  /** The host's mount namespace id (for `executable=host:/path`). */
  hostMountNs?: number;
  /** tracee's start on the record clock (boot ns): `pid=new` means threads started later. */
  startTimeNs?: bigint;
}

export interface CompiledScope {
  /** The scope without `follow`: true when the record is in scope on its own. */
  test: RecordPredicate;
  /** The policy also follows the descendants of processes in scope. */
  follow: boolean;
}

export function compileScope(scope: readonly ScopeFilter[], ctx: ScopeContext): CompiledScope {
  const preds: RecordPredicate[] = [];
  let follow = false;
  for (const s of scope) {
    if (s.field === 'follow') { follow = true; continue; }
    if (s.field === 'global') continue;
    preds.push(compileScopeFilter(s, ctx));
  }
  const test: RecordPredicate = preds.length === 0 ? () => true : preds.length === 1 ? preds[0] : (c) => {
    for (const p of preds) if (!p(c)) return false;
    return true;
  };
  return { test, follow };
}

const hostPid = (c: RecordCursor) => c.view.getUint32(c.at + CTX.hostProcessId, true);

function compileScopeFilter(s: ScopeFilter, ctx: ScopeContext): RecordPredicate {
  const negate = s.operator === '!=';
  switch (s.field) {
    case 'uid': case 'mntns': case 'pidns': {
      const off = CTX[s.field === 'uid' ? 'userId' : s.field === 'mntns' ? 'mountNamespace' : 'pidNamespace'];
      const test = numberTest(s.operator, s.values.map(Number));
      return (c) => test(c.view.getUint32(c.at + off, true));
    }
    case 'pid': {
      if (s.values[0] === 'new') {
        const start = ctx.startTimeNs ?? 0n;
        return (c) => (c.view.getBigUint64(c.at + CTX.threadStartTime, true) > start) !== negate;
      }
      const values = s.values.map(Number);
      if (s.operator === '=' || s.operator === '!=') {
        const set = new Set(values);
        return (c) => (set.has(hostPid(c)) || set.has(c.view.getUint32(c.at + CTX.hostThreadId, true))) !== negate;
      }
      const test = numberTest(s.operator, values);
      return (c) => test(hostPid(c));
    }
    case 'tree': {
      const roots = s.values.map(Number);
      const processes = ctx.processes;
      return (c) => {
        const pid = hostPid(c);
        const inTree = roots.some((r) => r === pid || (processes?.descendsFrom(pid, r) ?? false));
        return inTree !== negate;
      };
    }
    case 'uts': case 'comm': {
      const off = s.field === 'uts' ? CTX.hostName : CTX.processName;
      const m = new BytesMatcher(s.values);
      return (c) => m.test(c.bytes, c.at + off, nameLength(c.bytes, c.at + off)) !== negate;
    }
    case 'executable': {
      const hostNs = ctx.hostMountNs;
      const tests = s.values.map((v) => {
        const hit = /^(host|\d+):(.*)$/.exec(v);
        const path = hit ? hit[2] : v;
        const ns = hit ? (hit[1] === 'host' ? hostNs ?? -1 : Number(hit[1])) : undefined;
        return { ns, match: stringMatcher([path]) };
      });
      const processes = ctx.processes;
      return (c) => {
        const exe = processes?.executableAt(hostPid(c), c.view.getBigUint64(c.at + CTX.timestamp, true));
        let any = false;
        if (exe !== undefined) {
          const mntns = c.view.getUint32(c.at + CTX.mountNamespace, true);
          any = tests.some((t) => (t.ns === undefined || t.ns === mntns) && t.match(exe));
        }
        return any !== negate;
      };
    }
    case 'container': {
      if (s.values.length === 0) return inContainer;
      if (s.values[0] === 'new' || s.values[0] === 'started') {
        return (c) => ((c.view.getUint32(c.at + CTX.flags, true) & 1) !== 0) !== negate;
      }
      const ids = s.values;
      return (c) => {
        const id = ctx.containers?.get(c.view.getUint32(c.at + CTX.containerRef, true))?.id ?? '';
        const hit = id !== '' && ids.some((p) => id.startsWith(p));
        return hit !== negate;
      };
    }
    case 'not-container':
      return (c) => !inContainer(c);
    default:
      return () => true;
  }
}
