/**
 * Compiles Policy[] (host/policy/model.ts) and the kernel events each policy
 * wants into the contents of the kernel's policy and scope maps
 * (bpf/common/config.h), which KernelCapture.open({scope}) and
 * KernelCapture.applyScope() write. Scope filters then run in the kernel:
 * an event reaches user space only when some policy wants it and the task
 * matches that policy's scope, and each record's matchedPolicies has bit i
 * set for every such policy i.
 *
 * Semantics, as Tracee's: values of one expression are OR'd ("comm=a,b": a
 * or b; for "!=" that means the value is none of them), the expressions of a
 * policy are AND'd, policies are OR'd. Two "=" expressions on one field
 * intersect. `follow` adds the processes forked (after the policy is
 * applied) by a process matching the policy, whatever their own scope.
 *
 * Field values: uid (real uid), pid (host tgid), mntns/pidns (namespace
 * inode), tree (host pid: the process or a descendant), uts (hostname, first
 * 15 bytes), comm (first 15 bytes), executable (absolute path of the
 * executable, compared as an FNV-1a 64 hash of its bytes), container (bare:
 * any container; `new`: created after capture started; `started`; or a
 * container id), not-container. Containers are known by cgroup v2 id: the
 * `containers` option (default: a walk of the cgroup v2 tree for container
 * runtimes' cgroup names); call again and applyScope() when it changes.
 *
 * Pure: no kernel access except discoverContainerCgroups().
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TraceeError } from '../errors.ts';
import { MAX_POLICIES, type Operator, type Policy, type ScopeField } from '../policy/model.ts';

/** What the addon writes (native/loader.h ScopeImage). */
export interface KernelScopeImage {
  /** struct tr_scope_cfg (bpf/common/config.h); gen and ver are set by the addon. */
  config: Uint8Array;
  /** [event id, bitmap of the policies that want it]. */
  eventPolicies: Array<[number, bigint]>;
  /** Value-map entries: the policies whose "=" (eq) or "!=" (ne) sets list the value. */
  values: KernelScopeValue[];
}

export interface KernelScopeValue {
  field: number;
  /** bigint for numeric fields and hashes, string for uts/comm. */
  value: bigint | string;
  eq: bigint;
  ne: bigint;
  /** TR_CG_* for cgroups. */
  flags: bigint;
}

/** A container's cgroup, as the container resolver (enrichment) knows it. */
export interface ContainerCgroup {
  cgroupId: bigint;
  containerId: string;
  /** Created after the capture started (container=new). */
  isNew?: boolean;
  /** Its container has started (container=started). Default true. */
  started?: boolean;
}

export interface KernelScopeOptions {
  /** Container cgroups; default discoverContainerCgroups(). */
  containers?: readonly ContainerCgroup[];
}

/** A scope filter the kernel cannot apply: names the policy, field, operator and what is allowed. */
export class KernelScopeError extends TraceeError {
  constructor(message: string) {
    super('TRC_ERR_POLICY_SCOPE', message);
  }
}

/** enum tr_scope_field (bpf/common/config.h). */
export const FIELD = { uid: 0, pid: 1, mntns: 2, pidns: 3, uts: 4, comm: 5, cgroup: 6, tree: 7, executable: 8 } as const;
const FIELD_COUNT = 9;
const BIT_CONTAINER = 1 << 16;
const BIT_FOLLOW = 1 << 17;
export const CG_CONTAINER = 1n;
export const CG_NEW = 2n;
export const CG_STARTED = 4n;

/** Layout of struct tr_scope_cfg (bpf/common/config.h); the addon checks the size. */
const CFG = {
  policies: 0, fields: 16, eq: 24, ne: 24 + 8 * FIELD_COUNT, range: 24 + 16 * FIELD_COUNT,
  follow: 184, container: 192, containerNew: 200, containerStarted: 208, notContainer: 216,
  lo: 224, hi: 224 + 2 * 4 * MAX_POLICIES, size: 224 + 4 * 4 * MAX_POLICIES,
} as const;

const U32_MAX = 0xffffffff;
const STR_MAX = 15; // key bytes before the NUL

type NumField = 'uid' | 'pid';
const OPERATORS: Record<Exclude<ScopeField, 'global' | 'follow' | 'not-container'>, readonly Operator[]> = {
  uid: ['=', '!=', '<', '>', '<=', '>='], pid: ['=', '!=', '<', '>', '<=', '>='],
  mntns: ['=', '!='], pidns: ['=', '!='], tree: ['=', '!='], uts: ['=', '!='], comm: ['=', '!='],
  executable: ['=', '!='], container: ['=', '!='],
};

/** FNV-1a 64 of a path's UTF-8 bytes, as the kernel hashes executables (bpf/lib.bpf.c tr_path_hash). */
export function pathHash(path: string): bigint {
  let h = 14695981039346656037n;
  for (const b of Buffer.from(path, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 1099511628211n) & 0xffffffffffffffffn;
  }
  return h;
}

/** The first 15 bytes of a string, as the kernel keys comm and uts (never splitting a UTF-8 sequence). */
function key15(s: string): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= STR_MAX) return s;
  let n = STR_MAX;
  while (n > 0 && (b[n] & 0xc0) === 0x80) n--;
  return b.subarray(0, n).toString('utf8');
}

interface PolicyScope {
  eq: Map<number, Set<string>>;   // field -> allowed values (keys as strings)
  ne: Map<number, Set<string>>;
  lo: [number, number];
  hi: [number, number];
  ranged: [boolean, boolean];
  container: boolean;
  containerNew: boolean;
  containerStarted: boolean;
  notContainer: boolean;
  follow: boolean;
  containerIdsEq?: Set<string>;
  containerIdsNe: Set<string>;
}

function fail(p: Policy, msg: string): never {
  throw new KernelScopeError(`policy ${JSON.stringify(p.name)} (${p.origin}): scope ${msg}`);
}

function parseUint(p: Policy, field: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > U32_MAX) fail(p, `${field}: ${JSON.stringify(v)} is not an integer in [0, ${U32_MAX}]`);
  return Number(v);
}

function compilePolicy(p: Policy): PolicyScope {
  const s: PolicyScope = {
    eq: new Map(), ne: new Map(), lo: [0, 0], hi: [U32_MAX, U32_MAX], ranged: [false, false],
    container: false, containerNew: false, containerStarted: false, notContainer: false, follow: false,
    containerIdsNe: new Set(),
  };
  const addEq = (f: number, values: string[]) => {
    const prev = s.eq.get(f);
    s.eq.set(f, prev ? new Set(values.filter((v) => prev.has(v))) : new Set(values));
  };
  const addNe = (f: number, values: string[]) => {
    const set = s.ne.get(f) ?? new Set<string>();
    for (const v of values) set.add(v);
    s.ne.set(f, set);
  };
  for (const filter of p.scope) {
    const { field, operator, values } = filter;
    if (field === 'global') continue;
    if (field === 'follow' || field === 'not-container') {
      if (values.length) fail(p, `${field} takes no values, got ${values.join(',')}`);
      if (field === 'follow') s.follow = true;
      else s.notContainer = true;
      continue;
    }
    const allowed = OPERATORS[field];
    if (!allowed) fail(p, `field ${JSON.stringify(field)} is not one of: global, ${Object.keys(OPERATORS).join(', ')}, not-container, follow`);
    if (!allowed.includes(operator)) fail(p, `${field}${operator}: operator ${operator} is not allowed for ${field} (allowed: ${allowed.join(' ')})`);
    if (field === 'container') {
      if (values.length === 0) {
        if (operator !== '=') fail(p, 'container!= needs container ids');
        s.container = true;
        continue;
      }
      const ids: string[] = [];
      for (const v of values) {
        if (v === 'new' || v === 'started') {
          if (operator !== '=') fail(p, `container!=${v}: only container=${v} is allowed`);
          if (values.length > 1) fail(p, `container=${values.join(',')}: "${v}" cannot be combined with other values`);
          if (v === 'new') s.containerNew = true;
          else s.containerStarted = true;
        } else if (/^[0-9a-zA-Z][0-9a-zA-Z_.-]*$/.test(v)) {
          ids.push(v);
        } else {
          fail(p, `container: ${JSON.stringify(v)} is not a container id, "new" or "started"`);
        }
      }
      if (ids.length && operator === '=') {
        s.containerIdsEq = s.containerIdsEq ? new Set(ids.filter((i) => s.containerIdsEq!.has(i))) : new Set(ids);
      } else if (ids.length) {
        for (const i of ids) s.containerIdsNe.add(i);
      }
      continue;
    }
    if (values.length === 0) fail(p, `${field}${operator} needs at least one value`);
    const f = FIELD[field as keyof typeof FIELD];
    if (field === 'uid' || field === 'pid') {
      const nums = values.map((v) => parseUint(p, field, v));
      const which = field === 'uid' ? 0 : 1;
      if (operator === '=' || operator === '!=') {
        (operator === '=' ? addEq : addNe)(f, nums.map(String));
      } else {
        // values OR'd: one half-line, the loosest bound
        let lo = 0, hi = U32_MAX;
        if (operator === '<') hi = Math.max(...nums) - 1;
        else if (operator === '<=') hi = Math.max(...nums);
        else if (operator === '>') lo = Math.min(...nums) + 1;
        else lo = Math.min(...nums);
        s.lo[which] = Math.max(s.lo[which], lo);
        s.hi[which] = Math.min(s.hi[which], hi);
        s.ranged[which] = true;
      }
      continue;
    }
    let keys: string[];
    if (field === 'mntns' || field === 'pidns' || field === 'tree') keys = values.map((v) => String(parseUint(p, field, v)));
    else if (field === 'uts' || field === 'comm') keys = values.map(key15);
    else {
      for (const v of values) if (!v.startsWith('/')) fail(p, `executable: ${JSON.stringify(v)} is not an absolute path`);
      keys = values.map((v) => pathHash(v).toString());
    }
    (operator === '=' ? addEq : addNe)(f, keys);
  }
  return s;
}

/**
 * The map contents for `policies` (at most 64; policy i is bit i), where
 * `eventsByPolicy[i]` lists the kernel event ids policy i wants (its rules'
 * events and what its signatures need). Throws KernelScopeError.
 */
export function compileKernelScope(policies: readonly Policy[], eventsByPolicy: ReadonlyArray<Iterable<number>>,
  options: KernelScopeOptions = {}): KernelScopeImage {
  if (policies.length > MAX_POLICIES) throw new KernelScopeError(`${policies.length} policies: at most ${MAX_POLICIES} are allowed`);
  if (eventsByPolicy.length !== policies.length) {
    throw new KernelScopeError(`eventsByPolicy has ${eventsByPolicy.length} entries for ${policies.length} policies`);
  }
  const config = new Uint8Array(CFG.size);
  const dv = new DataView(config.buffer);
  const or64 = (at: number, bit: bigint) => dv.setBigUint64(at, dv.getBigUint64(at, true) | bit, true);
  const values = new Map<string, KernelScopeValue>();
  const value = (field: number, v: bigint | string): KernelScopeValue => {
    const k = `${field}:${typeof v}:${v}`;
    let e = values.get(k);
    if (!e) values.set(k, (e = { field, value: v, eq: 0n, ne: 0n, flags: 0n }));
    return e;
  };
  const events = new Map<number, bigint>();
  let fields = 0;
  let needContainers = false;
  const scopes = policies.map(compilePolicy);

  scopes.forEach((s, i) => {
    const bit = 1n << BigInt(i);
    or64(CFG.policies, bit);
    for (const id of eventsByPolicy[i]) events.set(id, (events.get(id) ?? 0n) | bit);
    for (const [sets, base, kind] of [[s.eq, CFG.eq, 'eq'], [s.ne, CFG.ne, 'ne']] as const) {
      for (const [f, keys] of sets) {
        fields |= 1 << f;
        or64(base + 8 * f, bit);
        for (const k of keys) {
          const e = value(f, f === FIELD.uts || f === FIELD.comm ? k : BigInt(k));
          e[kind] |= bit;
        }
      }
    }
    for (const which of [0, 1]) {
      if (!s.ranged[which]) continue;
      fields |= 1 << which;
      or64(CFG.range + 8 * which, bit);
    }
    for (const which of [0, 1]) {
      dv.setUint32(CFG.lo + 4 * (which * MAX_POLICIES + i), s.lo[which], true);
      dv.setUint32(CFG.hi + 4 * (which * MAX_POLICIES + i), s.hi[which], true);
    }
    if (s.follow) { fields |= BIT_FOLLOW; or64(CFG.follow, bit); }
    if (s.container) { fields |= BIT_CONTAINER; or64(CFG.container, bit); }
    if (s.containerNew) { fields |= BIT_CONTAINER; or64(CFG.containerNew, bit); }
    if (s.containerStarted) { fields |= BIT_CONTAINER; or64(CFG.containerStarted, bit); }
    if (s.notContainer) { fields |= BIT_CONTAINER; or64(CFG.notContainer, bit); }
    if (s.containerIdsEq) { fields |= 1 << FIELD.cgroup; or64(CFG.eq + 8 * FIELD.cgroup, bit); }
    if (s.containerIdsNe.size) { fields |= 1 << FIELD.cgroup; or64(CFG.ne + 8 * FIELD.cgroup, bit); }
    needContainers ||= s.container || s.containerNew || s.containerStarted || s.notContainer || !!s.containerIdsEq || s.containerIdsNe.size > 0;
  });

  if (needContainers) {
    const containers = options.containers ?? discoverContainerCgroups();
    for (const c of containers) {
      const e = value(FIELD.cgroup, c.cgroupId);
      e.flags |= CG_CONTAINER | (c.isNew ? CG_NEW : 0n) | (c.started === false ? 0n : CG_STARTED);
      scopes.forEach((s, i) => {
        const bit = 1n << BigInt(i);
        const matches = (ids: Iterable<string>) => [...ids].some((id) => c.containerId === id || (id.length >= 12 && c.containerId.startsWith(id)));
        if (s.containerIdsEq && matches(s.containerIdsEq)) e.eq |= bit;
        if (matches(s.containerIdsNe)) e.ne |= bit;
      });
    }
  }
  dv.setUint32(CFG.fields, fields, true);
  return { config, eventPolicies: [...events].sort((a, b) => a[0] - b[0]), values: [...values.values()] };
}

/** The scope image of "one policy, no filter, these events" (what open() uses without a scope). */
export function unscopedKernelScope(eventIds: Iterable<number>): KernelScopeImage {
  return compileKernelScope([{ name: 'default', description: '', scope: [], defaultActions: [], rules: [], origin: 'capture' }], [eventIds]);
}

const CONTAINER_CGROUP = [
  /^docker-([0-9a-f]{64})\.scope$/, /^cri-containerd-([0-9a-f]{64})\.scope$/, /^crio-([0-9a-f]{64})\.scope$/,
  /^libpod-(?!conmon-)([0-9a-f]{64})\.scope$/, /^([0-9a-f]{64})$/,
];

/** Where cgroup v2 is mounted, from /proc/self/mountinfo (undefined if nowhere). */
export function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [pre, post] = line.split(' - ');
      if (post?.startsWith('cgroup2 ')) return pre.split(' ')[4];
    }
  } catch { /* no procfs */ }
  return undefined;
}

/**
 * Container cgroups found by walking the cgroup v2 tree for the cgroup names
 * container runtimes use (docker-<id>.scope, cri-containerd-<id>.scope,
 * crio-<id>.scope, libpod-<id>.scope, a bare 64-hex id). The cgroup id is the
 * directory's inode number (cgroup v2). Enrichment may supply a better list.
 */
export function discoverContainerCgroups(root = cgroup2Mount()): ContainerCgroup[] {
  const out: ContainerCgroup[] = [];
  if (!root) return out;
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      const id = CONTAINER_CGROUP.map((re) => re.exec(e.name)?.[1]).find(Boolean);
      if (id) {
        try { out.push({ cgroupId: BigInt(statSync(path, { bigint: true }).ino), containerId: id, started: true }); } catch { /* gone */ }
      }
      walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}
