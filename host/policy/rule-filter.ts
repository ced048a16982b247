/**
 * Rule filters: the `filters:` of a policy rule and the `event.data.x=`,
 * `event.retval>0`, `event.scope.f=` forms of `--events`. Three kinds:
 *
 * - data (`data.<arg>` or the older `args.<arg>`): the argument must exist in
 *   the event's catalogue entry (signature events have dynamic data, so any
 *   name goes). `=` / `!=` only. Strings take Tracee's wildcards (`abc*`,
 *   `*abc`, `*abc*`); integers take a number or, for flag/enum arguments, a
 *   name (`data.request=PTRACE_TRACEME`), stored as its number.
 * - retval: a signed integer with any of `= != < > <= >=`.
 * - scope: a context field (Tracee's rule scope fields, e.g. `comm=bash`,
 *   `hostPid>1`, `container`), stored under its event JSON name.
 *
 * Values of one expression are OR'd (`!=`: none may match); a rule's
 * filters are AND'd, except that `=` filters on the same field merge.
 */
import { PolicyError, didYouMean, type Where } from './policy-error.ts';
import { ALL_OPERATORS, EQUALITY_OPERATORS, checkOperator, parseInteger, splitExpression, splitValues, stringMatchKind } from './expression.ts';
import { parseNamedValue } from '../events/arg-values.ts';
import type { ArgDef, ArgType } from '../events/catalogue.ts';
import type { EventFilter } from './model.ts';

/** The event a rule is about: a catalogue event (with its arguments) or a signature event. */
export interface RuleTarget {
  name: string;
  /** Catalogue arguments; undefined for signature events, whose data is dynamic. */
  args?: readonly ArgDef[];
}

export type ScopeFieldKind = 'number' | 'string' | 'bool';

/** Rule scope fields: canonical (event JSON) name and kind, by every accepted spelling. */
const RULE_SCOPE_FIELDS: Record<string, [canonical: string, kind: ScopeFieldKind]> = {};
function defineField(kind: ScopeFieldKind, canonical: string, ...aliases: string[]): void {
  for (const name of [canonical, ...aliases]) RULE_SCOPE_FIELDS[name] = [canonical, kind];
}
defineField('number', 'timestamp');
defineField('number', 'processorId');
defineField('number', 'processId', 'p', 'pid');
defineField('number', 'threadId', 'tid');
defineField('number', 'parentProcessId', 'ppid');
defineField('number', 'hostThreadId', 'hostTid');
defineField('number', 'hostProcessId', 'hostPid');
defineField('number', 'hostParentProcessId', 'hostPpid');
defineField('number', 'userId', 'uid');
defineField('number', 'mountNamespace', 'mntns');
defineField('number', 'pidNamespace', 'pidns');
defineField('number', 'cgroupId');
defineField('string', 'processName', 'comm');
defineField('string', 'hostName');
defineField('string', 'containerId');
defineField('string', 'containerImage');
defineField('string', 'containerImageDigest');
defineField('string', 'containerName');
defineField('string', 'podName');
defineField('string', 'podNamespace');
defineField('string', 'podUid');
defineField('string', 'syscall');
defineField('bool', 'container');
defineField('bool', 'host');
defineField('bool', 'podSandbox');

export const RULE_SCOPE_FIELD_NAMES: readonly string[] = Object.keys(RULE_SCOPE_FIELDS);

/** The kind of a canonical rule scope field. */
export function ruleScopeFieldKind(canonical: string): ScopeFieldKind | undefined {
  return RULE_SCOPE_FIELDS[canonical]?.[0] === canonical ? RULE_SCOPE_FIELDS[canonical][1] : undefined;
}

const INT_RANGE: Partial<Record<ArgType, [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [-(2n ** 31n), 2n ** 32n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [-(2n ** 63n), 2n ** 64n - 1n],
  'trace.Pointer': [0n, 2n ** 64n - 1n],
};

/**
 * Parses one rule filter (`data.pathname=/tmp*`, `retval<0`, `comm=bash`).
 * `text` is what the user wrote (for messages). Throws PolicyError.
 */
export function parseRuleFilter(filter: string, target: RuleTarget, where: Where, text = filter): EventFilter {
  const expr = splitExpression(filter, where, text);
  const dot = expr.field.indexOf('.');
  const head = dot === -1 ? expr.field : expr.field.slice(0, dot);

  if (head === 'data' || head === 'args') {
    const name = dot === -1 ? '' : expr.field.slice(dot + 1);
    if (name === '') throw new PolicyError(where, `"${text}": ${head}. needs an argument name (e.g. data.pathname=/tmp*)`);
    return parseDataFilter(text, target, name, expr.operator, expr.rawValues, where);
  }
  if (expr.field === 'retval') {
    if (expr.operator === '') throw new PolicyError(where, `"${text}": retval needs an operator and an integer (e.g. retval<0)`);
    const values = splitValues(text, expr.rawValues, where);
    for (const v of values) {
      const n = parseInteger(v);
      if (n === undefined || n < -(2n ** 63n) || n >= 2n ** 63n) throw new PolicyError(where, `"${text}": retval must be an integer, not "${v}"`);
    }
    return { kind: 'retval', field: '', operator: expr.operator, values: values.map((v) => String(parseInteger(v))) };
  }
  const spec = RULE_SCOPE_FIELDS[expr.field];
  if (!spec) {
    const fields = ['data.<argument>', 'retval', ...new Set(Object.values(RULE_SCOPE_FIELDS).map(([c]) => c))];
    throw new PolicyError(where, `"${text}": unknown filter field "${expr.field}"${didYouMean(expr.field, [...RULE_SCOPE_FIELD_NAMES, 'retval'])} (allowed: ${fields.join(', ')})`);
  }
  const [field, kind] = spec;
  return parseScopeRuleFilter(text, field, expr.field, kind, expr.operator, expr.rawValues, where);
}

function parseDataFilter(text: string, target: RuleTarget, name: string, operator: EventFilter['operator'] | '', rawValues: string, where: Where): EventFilter {
  const arg = target.args?.find((a) => a.name === name);
  if (target.args && !arg) {
    const names = target.args.map((a) => a.name);
    throw new PolicyError(where, `"${text}": event ${target.name} has no argument "${name}"${didYouMean(name, names)} (its arguments: ${names.join(', ') || 'none'})`);
  }
  if (operator === '') throw new PolicyError(where, `"${text}": data filters need = or != and a value`);
  checkOperator(text, `data.${name}`, operator, EQUALITY_OPERATORS, where);
  const values = splitValues(text, rawValues, where);
  if (!arg) return { kind: 'data', field: name, operator, values: checkStrings(text, values, where) }; // signature event
  switch (arg.type) {
    case 'string':
    case '[]string':
      return { kind: 'data', field: name, operator, values: checkStrings(text, values, where) };
    case 'bool':
      for (const v of values) if (v !== 'true' && v !== 'false') throw new PolicyError(where, `"${text}": ${name} is a bool: use true or false, not "${v}"`);
      return { kind: 'data', field: name, operator, values };
    case 'int32': case 'uint32': case 'uint16': case 'int64': case 'uint64': case 'trace.Pointer': {
      const [lo, hi] = INT_RANGE[arg.type]!;
      const out = values.map((v) => {
        let n = parseInteger(v);
        if (n === undefined && arg.parser) {
          const named = parseNamedValue(arg.parser, v);
          if (named !== undefined) n = BigInt(named);
        }
        if (n === undefined) {
          throw new PolicyError(where, `"${text}": ${name} is ${arg.type === 'trace.Pointer' ? 'a pointer' : `an ${arg.type}`}: "${v}" is not ${arg.parser ? `a number or a ${arg.parser} name` : 'a number'}${/[*]/.test(v) ? ' (wildcards apply to strings only)' : ''}`);
        }
        if (n < lo || n > hi) throw new PolicyError(where, `"${text}": ${v} is out of range for ${name} (${arg.type})`);
        return String(n);
      });
      return { kind: 'data', field: name, operator, values: out };
    }
    default:
      throw new PolicyError(where, `"${text}": ${name} (${arg.type}) cannot be filtered; data filters apply to strings, string arrays, integers and bools`);
  }
}

function checkStrings(text: string, values: string[], where: Where): string[] {
  for (const v of values) {
    if (!stringMatchKind(v)) throw new PolicyError(where, `"${text}": "${v}" matches everything; give a prefix (abc*), a suffix (*abc) or a substring (*abc*)`);
  }
  return values;
}

function parseScopeRuleFilter(text: string, field: string, spelled: string, kind: ScopeFieldKind, operator: EventFilter['operator'] | '', rawValues: string, where: Where): EventFilter {
  if (kind === 'bool') {
    if (field === 'podSandbox') {
      if (operator !== '=' && operator !== '!=') throw new PolicyError(where, `"${text}": podSandbox takes = or != with true or false`);
      const values = splitValues(text, rawValues, where);
      if (values.length !== 1 || (values[0] !== 'true' && values[0] !== 'false')) throw new PolicyError(where, `"${text}": podSandbox takes true or false`);
      return { kind: 'scope', field, operator, values };
    }
    if (operator === '') return { kind: 'scope', field, operator: '=', values: [] };
    if (field === 'container' && operator === '=' && rawValues.trim() === 'started') return { kind: 'scope', field, operator: '=', values: ['started'] };
    if (field === 'container' && (operator === '=' || operator === '!=')) {
      // Older Tracee docs: container=<id>, i.e. the container id starts with <id>.
      const ids = splitValues(text, rawValues, where);
      for (const id of ids) if (!/^[0-9a-f]+$/i.test(id)) throw new PolicyError(where, `"${text}": container takes no value, =started, or a container id (hex), not "${id}"`);
      return { kind: 'scope', field: 'containerId', operator, values: ids.map((id) => `${id}*`) };
    }
    throw new PolicyError(where, `"${text}": ${field} takes no value${field === 'container' ? ' (or =started)' : ''}`);
  }
  if (operator === '') throw new PolicyError(where, `"${text}": ${field} needs an operator and a value`);
  const values = splitValues(text, rawValues, where);
  if (kind === 'string') {
    checkOperator(text, spelled, operator, EQUALITY_OPERATORS, where);
    return { kind: 'scope', field, operator, values: checkStrings(text, values, where) };
  }
  checkOperator(text, spelled, operator, ALL_OPERATORS, where);
  for (const v of values) {
    const n = parseInteger(v);
    if (n === undefined || !/^-?\d+$/.test(v)) throw new PolicyError(where, `"${text}": ${spelled} takes a number, not "${v}"`);
    if (n < -(2n ** 63n) || n >= 2n ** 64n) throw new PolicyError(where, `"${text}": ${v} is out of range for ${spelled}`);
  }
  return { kind: 'scope', field, operator, values };
}

/** Adds a filter to a rule's list, merging `=` filters on the same field (Tracee's OR of equalities). */
export function addRuleFilter(filters: EventFilter[], filter: EventFilter): void {
  if (filter.operator === '=' && filter.values.length > 0 && !(filter.kind === 'scope' && ruleScopeFieldKind(filter.field) === 'bool')) {
    const same = filters.find((f) => f.kind === filter.kind && f.field === filter.field && f.operator === '=' && f.values.length > 0);
    if (same) {
      for (const v of filter.values) if (!same.values.includes(v)) same.values.push(v);
      return;
    }
  }
  filters.push(filter);
}
