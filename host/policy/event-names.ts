/**
 * The names a policy rule or `--events` may use: catalogue events, their
 * sets (Tracee's tags), and the events signatures produce (by event name or
 * signature ID, as Tracee's policies allow `event: TRC-101`).
 */
import { EVENTS, eventByName } from '../events/catalogue.ts';
import type { RuleTarget } from './rule-filter.ts';

/** What a loaded signature contributes: the event it produces and the events it needs. */
export interface SignatureEvent {
  id: string;
  eventName: string;
  /** Catalogue event names the signature selects ("*": every event). */
  selectedEvents: readonly string[];
}

export class EventNames {
  private readonly signatures = new Map<string, SignatureEvent>();
  private readonly byId = new Map<string, SignatureEvent>();
  private readonly setMembers = new Map<string, string[]>();

  constructor(signatures: readonly SignatureEvent[] = []) {
    for (const s of signatures) {
      if (!eventByName(s.eventName)) this.signatures.set(s.eventName, s);
      this.byId.set(s.id, s);
    }
    for (const e of EVENTS) {
      for (const set of e.sets) {
        const list = this.setMembers.get(set) ?? [];
        list.push(e.name);
        this.setMembers.set(set, list);
      }
    }
    // Signature events are in Tracee's "signatures" and "default" sets.
    const sigNames = [...this.signatures.keys()];
    this.setMembers.set('signatures', sigNames);
    this.setMembers.set('default', [...(this.setMembers.get('default') ?? []), ...sigNames]);
  }

  /** A catalogue event, a signature event name or a signature ID; undefined if none. */
  resolve(name: string): RuleTarget | undefined {
    const def = eventByName(name);
    if (def) return { name: def.name, args: def.args };
    const sig = this.signatures.get(name) ?? this.byId.get(name);
    if (sig && this.signatures.get(sig.eventName) === sig) return { name: sig.eventName };
    return undefined;
  }

  signature(eventName: string): SignatureEvent | undefined {
    return this.signatures.get(eventName);
  }

  signatureEvents(): SignatureEvent[] {
    return [...this.signatures.values()];
  }

  /** Events of a set (tag), or undefined if no such set. */
  set(name: string): readonly string[] | undefined {
    return this.setMembers.get(name);
  }

  setNames(): string[] {
    return [...this.setMembers.keys()].sort();
  }

  /** Every selectable event name (catalogue and signature events). */
  names(): string[] {
    return [...EVENTS.map((e) => e.name), ...this.signatures.keys()];
  }

  /** Names for "did you mean": events, signature IDs. */
  suggestions(): string[] {
    return [...this.names(), ...this.byId.keys()];
  }
}
