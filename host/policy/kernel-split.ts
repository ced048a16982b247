/**
 * Splits the scope work between the kernel and user space.
 *
 * The kernel (host/capture/kernel-scope.ts) applies a policy's scope when it
 * can express all of it; a policy using what it cannot (prefix/suffix
 * wildcards on comm, uts or executable, `pid=new`, `executable=host:/…` or
 * `ID:/…`, or anything its compiler rejects) goes to the kernel without a
 * scope, so all its events arrive, and the policy filter stage evaluates its
 * scope in user space instead. Either way the result is the same events.
 *
 * The process tree needs fork, exec and exit from every process: when there
 * is a free policy bit, an internal policy (global scope, last bit) asks the
 * kernel for them; the filter stage ignores that bit.
 */
import { eventByName } from '../events/catalogue.ts';
import { MAX_POLICIES, type Policy } from './model.ts';
import { bit, orBits, NO_BITS, type Bits, type PolicyPlan } from './plan.ts';

export interface KernelSplit {
  /** What to give compileKernelScope: the plan's kernel policies (some without scope), then the internal one if any. */
  policies: Policy[];
  /** Kernel event ids per policy of `policies`. */
  eventsByPolicy: number[][];
  /** Every event id the kernel must emit. */
  eventIds: number[];
  /** Plan policies whose scope the kernel applies (PolicyFilterOptions.kernelScope). */
  kernelScoped: Bits;
  /** Plan policies whose scope is evaluated in user space, and why. */
  userScoped: Array<{ policy: string; reason: string }>;
  /** False when 64 policies left no bit for the process tree's events. */
  treeEvents: boolean;
}

export const INTERNAL_POLICY_NAME = 'tracee-ts: process tree';

/**
 * `kernelProblem(p)` says why the kernel cannot apply p's scope (undefined:
 * it can); `unavailable` are events this kernel cannot give (left out).
 */
export function splitKernelScope(plan: PolicyPlan, treeEventIds: readonly number[], kernelProblem: (p: Policy) => string | undefined,
  unavailable: ReadonlySet<number> = new Set()): KernelSplit {
  let kernelScoped: Bits = { ...NO_BITS };
  const userScoped: KernelSplit['userScoped'] = [];
  const policies = plan.kernelPolicies.map((p, i) => {
    const reason = userSpaceReason(p) ?? kernelProblem(p);
    if (reason === undefined) {
      kernelScoped = orBits(kernelScoped, bit(i));
      return p;
    }
    userScoped.push({ policy: p.name, reason });
    return { ...p, scope: [] };
  });
  const eventsByPolicy = policies.map((p) => p.rules.map((r) => eventByName(r.event)!.id).filter((id) => !unavailable.has(id)));
  const treeEvents = policies.length < MAX_POLICIES;
  if (treeEvents) {
    policies.push({ name: INTERNAL_POLICY_NAME, description: 'fork, exec and exit of every process, for the process tree', scope: [], defaultActions: [], rules: [], origin: 'tracee-ts' });
    eventsByPolicy.push(treeEventIds.filter((id) => !unavailable.has(id)));
  }
  const eventIds = [...new Set(eventsByPolicy.flat())].sort((a, b) => a - b);
  return { policies, eventsByPolicy, eventIds, kernelScoped, userScoped, treeEvents };
}

/** What the kernel's scope maps cannot express but would not reject. */
function userSpaceReason(p: Policy): string | undefined {
  for (const s of p.scope) {
    if ((s.field === 'comm' || s.field === 'uts' || s.field === 'executable') && s.values.some((v) => v.startsWith('*') || v.endsWith('*'))) {
      return `${s.field}${s.operator}${s.values.join(',')}: wildcards are matched in user space`;
    }
    if (s.field === 'pid' && s.values.includes('new')) return `pid${s.operator}new is matched in user space`;
    if (s.field === 'executable' && s.values.some((v) => !v.startsWith('/'))) return `executable${s.operator}${s.values.join(',')}: mount namespace prefixes are matched in user space`;
  }
  return undefined;
}
