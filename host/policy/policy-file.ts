/**
 * Policy files: Tracee's YAML policies, read from `-p/--policy FILE|DIR`.
 *
 * Two shapes are accepted:
 * - `apiVersion: tracee.aquasec.com/v1beta1`, `kind: Policy`,
 *   `metadata: {name, annotations: {description}}`,
 *   `spec: {scope: [...], defaultActions: [...], rules: [{event, filters, actions}]}`
 *   (pkg/k8s/apis/tracee.aquasec.com/v1beta1);
 * - the older flat form `type: policy`, `name`, `description`, `scope`,
 *   `defaultActions`, `rules` (pkg/policy/policy_file.go before v0.14).
 *
 * A directory contributes its `*.yaml` / `*.yml` files (not recursive, in
 * name order); a file may hold several `---` documents, one policy each.
 * Every problem is a PolicyError naming the file, the field (with its line)
 * and what is allowed.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { PolicyError, didYouMean, type Where } from './policy-error.ts';
import { addScopeFilter, parseScopeExpression } from './scope.ts';
import { addRuleFilter, parseRuleFilter } from './rule-filter.ts';
import type { EventNames } from './event-names.ts';
import type { Policy, PolicyRule } from './model.ts';

export const API_VERSION = 'tracee.aquasec.com/v1beta1';
export const KIND = 'Policy';
/** Actions tracee-ts carries out: print the event (Tracee's "log"/"print"). */
export const ACTIONS = ['log', 'print'];

/** Reads every policy under `paths` (files or directories). */
export function readPolicyFiles(paths: readonly string[], names: EventNames): Policy[] {
  const policies: Policy[] = [];
  for (const path of paths) {
    for (const file of policyFilesOf(path)) policies.push(...readPolicyFile(file, names));
  }
  return policies;
}

function policyFilesOf(path: string): string[] {
  const where: Where = { origin: `--policy ${path}`, field: '' };
  if (path === '') throw new PolicyError(where, 'empty path');
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new PolicyError(where, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message, { cause: err });
  }
  if (!isDir) return [path];
  const files = readdirSync(path, { withFileTypes: true })
    .filter((d) => !d.isDirectory() && /\.ya?ml$/.test(d.name))
    .map((d) => join(path, d.name))
    .sort();
  if (files.length === 0) throw new PolicyError(where, 'the directory has no .yaml or .yml policy files');
  return files;
}

/** Reads the policies of one YAML file. */
export function readPolicyFile(file: string, names: EventNames): Policy[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError({ origin: `policy ${file}`, field: '' }, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  return parsePolicyText(text, file, names);
}

/** Parses the policies in YAML `text`; `file` names it in errors and in Policy.origin. */
export function parsePolicyText(text: string, file: string, names: EventNames): Policy[] {
  const origin = `policy ${file}`;
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const policies: Policy[] = [];
  list.forEach((doc, i) => {
    const multi = list.length > 1 ? `document ${i + 1}: ` : '';
    if (doc.errors.length) {
      const e = doc.errors[0];
      const pos = lines.linePos(e.pos[0]);
      throw new PolicyError({ origin, field: `line ${pos.line}, column ${pos.col}` }, `${multi}invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) return; // an empty document (e.g. after a trailing ---)
    const reader = new DocReader(origin, doc, lines, multi);
    policies.push(reader.policy(value, file, names));
  });
  if (policies.length === 0) throw new PolicyError({ origin, field: '' }, `no policy in the file (expected apiVersion: ${API_VERSION}, kind: ${KIND}, metadata and spec)`);
  return policies;
}

type Path = Array<string | number>;

/** Validates one document's value, locating errors by field path and line. */
class DocReader {
  constructor(private readonly origin: string, private readonly doc: Document, private readonly lines: LineCounter, private readonly prefix: string) {}

  where(path: Path): Where {
    let field = '';
    for (const p of path) field += typeof p === 'number' ? `[${p}]` : field ? `.${p}` : p;
    const node = path.length ? this.doc.getIn(path, true) as { range?: [number, number, number] } | undefined : undefined;
    const line = node?.range ? ` (line ${this.lines.linePos(node.range[0]).line})` : '';
    return { origin: this.origin, field: this.prefix + (field || 'document') + line };
  }

  fail(path: Path, problem: string): never {
    throw new PolicyError(this.where(path), problem);
  }

  policy(value: unknown, file: string, names: EventNames): Policy {
    const top = this.object(value, []);
    const k8s = 'apiVersion' in top || 'kind' in top || 'spec' in top || 'metadata' in top;
    if (k8s) return this.k8sPolicy(top, file, names);
    if ('type' in top || 'name' in top || 'rules' in top || 'scope' in top) return this.flatPolicy(top, file, names);
    this.fail([], `not a policy: expected apiVersion: ${API_VERSION}, kind: ${KIND}, metadata and spec`);
  }

  private k8sPolicy(top: Record<string, unknown>, file: string, names: EventNames): Policy {
    this.keys(top, [], ['apiVersion', 'kind', 'metadata', 'spec']);
    if (top.apiVersion !== API_VERSION) {
      const old = top.apiVersion === 'aquasecurity.github.io/v1beta1' ? ' (aquasecurity.github.io/v1beta1 is an older draft of the schema)' : '';
      this.fail(['apiVersion'], `${JSON.stringify(top.apiVersion ?? null)} is not supported (allowed: ${API_VERSION})${old}`);
    }
    if (top.kind !== KIND) this.fail(['kind'], `${JSON.stringify(top.kind ?? null)} is not supported (allowed: ${KIND})`);
    const metadata = this.object(top.metadata, ['metadata']);
    const name = this.string(metadata.name, ['metadata', 'name']);
    if (name.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
      this.fail(['metadata', 'name'], `"${name}" is not a valid name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253)`);
    }
    let description = '';
    if (metadata.annotations !== undefined) {
      const annotations = this.object(metadata.annotations, ['metadata', 'annotations']);
      if (annotations.description !== undefined) description = this.string(annotations.description, ['metadata', 'annotations', 'description'], true);
    }
    const spec = this.object(top.spec, ['spec']);
    this.keys(spec, ['spec'], ['scope', 'defaultActions', 'rules']);
    return this.body(name, description, spec, ['spec'], file, names);
  }

  private flatPolicy(top: Record<string, unknown>, file: string, names: EventNames): Policy {
    this.keys(top, [], ['type', 'name', 'description', 'scope', 'defaultActions', 'rules']);
    if (top.type !== undefined && top.type !== 'policy') this.fail(['type'], `${JSON.stringify(top.type)} is not supported (allowed: policy)`);
    const name = this.string(top.name, ['name']);
    const description = this.string(top.description, ['description'], true);
    return this.body(name, description, top, [], file, names);
  }

  private body(name: string, description: string, spec: Record<string, unknown>, base: Path, file: string, names: EventNames): Policy {
    const policy: Policy = { name, description, scope: [], defaultActions: [], rules: [], origin: file };
    const scope = this.list(spec.scope, [...base, 'scope'], 'scope entries such as global, uid=1000 or comm=bash');
    scope.forEach((entry, i) => {
      const path = [...base, 'scope', i];
      const text = this.string(entry, path);
      if (text.replace(/\s+/g, '') === 'global' && scope.length > 1) this.fail(path, 'global must be the only scope entry');
      const filter = parseScopeExpression(text, this.where(path));
      if (filter) addScopeFilter(policy.scope, filter);
    });
    if (spec.defaultActions !== undefined) policy.defaultActions = this.actions(spec.defaultActions, [...base, 'defaultActions']);
    const rules = this.list(spec.rules, [...base, 'rules'], 'rules, each {event, filters, actions}');
    const seen = new Map<string, number>();
    rules.forEach((r, i) => {
      const path = [...base, 'rules', i];
      policy.rules.push(this.rule(r, path, seen, i, names));
    });
    return policy;
  }

  private rule(value: unknown, path: Path, seen: Map<string, number>, index: number, names: EventNames): PolicyRule {
    const r = this.object(value, path, 'a rule {event, filters, actions}');
    this.keys(r, path, ['event', 'filters', 'actions']);
    const event = this.string(r.event, [...path, 'event']);
    const target = names.resolve(event);
    if (!target) {
      if (names.set(event)) this.fail([...path, 'event'], `unknown event "${event}": "${event}" is a set of events; a rule names one event (list them one rule each, or use --events ${event})`);
      this.fail([...path, 'event'], `unknown event "${event}"${didYouMean(event, names.suggestions())} (see "tracee list")`);
    }
    const first = seen.get(target.name);
    if (first !== undefined) this.fail([...path, 'event'], `event ${target.name} is already the subject of rules[${first}]; a policy has one rule per event (put all its filters in that rule)`);
    seen.set(target.name, index);
    const rule: PolicyRule = { event: target.name, filters: [] };
    if (r.filters !== undefined && r.filters !== null) {
      const filters = this.list(r.filters, [...path, 'filters'], 'filters such as data.pathname=/tmp*, retval<0 or comm=bash', true);
      filters.forEach((f, j) => {
        const fpath = [...path, 'filters', j];
        addRuleFilter(rule.filters, parseRuleFilter(this.string(f, fpath), target, this.where(fpath)));
      });
    }
    if (r.actions !== undefined && r.actions !== null) this.actions(r.actions, [...path, 'actions']);
    return rule;
  }

  private actions(value: unknown, path: Path): string[] {
    const list = this.list(value, path, 'actions', true);
    return list.map((a, i) => {
      const action = this.string(a, [...path, i]);
      if (!ACTIONS.includes(action)) {
        const known = ['webhook', 'forward'].includes(action) ? ` (tracee-ts sends output with --output; "${action}" is not a policy action here)` : '';
        this.fail([...path, i], `unknown action "${action}" (allowed: ${ACTIONS.join(', ')})${known}`);
      }
      return action;
    });
  }

  private object(value: unknown, path: Path, what = 'a mapping'): Record<string, unknown> {
    if (value === undefined) this.fail(path, `missing (expected ${what})`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, `expected ${what}, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  private list(value: unknown, path: Path, what: string, emptyOk = false): unknown[] {
    if (value === undefined || value === null) this.fail(path, `missing (expected a list of ${what})`);
    if (!Array.isArray(value)) this.fail(path, `expected a list of ${what}, got ${describe(value)}`);
    if (value.length === 0 && !emptyOk) this.fail(path, `cannot be empty (expected a list of ${what})`);
    return value;
  }

  private string(value: unknown, path: Path, emptyOk = false): string {
    if (value === undefined || value === null) this.fail(path, 'missing (expected a string)');
    if (typeof value !== 'string') this.fail(path, `expected a string, got ${describe(value)}`);
    if (!emptyOk && value.trim() === '') this.fail(path, 'cannot be empty');
    return value;
  }

  private keys(obj: Record<string, unknown>, path: Path, allowed: string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail([...path, key], `unknown field "${key}"${didYouMean(key, allowed)} (allowed: ${allowed.join(', ')})`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
