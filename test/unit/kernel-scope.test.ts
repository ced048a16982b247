import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKernelScope, pathHash, FIELD, CG_CONTAINER, CG_NEW, CG_STARTED, KernelScopeError, type KernelScopeImage } from '../../host/capture/kernel-scope.ts';
import type { Policy, ScopeFilter } from '../../host/policy/model.ts';

const policy = (name: string, ...scope: ScopeFilter[]): Policy => ({ name, description: '', scope, defaultActions: [], rules: [], origin: `${name}.yaml` });
const f = (field: ScopeFilter['field'], operator: ScopeFilter['operator'], ...values: string[]): ScopeFilter => ({ field, operator, values });

/** Reads struct tr_scope_cfg fields back (bpf/common/config.h layout). */
function cfg(image: KernelScopeImage) {
  const dv = new DataView(image.config.buffer, image.config.byteOffset, image.config.byteLength);
  const u64 = (at: number) => dv.getBigUint64(at, true);
  return {
    size: image.config.byteLength, policies: u64(0), fields: dv.getUint32(16, true),
    eq: (field: number) => u64(24 + 8 * field), ne: (field: number) => u64(96 + 8 * field), range: (w: number) => u64(168 + 8 * w),
    follow: u64(184), container: u64(192), containerNew: u64(200), containerStarted: u64(208), notContainer: u64(216),
    lo: (w: number, p: number) => dv.getUint32(224 + 4 * (64 * w + p), true), hi: (w: number, p: number) => dv.getUint32(736 + 4 * (64 * w + p), true),
  };
}
const value = (image: KernelScopeImage, field: number, v: bigint | string) => image.values.find((e) => e.field === field && e.value === v);

test('the config image is the size of the kernel struct, and each policy is its bit', () => {
  const image = compileKernelScope([policy('a'), policy('b')], [[257, 3], [3, 1010]]);
  const c = cfg(image);
  assert.equal(c.size, 1248);
  assert.equal(c.policies, 0b11n);
  assert.equal(c.fields, 0, 'no filters');
  assert.deepEqual(image.eventPolicies, [[3, 0b11n], [257, 0b01n], [1010, 0b10n]]);
});

test('values of an expression are ORed into one set; "=" sets of one field intersect; "!=" sets unite', () => {
  const image = compileKernelScope([
    policy('p0', f('comm', '=', 'bash', 'sh', 'zsh'), f('comm', '=', 'sh', 'zsh', 'dash')),
    policy('p1', f('comm', '!=', 'bash'), f('comm', '!=', 'sh')),
  ], [[1], [1]]);
  const c = cfg(image);
  assert.equal(c.fields, 1 << FIELD.comm);
  assert.equal(c.eq(FIELD.comm), 0b01n);
  assert.equal(c.ne(FIELD.comm), 0b10n);
  assert.equal(value(image, FIELD.comm, 'bash')?.eq, 0n, 'bash left the intersection');
  assert.equal(value(image, FIELD.comm, 'sh')?.eq, 0b01n);
  assert.equal(value(image, FIELD.comm, 'zsh')?.eq, 0b01n);
  assert.equal(value(image, FIELD.comm, 'dash'), undefined);
  assert.equal(value(image, FIELD.comm, 'bash')?.ne, 0b10n);
  assert.equal(value(image, FIELD.comm, 'sh')?.ne, 0b10n);
});

test('uid and pid comparisons become per-policy inclusive bounds, intersected across expressions', () => {
  const image = compileKernelScope([
    policy('p0', f('uid', '>=', '1000'), f('uid', '<', '2000')),
    policy('p1', f('pid', '>', '10', '5')),
    policy('p2', f('uid', '=', '0', '33')),
  ], [[1], [1], [1]]);
  const c = cfg(image);
  assert.equal(c.fields, (1 << FIELD.uid) | (1 << FIELD.pid));
  assert.equal(c.range(0), 0b001n);
  assert.equal(c.range(1), 0b010n);
  assert.deepEqual([c.lo(0, 0), c.hi(0, 0)], [1000, 1999]);
  assert.deepEqual([c.lo(1, 1), c.hi(1, 1)], [6, 0xffffffff], 'values ORed: the loosest bound');
  assert.equal(c.eq(FIELD.uid), 0b100n);
  assert.equal(value(image, FIELD.uid, 33n)?.eq, 0b100n);
});

test('namespaces, tree, uts and executable filters key their value maps', () => {
  const image = compileKernelScope([
    policy('p0', f('mntns', '=', '4026531841'), f('pidns', '!=', '4026531836'), f('tree', '=', '1234'),
      f('uts', '=', 'a-very-long-hostname-indeed'), f('executable', '=', '/usr/bin/ls')),
  ], [[1]]);
  const c = cfg(image);
  assert.equal(c.fields, (1 << FIELD.mntns) | (1 << FIELD.pidns) | (1 << FIELD.tree) | (1 << FIELD.uts) | (1 << FIELD.executable));
  assert.equal(value(image, FIELD.mntns, 4026531841n)?.eq, 1n);
  assert.equal(value(image, FIELD.pidns, 4026531836n)?.ne, 1n);
  assert.equal(value(image, FIELD.tree, 1234n)?.eq, 1n);
  assert.equal(value(image, FIELD.uts, 'a-very-long-hos')?.eq, 1n, 'the first 15 bytes, as the kernel keys them');
  assert.equal(value(image, FIELD.executable, pathHash('/usr/bin/ls'))?.eq, 1n);
});

test('pathHash is FNV-1a 64 over the UTF-8 bytes (the kernel hashes the same way)', () => {
  assert.equal(pathHash(''), 0xcbf29ce484222325n);
  assert.equal(pathHash('a'), 0xaf63dc4c8601ec8cn);
});

test('container, container=new, container=<id>, not-container and follow use the cgroup set from user space', () => {
  const id = 'ab'.repeat(32);
  const image = compileKernelScope([
    policy('any', f('container', '=')),
    policy('new', f('container', '=', 'new')),
    policy('one', f('container', '=', id.slice(0, 12))),
    policy('host', f('not-container', '=')),
    policy('kids', f('comm', '=', 'bash'), f('follow', '=')),
  ], [[1], [1], [1], [1], [1]], {
    containers: [{ cgroupId: 77n, containerId: id }, { cgroupId: 78n, containerId: 'cd'.repeat(32), isNew: true, started: false }],
  });
  const c = cfg(image);
  assert.equal(c.container, 0b00001n);
  assert.equal(c.containerNew, 0b00010n);
  assert.equal(c.notContainer, 0b01000n);
  assert.equal(c.follow, 0b10000n);
  assert.equal(c.eq(FIELD.cgroup), 0b00100n);
  assert.ok(c.fields & (1 << 16) && c.fields & (1 << 17) && c.fields & (1 << FIELD.cgroup));
  assert.deepEqual(value(image, FIELD.cgroup, 77n), { field: FIELD.cgroup, value: 77n, eq: 0b100n, ne: 0n, flags: CG_CONTAINER | CG_STARTED });
  assert.equal(value(image, FIELD.cgroup, 78n)?.flags, CG_CONTAINER | CG_NEW);
});

test('bad scopes are refused naming the policy, its file, the field and what is allowed', () => {
  const bad: Array<[ScopeFilter, RegExp]> = [
    [f('comm', '>', 'bash'), /policy "p" \(p\.yaml\): scope comm>: operator > is not allowed for comm \(allowed: = !=\)/],
    [f('uid', '=', 'root'), /uid: "root" is not an integer/],
    [f('executable', '=', 'ls'), /executable: "ls" is not an absolute path/],
    [f('follow', '=', 'x'), /follow takes no values/],
    [f('container', '!=', 'new'), /only container=new is allowed/],
    [f('mntns', '=',), /mntns= needs at least one value/],
    [{ field: 'nope' as ScopeFilter['field'], operator: '=', values: ['1'] }, /field "nope" is not one of/],
  ];
  for (const [filter, message] of bad) {
    assert.throws(() => compileKernelScope([policy('p', filter)], [[1]]), (err: unknown) => err instanceof KernelScopeError && err.code === 'TRC_ERR_POLICY_SCOPE' && message.test(err.message), String(message));
  }
  assert.throws(() => compileKernelScope(Array.from({ length: 65 }, (_, i) => policy(`p${i}`)), Array.from({ length: 65 }, () => [1])), /at most 64/);
});
