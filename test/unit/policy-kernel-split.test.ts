/**
 * Which policy scopes the kernel applies and which the policy filter applies
 * in user space, and what the kernel is asked for (with K's real scope
 * compiler).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKernelScope, KernelScopeError } from '../../host/capture/kernel-scope.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { EventNames } from '../../host/policy/event-names.ts';
import { parsePolicyText } from '../../host/policy/policy-file.ts';
import { compilePolicies, toBigInt } from '../../host/policy/plan.ts';
import { INTERNAL_POLICY_NAME, splitKernelScope } from '../../host/policy/kernel-split.ts';
import { PROCESS_TREE_EVENTS } from '../../host/enrich/process-tree.ts';
import type { Policy } from '../../host/policy/model.ts';

const names = new EventNames([{ id: 'TRC-102', eventName: 'anti_debugging', selectedEvents: ['ptrace'] }]);
const policy = (name: string, scope: string, rules = '    - event: openat\n') => parsePolicyText(
  `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata: {name: ${name}}\nspec:\n  scope: [${scope}]\n  rules:\n${rules}`, `${name}.yaml`, names)[0];
const kernelProblem = (p: Policy) => {
  try {
    compileKernelScope([p], [[]], { containers: [] });
    return undefined;
  } catch (err) {
    if (err instanceof KernelScopeError) return err.message;
    throw err;
  }
};
const id = (name: string) => eventByName(name)!.id;

test('scopes the kernel can express stay in the kernel; wildcards, pid=new and namespace prefixes go to user space', () => {
  const plan = compilePolicies([
    policy('plain', '"uid>=1000", "comm=bash,sh", follow'),
    policy('prefix', '"comm=ba*"'),
    policy('new-pids', '"pid=new"'),
    policy('host-exe', '"executable=host:/usr/bin/ls"'),
    policy('exe', '"executable=/usr/bin/ls"', '    - event: anti_debugging\n'),
  ], names);
  const split = splitKernelScope(plan, PROCESS_TREE_EVENTS, kernelProblem);
  assert.equal(toBigInt(split.kernelScoped), 0b10001n);
  assert.deepEqual(split.userScoped.map((u) => u.policy), ['prefix', 'new-pids', 'host-exe']);
  assert.match(split.userScoped[0].reason, /comm=ba\*: wildcards are matched in user space/);
  assert.deepEqual(split.policies.map((p) => p.scope.length), [3, 0, 0, 0, 1, 0], 'user-scoped policies reach the kernel without scope');
  assert.deepEqual(split.eventsByPolicy, [[id('openat')], [id('openat')], [id('openat')], [id('openat')], [id('ptrace')], [...PROCESS_TREE_EVENTS]],
    'a signature event becomes the events the signature needs; the last, internal policy asks for fork/exec/exit');
  assert.equal(split.policies[5].name, INTERNAL_POLICY_NAME);
  assert.deepEqual(split.eventIds, [id('ptrace'), id('openat'), ...PROCESS_TREE_EVENTS].sort((a, b) => a - b));

  const image = compileKernelScope(split.policies, split.eventsByPolicy, { containers: [] });
  const wants = new Map(image.eventPolicies);
  assert.equal(wants.get(id('openat')), 0b1111n);
  assert.equal(wants.get(id('sched_process_fork')), 1n << 5n);
});

test('a scope the kernel compiler rejects is applied in user space with its reason; unavailable events are left out', () => {
  const plan = compilePolicies([policy('a', 'global', '    - event: openat\n    - event: module_load\n')], names);
  const split = splitKernelScope(plan, PROCESS_TREE_EVENTS, () => 'the kernel says no', new Set([id('module_load')]));
  assert.deepEqual(split.userScoped, [{ policy: 'a', reason: 'the kernel says no' }]);
  assert.equal(toBigInt(split.kernelScoped), 0n);
  assert.deepEqual(split.eventsByPolicy[0], [id('openat')]);
});

test('64 policies leave no bit for the process tree', () => {
  const plan = compilePolicies(Array.from({ length: 64 }, (_, i) => policy(`p${i}`, 'global')), names);
  const split = splitKernelScope(plan, PROCESS_TREE_EVENTS, kernelProblem);
  assert.equal(split.treeEvents, false);
  assert.equal(split.policies.length, 64);
  assert.equal(toBigInt(split.kernelScoped), (1n << 64n) - 1n);
});
