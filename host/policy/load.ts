/**
 * Builds the policies tracee runs with, from `-p/--policy` files or from
 * `-s/--scope` + `-e/--events`, and checks what involves several policies:
 * at most 64, unique names, no mixing of policy files with scope/event flags
 * (as in Tracee). All validation happens here, before anything starts.
 */
import { MAX_POLICIES, type Policy } from './model.ts';
import { PolicyError } from './policy-error.ts';
import { readPolicyFiles } from './policy-file.ts';
import { policyFromFlags } from './flags.ts';
import type { EventNames } from './event-names.ts';

export interface PolicyInputs {
  /** `-p/--policy` values: files or directories. */
  policyPaths: readonly string[];
  /** `-s/--scope` values, as given (not split on commas). */
  scope: readonly string[];
  /** `-e/--events` values, as given (not split on commas). */
  events: readonly string[];
}

/**
 * The policies, in bit order (policy i is bit i of matchedPolicies). With no
 * flags at all: one policy selecting the signature events (detections only).
 */
export function loadPolicies(inputs: PolicyInputs, names: EventNames): Policy[] {
  if (inputs.policyPaths.length > 0 && (inputs.scope.length > 0 || inputs.events.length > 0)) {
    throw new PolicyError({ origin: '--policy', field: '' }, 'cannot be combined with --scope or --events (put the scope and rules in a policy file)');
  }
  if (inputs.policyPaths.length === 0) {
    const defaultEvents = inputs.scope.length > 0 ? 'default' : 'signatures';
    return [policyFromFlags(inputs.scope, inputs.events, names, { defaultEvents })];
  }
  const policies = readPolicyFiles(inputs.policyPaths, names);
  checkPolicySet(policies);
  return policies;
}

/** At most MAX_POLICIES, names unique. */
export function checkPolicySet(policies: readonly Policy[]): void {
  if (policies.length > MAX_POLICIES) {
    throw new PolicyError({ origin: 'policies', field: '' }, `${policies.length} policies given; at most ${MAX_POLICIES} can be loaded (${policies[MAX_POLICIES].origin} is number ${MAX_POLICIES + 1})`);
  }
  const seen = new Map<string, Policy>();
  for (const p of policies) {
    const first = seen.get(p.name);
    if (first) throw new PolicyError({ origin: `policy ${p.origin}`, field: 'name' }, `policy name "${p.name}" is already used by ${first.origin === p.origin ? 'another policy in the same file' : `policy ${first.origin}`}; names must be unique`);
    seen.set(p.name, p);
  }
}
