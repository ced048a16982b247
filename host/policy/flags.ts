/**
 * `-s/--scope` and `-e/--events` as Tracee reads them: together they form one
 * policy (named "", as Tracee prints it in matchedPolicies).
 *
 * `--events` values:
 * - `name[,name...]`: catalogue events, signature events (or signature IDs),
 *   sets such as `fs`, `proc`, `net` (also `tag=fs,proc`), `prefix*`;
 * - `-name`: excludes an event (after sets and prefixes are expanded);
 * - `event.data.arg=v`, `event.args.arg=v`, `event.retval>0`,
 *   `event.scope.field=v` (also `event.context.field`), and the bare
 *   `event.scope.container`: a filter on that event's rule, which also
 *   selects the event.
 *
 * A flag value with an operator is one expression whose commas separate
 * values; without an operator, commas separate names.
 */
import { PolicyError, didYouMean, type Where } from './policy-error.ts';
import { addScopeFilter, parseScopeExpression } from './scope.ts';
import { addRuleFilter, parseRuleFilter } from './rule-filter.ts';
import type { EventNames } from './event-names.ts';
import type { Policy, PolicyRule } from './model.ts';

/** The name Tracee gives the policy formed by --scope and --events. */
export const CLI_POLICY_NAME = '';
export const CLI_ORIGIN = 'command line';

export interface FlagPolicyOptions {
  /** Events when --events selects none: Tracee's "default" set (with --scope) or the signature events only. */
  defaultEvents: 'default' | 'signatures';
}

export function policyFromFlags(scopeFlags: readonly string[], eventFlags: readonly string[], names: EventNames, options: FlagPolicyOptions): Policy {
  const policy: Policy = { name: CLI_POLICY_NAME, description: '', scope: [], defaultActions: [], rules: [], origin: CLI_ORIGIN };
  for (const flag of scopeFlags) {
    const filter = parseScopeExpression(flag, { origin: '--scope', field: '' });
    if (filter) addScopeFilter(policy.scope, filter);
  }

  const rules = new Map<string, PolicyRule>();
  const excluded: string[] = [];
  const where: Where = { origin: '--events', field: '' };
  const ruleFor = (name: string): PolicyRule => {
    let rule = rules.get(name);
    if (!rule) rules.set(name, rule = { event: name, filters: [] });
    return rule;
  };

  for (const flag of eventFlags) {
    if (flag.trim() === '') throw new PolicyError(where, 'empty value');
    const op = flag.search(/[=!<>]/);
    const head = op === -1 ? flag : flag.slice(0, op);
    if (head === 'tag') {
      const tags = flag.slice(op).replace(/^=/, '');
      if (!flag.slice(op).startsWith('=') || tags === '') throw new PolicyError(where, `"${flag}": use tag=SET[,SET...]`);
      for (const tag of tags.split(',')) for (const name of setEvents(tag.trim(), flag, names, where)) ruleFor(name);
      continue;
    }
    if (op === -1 && !flag.includes('.')) {
      for (const raw of flag.split(',')) {
        const item = raw.trim();
        if (item === '' || item === '-') throw new PolicyError(where, `"${flag}": empty event name`);
        if (item.startsWith('-')) { excluded.push(item.slice(1)); continue; }
        for (const name of selectNames(item, flag, names, where)) ruleFor(name);
      }
      continue;
    }
    // event.kind.field[OP values]: a filter on the event's rule
    const dot = head.indexOf('.');
    if (dot <= 0) throw new PolicyError(where, `"${flag}": expected EVENT.data.ARG=VALUE, EVENT.retval<OP>N or EVENT.scope.FIELD=VALUE`);
    const eventPart = head.slice(0, dot);
    const filterText = flag.slice(dot + 1);
    const kind = filterText.split(/[.=!<>]/)[0];
    let ruleText: string;
    if (kind === 'data' || kind === 'args' || kind === 'retval') ruleText = filterText;
    else if (kind === 'scope' || kind === 'context') ruleText = filterText.slice(kind.length + 1);
    else throw new PolicyError(where, `"${flag}": "${kind}" is not a filter kind (allowed: data, args, retval, scope, context)`);
    if ((kind === 'scope' || kind === 'context') && !filterText.startsWith(`${kind}.`)) throw new PolicyError(where, `"${flag}": ${kind} needs a field (e.g. ${eventPart}.scope.processName=ls)`);
    for (const name of selectNames(eventPart, flag, names, where, false)) {
      const target = names.resolve(name)!;
      addRuleFilter(ruleFor(name).filters, parseRuleFilter(ruleText, target, where, flag));
    }
  }

  if (rules.size === 0) {
    const defaults = options.defaultEvents === 'signatures' ? names.signatureEvents().map((s) => s.eventName) : names.set('default') ?? [];
    for (const name of defaults) ruleFor(name);
  }
  for (const name of excluded) {
    const target = names.resolve(name);
    if (!target) throw new PolicyError(where, `"-${name}": cannot exclude unknown event "${name}"${didYouMean(name, names.suggestions())}`);
    rules.delete(target.name);
  }
  policy.rules = [...rules.values()];
  return policy;
}

/** The events an --events item names: an event, a signature, a set, or a prefix*. */
function selectNames(item: string, flag: string, names: EventNames, where: Where, setsAllowed = true): string[] {
  if (item.endsWith('*')) {
    const prefix = item.slice(0, -1);
    const hits = names.names().filter((n) => n.startsWith(prefix));
    if (prefix === '' || hits.length === 0) throw new PolicyError(where, `"${flag}": no event starts with "${prefix}" (see "tracee list")`);
    return hits;
  }
  const target = names.resolve(item);
  if (target) return [target.name];
  const set = setsAllowed ? names.set(item) : undefined;
  if (set) return [...set];
  const sets = setsAllowed ? ' or set' : '';
  throw new PolicyError(where, `"${flag}": unknown event${sets} "${item}"${didYouMean(item, [...names.suggestions(), ...(setsAllowed ? names.setNames() : [])])} (see "tracee list" for events and sets)`);
}

function setEvents(tag: string, flag: string, names: EventNames, where: Where): readonly string[] {
  const set = names.set(tag);
  if (!set) throw new PolicyError(where, `"${flag}": unknown set "${tag}"${didYouMean(tag, names.setNames())} (sets: ${names.setNames().join(', ')})`);
  return set;
}

