/**
 * Compiles validated policies into what the stages need:
 *
 * - which catalogue events the kernel must emit: those a policy selects in a
 *   rule, and the input events of every signature a policy selects (Tracee
 *   enables a signature's dependencies for the policies that select it);
 * - per event, which policies print it (`direct`) and which need it as a
 *   signature input (`input`), and the rule filters to apply in user space;
 * - per signature event, which policies select it and their filters;
 * - `kernelPolicies`: the policies as the in-kernel scope sees them, with
 *   signature events replaced by their input events (no filters on those,
 *   since a signature needs all of them).
 *
 * Policy i is bit i of a record's matchedPolicies; bitmaps are kept as two
 * u32 halves so the per-record path never touches BigInt.
 */
import { EVENTS, eventById, eventByName } from '../events/catalogue.ts';
import type { EventNames } from './event-names.ts';
import type { EventFilter, Policy, PolicyRule } from './model.ts';

/** A 64-bit policy bitmap as two u32 halves. */
export interface Bits {
  lo: number;
  hi: number;
}

export const NO_BITS: Readonly<Bits> = Object.freeze({ lo: 0, hi: 0 });

export function bit(i: number): Bits {
  return i < 32 ? { lo: (1 << i) >>> 0, hi: 0 } : { lo: 0, hi: (1 << (i - 32)) >>> 0 };
}

export function hasBit(b: Bits, i: number): boolean {
  return i < 32 ? ((b.lo >>> i) & 1) === 1 : ((b.hi >>> (i - 32)) & 1) === 1;
}

export function orBits(a: Bits, b: Bits): Bits {
  return { lo: (a.lo | b.lo) >>> 0, hi: (a.hi | b.hi) >>> 0 };
}

export function bitIndexes(b: Bits): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((b.lo >>> i) & 1) out.push(i);
  for (let i = 0; i < 32; i++) if ((b.hi >>> i) & 1) out.push(i + 32);
  return out;
}

export function toBigInt(b: Bits): bigint {
  return (BigInt(b.hi >>> 0) << 32n) | BigInt(b.lo >>> 0);
}

export interface EventPlan {
  id: number;
  name: string;
  /** Policies with a rule for this event: its records are printed for them. */
  direct: Bits;
  /** Policies that select a signature needing this event. */
  input: Bits;
  /** Rule filters, for the policies whose rule has any. */
  filtered: Array<{ policy: number; filters: EventFilter[] }>;
}

export interface SignaturePlan {
  eventName: string;
  /** Policies with a rule for the signature event. */
  selecting: Bits;
  filtered: Array<{ policy: number; filters: EventFilter[] }>;
  /** Catalogue ids of the events the signature needs (all: "*"). */
  inputIds: number[];
}

export interface PolicyPlan {
  readonly policies: readonly Policy[];
  /** Policy names by bit, for matchedPolicies. */
  readonly names: readonly string[];
  /** Catalogue ids the kernel must emit for the policies, ascending. */
  readonly eventIds: readonly number[];
  readonly kernelPolicies: readonly Policy[];
  readonly events: ReadonlyMap<number, EventPlan>;
  readonly signatures: ReadonlyMap<string, SignaturePlan>;
  /** Some policy selects a catalogue event: events are printed as well as detections. */
  readonly printsEvents: boolean;
  /** Every policy that has any rule. */
  readonly all: Bits;
}

export function compilePolicies(policies: readonly Policy[], names: EventNames): PolicyPlan {
  const events = new Map<number, EventPlan>();
  const signatures = new Map<string, SignaturePlan>();
  const eventPlan = (id: number): EventPlan => {
    let p = events.get(id);
    if (!p) events.set(id, p = { id, name: eventById(id)!.name, direct: { ...NO_BITS }, input: { ...NO_BITS }, filtered: [] });
    return p;
  };
  let all: Bits = { ...NO_BITS };
  let printsEvents = false;

  const kernelPolicies = policies.map((policy, i): Policy => {
    const b = bit(i);
    all = orBits(all, b);
    const kernelRules = new Map<string, PolicyRule>();
    for (const rule of policy.rules) {
      const def = eventByName(rule.event);
      if (def) {
        const p = eventPlan(def.id);
        p.direct = orBits(p.direct, b);
        if (rule.filters.length) p.filtered.push({ policy: i, filters: rule.filters });
        printsEvents = true;
        if (!kernelRules.has(def.name)) kernelRules.set(def.name, { event: def.name, filters: rule.filters });
        continue;
      }
      const sig = names.signature(rule.event);
      if (!sig) continue; // validated before: cannot happen
      let sp = signatures.get(sig.eventName);
      if (!sp) {
        const inputIds = sig.selectedEvents.includes('*') ? EVENTS.map((e) => e.id) : sig.selectedEvents.map((n) => eventByName(n)!.id);
        signatures.set(sig.eventName, sp = { eventName: sig.eventName, selecting: { ...NO_BITS }, filtered: [], inputIds });
      }
      sp.selecting = orBits(sp.selecting, b);
      if (rule.filters.length) sp.filtered.push({ policy: i, filters: rule.filters });
      for (const id of sp.inputIds) {
        const p = eventPlan(id);
        p.input = orBits(p.input, b);
        kernelRules.set(p.name, { event: p.name, filters: [] }); // a signature needs every one
      }
    }
    return { ...policy, rules: [...kernelRules.values()] };
  });

  return {
    policies,
    names: policies.map((p) => p.name),
    eventIds: [...events.keys()].sort((a, b) => a - b),
    kernelPolicies,
    events,
    signatures,
    printsEvents,
    all,
  };
}
