/**
 * Policy scope expressions (Tracee's docs/docs/policies/scopes.md and
 * `tracee --scope`): parsed, validated and normalised into ScopeFilter.
 *
 * Normal form, which the kernel scope maps and the user-space fallback both
 * read:
 * - field names are canonical: `p`→pid, `u`→uid, `c`→container,
 *   `exec`/`bin`/`binary`→executable, `!container`→not-container;
 * - `global` is not kept: a policy without scope filters is global;
 * - flag fields (`not-container`, `follow`, bare `container`) have operator
 *   '=' and no values; `container=new|started` and `pid=new` keep the word as
 *   their one value; `container=<id>` keeps the id (prefix of the full id);
 * - several `=` expressions on one field merge into one (Tracee: `-s pid=1
 *   -s pid=2` is pid 1 or 2); all other expressions are AND'd.
 */
import { PolicyError, didYouMean, type Where } from './policy-error.ts';
import { ALL_OPERATORS, EQUALITY_OPERATORS, checkOperator, parseInteger, splitExpression, splitValues, stringMatchKind } from './expression.ts';
import type { ScopeField, ScopeFilter } from './model.ts';

const ALIASES: Record<string, ScopeField> = {
  global: 'global', uid: 'uid', u: 'uid', pid: 'pid', p: 'pid', mntns: 'mntns', pidns: 'pidns', tree: 'tree',
  uts: 'uts', comm: 'comm', container: 'container', c: 'container', 'not-container': 'not-container',
  '!container': 'not-container', executable: 'executable', exec: 'executable', bin: 'executable', binary: 'executable',
  follow: 'follow',
};

/** The scope fields and their spellings, for error messages. */
export const SCOPE_FIELDS = 'global, uid (u), pid (p), mntns, pidns, tree, uts, comm, container (c), not-container, executable (exec, bin, binary), follow';

/** Numeric fields: their operators and the value range. */
const NUMERIC: Partial<Record<ScopeField, { operators: readonly typeof ALL_OPERATORS[number][]; what: string }>> = {
  uid: { operators: ALL_OPERATORS, what: 'a user id' },
  pid: { operators: ALL_OPERATORS, what: 'a process id (or "new")' },
  mntns: { operators: EQUALITY_OPERATORS, what: 'a mount namespace id' },
  pidns: { operators: EQUALITY_OPERATORS, what: 'a pid namespace id' },
  tree: { operators: EQUALITY_OPERATORS, what: 'a process id' },
};

const MAX_U32 = 0xffffffffn;
/** The kernel's TASK_COMM_LEN is 16 with the NUL; Tracee's kernel string filters hold 255 bytes. */
const MAX_COMM = 15;
const MAX_STRING = 255;

/**
 * Parses one scope expression. Returns undefined for `global` (no filter).
 * Throws PolicyError naming `where`, the expression and what is allowed.
 */
export function parseScopeExpression(text: string, where: Where): ScopeFilter | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact === '!container') return { field: 'not-container', operator: '=', values: [] }; // the flat form's spelling
  const expr = splitExpression(compact, where, text);
  const field = ALIASES[expr.field];
  if (!field) throw new PolicyError(where, `"${text}": unknown scope "${expr.field}"${didYouMean(expr.field, Object.keys(ALIASES))} (allowed: ${SCOPE_FIELDS})`);
  const { operator, rawValues } = expr;

  switch (field) {
    case 'global':
    case 'not-container':
    case 'follow':
      if (operator !== '') throw new PolicyError(where, `"${text}": ${field} takes no operator or value`);
      return field === 'global' ? undefined : { field, operator: '=', values: [] };
    case 'container': {
      if (operator === '') return { field, operator: '=', values: [] };
      checkOperator(text, field, operator, EQUALITY_OPERATORS, where);
      const values = splitValues(text, rawValues, where);
      if (values.some((v) => v === 'new' || v === 'started') && values.length > 1) {
        throw new PolicyError(where, `"${text}": "new" and "started" cannot be combined with other values`);
      }
      if (values[0] === 'started' && operator === '!=') throw new PolicyError(where, `"${text}": use not-container, or container=new, instead of container!=started`);
      for (const v of values) {
        if (v !== 'new' && v !== 'started' && !/^[0-9a-f]{1,64}$/i.test(v)) {
          throw new PolicyError(where, `"${text}": "${v}" is not a container id (hex), "new" or "started"`);
        }
      }
      return { field, operator, values };
    }
    case 'uid': case 'pid': case 'mntns': case 'pidns': case 'tree': {
      const spec = NUMERIC[field]!;
      if (operator === '') throw new PolicyError(where, `"${text}": ${field} needs an operator and ${spec.what} (e.g. ${field}=1000)`);
      checkOperator(text, field, operator, spec.operators, where);
      const values = splitValues(text, rawValues, where);
      if (field === 'pid' && values.includes('new')) {
        if (values.length > 1 || (operator !== '=' && operator !== '!=')) throw new PolicyError(where, `"${text}": "new" stands alone, with = or !=`);
        return { field, operator, values };
      }
      for (const v of values) {
        const n = parseInteger(v);
        if (n === undefined || !/^-?\d+$/.test(v)) throw new PolicyError(where, `"${text}": "${v}" is not a number (${field} takes ${spec.what})`);
        const signedOk = operator === '<' || operator === '>' ? n >= -1n : n >= 0n;
        if (!signedOk || n > MAX_U32) throw new PolicyError(where, `"${text}": ${v} is out of range for ${field} (0 to ${MAX_U32})`);
      }
      return { field, operator, values };
    }
    case 'uts': case 'comm': case 'executable': {
      if (operator === '') throw new PolicyError(where, `"${text}": ${field} needs = or != and a value (e.g. ${field}=${field === 'executable' ? '/usr/bin/ls' : 'bash'})`);
      checkOperator(text, field, operator, EQUALITY_OPERATORS, where);
      const values = splitValues(text, rawValues, where);
      for (const v of values) checkScopeString(text, field, v, where);
      return { field, operator, values };
    }
  }
  throw new PolicyError(where, `"${text}": unknown scope "${expr.field}" (allowed: ${SCOPE_FIELDS})`);
}

function checkScopeString(text: string, field: ScopeField, value: string, where: Where): void {
  const m = stringMatchKind(value);
  if (!m) throw new PolicyError(where, `"${text}": "${value}" matches everything; give a prefix (abc*) or suffix (*abc)`);
  if (m.kind === 'contains') throw new PolicyError(where, `"${text}": "${value}": contains (*abc*) is not supported in a scope, which is filtered in the kernel (use abc* or *abc)`);
  if (field === 'comm' && m.kind === 'exact' && Buffer.byteLength(value) > MAX_COMM) {
    throw new PolicyError(where, `"${text}": "${value}" is longer than ${MAX_COMM} bytes, the longest a process name (comm) can be`);
  }
  if (Buffer.byteLength(m.text) > MAX_STRING) throw new PolicyError(where, `"${text}": values are at most ${MAX_STRING} bytes`);
  if (field === 'executable') {
    const path = value.replace(/^(host|\d+):/, '');
    if (m.kind !== 'suffix' && !path.startsWith('/')) {
      throw new PolicyError(where, `"${text}": "${value}" is not an absolute path (optionally prefixed with host: or a mount namespace id and ":")`);
    }
  }
}

/**
 * Adds a parsed expression to a scope, merging `=` expressions on the same
 * field (not the flag-like container/pid words), as Tracee does.
 */
export function addScopeFilter(scope: ScopeFilter[], filter: ScopeFilter): void {
  const mergeable = filter.operator === '=' && filter.values.length > 0
    && !(filter.field === 'container') && !(filter.field === 'pid' && filter.values[0] === 'new');
  if (mergeable) {
    const same = scope.find((s) => s.field === filter.field && s.operator === '=' && s.values.length > 0 && !s.values.includes('new'));
    if (same) {
      for (const v of filter.values) if (!same.values.includes(v)) same.values.push(v);
      return;
    }
  }
  if (filter.values.length === 0 && scope.some((s) => s.field === filter.field && s.values.length === 0)) return; // repeated flag
  scope.push(filter);
}
