/**
 * What `tracee` detects, from the signatures loaded and the policy inputs:
 * the policies, their plan, which signatures run, and the split of the scope
 * work between the kernel and user space. Computed once at start-up and again
 * at each hot reload of the rules directory, since a new signature changes
 * the events the policies ask the kernel for.
 */
import type { CompiledBundle } from '../engine/bundle.ts';
import { eventById } from '../events/catalogue.ts';
import { EventNames, type SignatureEvent } from '../policy/event-names.ts';
import { splitKernelScope, type KernelSplit } from '../policy/kernel-split.ts';
import { loadPolicies, type PolicyInputs } from '../policy/load.ts';
import type { Policy } from '../policy/model.ts';
import { compilePolicies, type PolicyPlan } from '../policy/plan.ts';

export interface KernelFacts {
  /** Events the host's own stages need (process tree, container cgroups), on an internal policy bit. */
  internalEvents: readonly number[];
  /** Why the kernel cannot apply a policy's scope (undefined: it can). */
  kernelProblem: (p: Policy) => string | undefined;
  /** Events this kernel cannot capture. */
  unavailable: ReadonlySet<number>;
}

export interface Detection {
  policies: Policy[];
  plan: PolicyPlan;
  split: KernelSplit;
  /** The loaded bundles some policy selects. */
  bundles: CompiledBundle[];
  /** Fingerprint of what the kernel and the policy filter are given: equal fingerprints, same plan. */
  key: string;
}

export function signatureEvents(bundles: readonly Pick<CompiledBundle, 'metadata'>[]): SignatureEvent[] {
  return bundles.map((b) => ({ id: b.metadata.id, eventName: b.metadata.eventName, selectedEvents: b.metadata.selectedEvents.map((s) => s.name) }));
}

/** Throws PolicyError when the policies are invalid with these bundles' signatures: checked before anything starts. */
export function validatePolicies(bundles: readonly CompiledBundle[], inputs: PolicyInputs): void {
  loadPolicies(inputs, new EventNames(signatureEvents(bundles)));
}

/**
 * Plans detection for `bundles`. `known` are signature events that policies
 * may name though no loaded bundle produces them now (a hot reload removed
 * it): the policies stay valid and that rule is idle until a bundle is back.
 * Throws PolicyError for invalid policies.
 */
export function planDetection(bundles: readonly CompiledBundle[], inputs: PolicyInputs, kernel: KernelFacts, known: readonly SignatureEvent[] = []): Detection {
  const loaded = signatureEvents(bundles);
  const loadedIds = new Set(loaded.map((s) => s.id));
  const names = new EventNames([...loaded, ...known.filter((s) => !loadedIds.has(s.id))]);
  const policies = loadPolicies(inputs, names);
  const plan = compilePolicies(policies, names);
  const split = splitKernelScope(plan, kernel.internalEvents, kernel.kernelProblem, kernel.unavailable);
  const selected = bundles.filter((b) => plan.signatures.has(b.metadata.eventName));
  const key = JSON.stringify([split.eventsByPolicy, [...plan.signatures.keys()].sort()]);
  return { policies, plan, split, bundles: selected, key };
}

/**
 * The kernel events `next` needs that the capture was not opened with (they
 * cannot be added while capturing), by name; the plan is trimmed to the
 * opened ones in place.
 */
export function trimToOpened(next: Detection, opened: ReadonlySet<number>): string[] {
  const missing = next.split.eventIds.filter((id) => !opened.has(id));
  if (missing.length === 0) return [];
  next.split.eventsByPolicy = next.split.eventsByPolicy.map((ids) => ids.filter((id) => opened.has(id)));
  next.split.eventIds = next.split.eventIds.filter((id) => opened.has(id));
  return missing.map((id) => eventById(id)?.name ?? String(id));
}
