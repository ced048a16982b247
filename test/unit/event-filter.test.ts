/**
 * The user-space policy stage on synthetic flat batches: rule filters (data,
 * retval, scope fields) read in place, per-policy bits, dropped records,
 * signature inputs, scopes evaluated in user space, and detections gated by
 * the policies that select their signature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { forEachRecord, readBatchHeader, decodeEvent, viewOf } from '../../host/events/batch-reader.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { CTX } from '../../host/events/layout.ts';
import { EventNames } from '../../host/policy/event-names.ts';
import { loadPolicies } from '../../host/policy/load.ts';
import { parsePolicyText } from '../../host/policy/policy-file.ts';
import { compilePolicies, bit, type Bits } from '../../host/policy/plan.ts';
import { PolicyFilter, type PolicyFilterOptions } from '../../host/policy/filter-stage.ts';
import { ProcessTree } from '../../host/enrich/process-tree.ts';
import type { Finding } from '../../host/engine/finding.ts';
import type { SignatureMetadata } from '../../host/engine/metadata.ts';
import type { Policy } from '../../host/policy/model.ts';
import { traceeEvent } from '../helpers/events.ts';

const names = new EventNames([{ id: 'TRC-102', eventName: 'anti_debugging', selectedEvents: ['ptrace'] }]);

type Ev = ReturnType<typeof traceeEvent>;

/** A batch of events; `kernelBits[i]` sets record i's matchedPolicies as in-kernel scope would. */
function batchOf(events: Ev[], kernelBits?: bigint[], containers?: ContainerTable): Uint8Array {
  const w = new BatchWriter();
  for (const e of events) w.add(e, containers?.refFor(e.containerId ?? '') ?? 0);
  const batch = w.finish();
  if (kernelBits) {
    const v = viewOf(batch);
    forEachRecord(batch, readBatchHeader(batch), (at, i) => v.setBigUint64(at + CTX.matchedPolicies, kernelBits[i] ?? 0n, true));
  }
  return batch;
}

function cliFilter(scope: string[], events: string[], options: PolicyFilterOptions = {}) {
  return stageFor(loadPolicies({ policyPaths: [], scope, events }, names), options);
}

function stageFor(policies: Policy[], options: PolicyFilterOptions = {}) {
  const plan = compilePolicies(policies, names);
  return { plan, filter: new PolicyFilter(plan, options) };
}

const yamlPolicies = (...docs: string[]) => docs.flatMap((d, i) => parsePolicyText(d, `p${i}.yaml`, names));
const k8s = (name: string, scope: string, rules: string) =>
  `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata: {name: ${name}}\nspec:\n  scope: [${scope}]\n  rules:\n${rules}`;

/** What the stage kept: [eventName, processName, matchedPolicies bits, printed policy names]. */
function run(filter: PolicyFilter, batch: Uint8Array) {
  const kept = filter.process(batch);
  if (!kept) return [];
  const header = readBatchHeader(kept);
  const printed = new Map<number, string[]>();
  filter.forEachPrinted((at, p) => printed.set(at, p));
  const out: Array<[string, string, bigint, string[] | undefined]> = [];
  forEachRecord(kept, header, (at) => {
    const e = decodeEvent(kept, at, header);
    out.push([e.eventName, e.processName, viewOf(kept).getBigUint64(at + CTX.matchedPolicies, true), printed.get(at)]);
  });
  return out;
}

const open = (pathname: string, ctx: Record<string, unknown> = {}) => traceeEvent('openat', [['dirfd', -100], ['pathname', pathname], ['flags', 0]], ctx);

test('data filters on strings: exact, prefix, suffix, contains and != compare the bytes in place', () => {
  const events = ['/tmp/a', '/etc/shadow', '/var/pass/x', '/tmp', '/home/u/.bashrc'].map((p) => open(p));
  const paths = (expr: string) => run(cliFilter([], [`openat.data.pathname${expr}`]).filter, batchOf(events)).length;
  assert.equal(paths('=/tmp*'), 2);
  assert.equal(paths('=*shadow'), 1);
  assert.equal(paths('=*pass*'), 1);
  assert.equal(paths('=/tmp'), 1);
  assert.equal(paths('=/tmp/a,/etc/shadow'), 2);
  assert.equal(paths('!=/tmp*'), 3);
  assert.equal(paths('!=/tmp*,*shadow'), 2);
  assert.equal(paths('=/nothing'), 0);
});

test('a filtered record is dropped and counted; kept records are compacted with a valid header', () => {
  const { filter } = cliFilter([], ['openat.data.pathname=/tmp*']);
  const batch = batchOf([open('/etc/a'), open('/tmp/b'), open('/etc/c'), open('/tmp/d')]);
  const kept = filter.process(batch)!;
  const header = readBatchHeader(kept);
  assert.equal(header.count, 2);
  assert.equal(header.byteLength, kept.byteLength);
  const seen: string[] = [];
  forEachRecord(kept, header, (at) => seen.push(String(decodeEvent(kept, at, header).args.find((a) => a.name === 'pathname')?.value)));
  assert.deepEqual(seen, ['/tmp/b', '/tmp/d']);
  assert.deepEqual(filter.stats, { events: 4, passed: 2, filtered: 2, internal: 0, malformed: 0 });
  assert.equal(filter.process(batchOf([open('/etc/x')])), undefined, 'nothing left: no batch');

  const broken = batchOf([open('/tmp/1'), open('/tmp/2'), open('/tmp/3')]);
  const second = 24 + viewOf(broken).getUint32(24, true);
  viewOf(broken).setUint32(second, 12, true); // a record size that is not a multiple of 8
  assert.equal(readBatchHeader(filter.process(broken)!).count, 1);
  assert.equal(filter.stats.malformed, 2, 'the bad record and the one after it are counted');
});

test('data filters on string arrays match any element; absent arguments never match', () => {
  const exec = (argv: string[] | undefined) => traceeEvent('execve', argv ? [['pathname', '/bin/x'], ['argv', argv]] : [['pathname', '/bin/x']]);
  const batch = () => batchOf([exec(['nc', '-l']), exec(['ls', '-la']), exec(undefined)]);
  assert.equal(run(cliFilter([], ['execve.data.argv=-l*']).filter, batch()).length, 2);
  assert.equal(run(cliFilter([], ['execve.data.argv=nc']).filter, batch()).length, 1);
  assert.equal(run(cliFilter([], ['execve.data.argv!=nc']).filter, batch()).length, 1);
});

test('integer data filters: named values, negative int32, exact 64-bit values', () => {
  const ptrace = (request: number) => traceeEvent('ptrace', [['request', request], ['pid', 7]]);
  assert.equal(run(cliFilter([], ['ptrace.data.request=PTRACE_TRACEME,PTRACE_ATTACH']).filter, batchOf([ptrace(0), ptrace(16), ptrace(4)])).length, 2);
  assert.equal(run(cliFilter([], ['ptrace.data.request!=PTRACE_TRACEME']).filter, batchOf([ptrace(0), ptrace(16)])).length, 1);
  assert.equal(run(cliFilter([], ['openat.data.dirfd=-100']).filter, batchOf([open('/a'), traceeEvent('openat', [['dirfd', 3], ['pathname', '/b']])])).length, 1);
  const file = (ctime: string) => traceeEvent('security_file_open', [['pathname', '/x'], ['flags', 0], ['ctime', ctime]]);
  const big = '1732000000123456789'; // beyond 2^53
  assert.equal(run(cliFilter([], [`security_file_open.data.ctime=${big}`]).filter, batchOf([file(big), file('1732000000123456788')])).length, 1);
  assert.equal(run(cliFilter([], ['security_file_open.data.flags=O_WRONLY|O_CREAT']).filter, batchOf([
    traceeEvent('security_file_open', [['pathname', '/x'], ['flags', 65]]), traceeEvent('security_file_open', [['pathname', '/x'], ['flags', 1]]),
  ])).length, 1);
});

test('retval filters compare the signed return value', () => {
  const close = (ret: number) => traceeEvent('close', [['fd', 3]], { returnValue: ret });
  const count = (expr: string) => run(cliFilter([], [`close.retval${expr}`]).filter, batchOf([close(-9), close(0), close(1), close(5)])).length;
  assert.equal(count('<0'), 1);
  assert.equal(count('!=0'), 3);
  assert.equal(count('>=1'), 2);
  assert.equal(count('=0,5'), 2);
  assert.equal(count('>0'), 2);
  assert.equal(count('<=-9'), 1);
});

test('scope fields in rule filters: comm, uid ranges, hostName, syscall, cgroupId, containers', () => {
  const containers = new ContainerTable();
  containers.update('abcdef0123456789', { name: 'web', image: 'nginx:1.27' });
  const events = [
    open('/a', { processName: 'cat', userId: 0, hostName: 'node-1', syscall: 'openat', cgroupId: 5247 }),
    open('/b', { processName: 'vim', userId: 1000, hostName: 'node-2', syscall: 'open', cgroupId: 1 }),
    open('/c', { processName: 'cat', userId: 1001, containerId: 'abcdef0123456789', contextFlags: { containerStarted: true, isCompat: false } }),
  ];
  const count = (expr: string) => run(cliFilter([], [`openat.scope.${expr}`], { containers }).filter, batchOf(events, undefined, containers)).length;
  assert.equal(count('comm=cat'), 2);
  assert.equal(count('processName!=cat'), 1);
  assert.equal(count('uid>=1000'), 2);
  assert.equal(count('userId<1000'), 1);
  assert.equal(count('hostName=node-*'), 2);
  assert.equal(count('syscall=openat'), 1);
  assert.equal(count('cgroupId=5247'), 1);
  assert.equal(count('container'), 1);
  assert.equal(count('host'), 2);
  assert.equal(count('containerName=web'), 1);
  assert.equal(count('containerImage=nginx*'), 1);
  assert.equal(count('containerName!=web'), 2, '!= lets host events through');
  assert.equal(count('container=started'), 1);
});

test('each policy is a bit: rule filters clear only their policy; records print for the policies they passed', () => {
  const policies = yamlPolicies(
    k8s('tmp-opens', 'global', '    - event: openat\n      filters: [data.pathname=/tmp*]\n'),
    k8s('cat-opens', 'global', '    - event: openat\n      filters: [comm=cat]\n'),
    k8s('all-closes', 'global', '    - event: close\n'),
  );
  const { filter } = stageFor(policies);
  const rows = run(filter, batchOf([
    open('/tmp/x', { processName: 'cat' }), open('/tmp/y', { processName: 'vim' }), open('/etc/z', { processName: 'cat' }),
    open('/etc/w', { processName: 'vim' }), traceeEvent('close', [['fd', 1]]),
  ]));
  assert.deepEqual(rows.map(([e, c, b, p]) => [e, c, b, p]), [
    ['openat', 'cat', 0b011n, ['tmp-opens', 'cat-opens']],
    ['openat', 'vim', 0b001n, ['tmp-opens']],
    ['openat', 'cat', 0b010n, ['cat-opens']],
    ['close', 'trigger', 0b100n, ['all-closes']],
  ]);
  assert.equal(filter.stats.filtered, 1);
});

test('an event a selected signature needs is kept for it (not printed) even when the policy\'s own rule rejects it', () => {
  const { filter, plan } = cliFilter([], ['ptrace.data.request=PTRACE_ATTACH', 'anti_debugging']);
  assert.deepEqual(plan.eventIds, [101]);
  assert.deepEqual(plan.kernelPolicies[0].rules, [{ event: 'ptrace', filters: [] }], 'the kernel must deliver every ptrace for the signature');
  const rows = run(filter, batchOf([traceeEvent('ptrace', [['request', 0]]), traceeEvent('ptrace', [['request', 16]])]));
  assert.deepEqual(rows.map(([, , b, p]) => [b, p]), [[1n, undefined], [1n, ['']]]);
  assert.equal(filter.stats.filtered, 0);
});

test('events no policy selects (process-tree input) are dropped as internal, not as filtered', () => {
  const { filter } = cliFilter([], ['openat']);
  const kept = run(filter, batchOf([traceeEvent('sched_process_fork', [['child_pid', 5], ['child_tid', 5]]), open('/x')]));
  assert.equal(kept.length, 1);
  assert.deepEqual(filter.stats, { events: 2, passed: 1, filtered: 0, internal: 1, malformed: 0 });
});

test('kernel-scoped policies keep the bits the kernel set; the others are evaluated here', () => {
  const policies = yamlPolicies(
    k8s('kernel-scoped', 'comm=cat', '    - event: openat\n'),
    k8s('user-scoped', 'comm=vim', '    - event: openat\n'),
  );
  const { filter } = stageFor(policies, { kernelScope: bit(0) as Bits });
  const rows = run(filter, batchOf([open('/a', { processName: 'cat' }), open('/b', { processName: 'vim' }), open('/c', { processName: 'cat' })], [1n, 0n, 0n]));
  assert.deepEqual(rows.map(([, c, b]) => [c, b]), [['cat', 1n], ['vim', 2n]], 'record 3 lacks the kernel bit: out of scope');

  // A record the kernel sent only for the process tree (no policy bit) is internal, not filtered.
  const exec = (comm: string) => traceeEvent('sched_process_exec', [['pathname', '/bin/x']], { processName: comm });
  const only = stageFor(yamlPolicies(k8s('execs', 'comm=cat', '    - event: sched_process_exec\n')), { kernelScope: bit(0) as Bits }).filter;
  assert.equal(run(only, batchOf([exec('cat'), exec('vim')], [1n, 2n])).length, 1);
  assert.deepEqual(only.stats, { events: 2, passed: 1, filtered: 0, internal: 1, malformed: 0 });
});

test('user-space scopes: uid, pid, comm, uts, mntns, not-container and container ids', () => {
  const containers = new ContainerTable();
  const evs = [
    open('/1', { userId: 0, hostProcessId: 100, hostThreadId: 100, processName: 'bash', hostName: 'h1', mountNamespace: 11 }),
    open('/2', { userId: 1000, hostProcessId: 200, hostThreadId: 201, processName: 'sh', hostName: 'h2', mountNamespace: 12 }),
    open('/3', { userId: 1001, hostProcessId: 300, hostThreadId: 300, processName: 'bash', containerId: 'feedbeef00', contextFlags: { containerStarted: true, isCompat: false } }),
  ];
  const count = (...scope: string[]) => run(cliFilter(scope, ['openat'], { containers }).filter, batchOf(evs, undefined, containers)).length;
  assert.equal(count('uid=0'), 1);
  assert.equal(count('uid>0'), 2);
  assert.equal(count('uid>0', 'uid!=1000'), 1);
  assert.equal(count('pid=201'), 1, 'a tid selects its thread');
  assert.equal(count('pid=100,300'), 2);
  assert.equal(count('pid<250'), 2);
  assert.equal(count('comm=bash'), 2);
  assert.equal(count('comm!=bash'), 1);
  assert.equal(count('comm=ba*'), 2);
  assert.equal(count('uts=h2'), 1);
  assert.equal(count('mntns=11'), 1);
  assert.equal(count('not-container'), 2);
  assert.equal(count('container'), 1);
  assert.equal(count('container=feed'), 1);
  assert.equal(count('container!=feed'), 2);
  assert.equal(count('container=started'), 1);
  assert.equal(count('comm=bash', 'not-container'), 1);
  const { filter } = cliFilter(['comm=bash'], ['openat'], { containers });
  run(filter, batchOf(evs, undefined, containers));
  assert.deepEqual(filter.stats, { events: 3, passed: 2, filtered: 1, internal: 0, malformed: 0 });
});

test('user-space scopes with the process tree: tree, executable and follow', () => {
  const tree = new ProcessTree();
  const fork = (parent: number, child: number, t: number) => traceeEvent('sched_process_fork', [['child_pid', child], ['child_tid', child], ['start_time', t]],
    { hostProcessId: parent, hostThreadId: parent, timestamp: t, processName: 'bash' });
  const exec = (pid: number, path: string, comm: string, t: number) => traceeEvent('sched_process_exec', [['pathname', path]],
    { hostProcessId: pid, hostThreadId: pid, processName: comm, timestamp: t, mountNamespace: 4026531841 });
  const ev = (pid: number, comm: string, t: number) => open(`/from/${pid}`, { hostProcessId: pid, hostThreadId: pid, processName: comm, timestamp: t, mountNamespace: 4026531841 });
  const setup = batchOf([exec(10, '/usr/bin/bash', 'bash', 1), fork(10, 11, 2), exec(11, '/usr/bin/ls', 'ls', 3), fork(11, 12, 4), fork(20, 21, 5)]);
  tree.update(setup);
  const later = () => batchOf([ev(10, 'bash', 10), ev(11, 'ls', 11), ev(12, 'ls', 12), ev(21, 'x', 13)]);
  const rows = (...scope: string[]) => {
    const { filter } = cliFilter(scope, ['openat'], { processes: tree, hostMountNs: 4026531841 });
    filter.process(setup.slice());
    return run(filter, later()).map(([, c]) => c);
  };
  assert.deepEqual(rows('tree=11'), ['ls', 'ls']);
  assert.deepEqual(rows('tree=10'), ['bash', 'ls', 'ls']);
  assert.deepEqual(rows('tree!=10'), ['x']);
  assert.deepEqual(rows('executable=/usr/bin/ls'), ['ls', 'ls']);
  assert.deepEqual(rows('executable=host:/usr/bin/bash'), ['bash']);
  assert.deepEqual(rows('executable=4026532448:/usr/bin/bash'), []);
  assert.deepEqual(rows('exec=/usr/bin/*'), ['bash', 'ls', 'ls']);

  // follow: bash is in scope by name; its children follow it, including those forked later.
  const { filter } = cliFilter(['comm=bash', 'follow'], ['openat'], { processes: tree });
  assert.deepEqual(run(filter, batchOf([ev(10, 'bash', 20), fork(10, 13, 21), ev(13, 'cat', 22), ev(11, 'ls', 23), ev(21, 'x', 24)])).map(([, c]) => c), ['bash', 'cat', 'ls']);
  const noFollow = cliFilter(['comm=bash'], ['openat'], { processes: tree }).filter;
  assert.deepEqual(run(noFollow, batchOf([ev(10, 'bash', 20), ev(11, 'ls', 23)])).map(([, c]) => c), ['bash']);
});

test('detections are reported for the policies that select the signature and whose filters pass', () => {
  const policies = yamlPolicies(
    k8s('bash-only', 'comm=bash', '    - event: anti_debugging\n'),
    k8s('everyone', 'global', '    - event: anti_debugging\n      filters: [data.tool=gdb*]\n'),
    k8s('prints-ptrace', 'global', '    - event: ptrace\n'),
  );
  const { filter } = stageFor(policies);
  const kept = filter.process(batchOf([traceeEvent('ptrace', [['request', 0]], { processName: 'bash' }), traceeEvent('ptrace', [['request', 0]], { processName: 'strace' })]))!;
  const header = readBatchHeader(kept);
  const records: Uint8Array[] = [];
  forEachRecord(kept, header, (at) => records.push(kept.slice(at, at + viewOf(kept).getUint32(at, true))));
  const signature = { eventName: 'anti_debugging', id: 'TRC-102' } as SignatureMetadata;
  const finding = (record: Uint8Array, data: Record<string, string>): Finding => ({ signature, record, clockOffsetNs: 0n, data });
  assert.deepEqual(filter.findingPolicies(finding(records[0], { tool: 'gdb-multiarch' })), ['bash-only', 'everyone']);
  assert.deepEqual(filter.findingPolicies(finding(records[0], { tool: 'strace' })), ['bash-only']);
  assert.deepEqual(filter.findingPolicies(finding(records[1], { tool: 'strace' })), [], 'strace is out of bash-only\'s scope; everyone\'s filter rejects it');
  assert.deepEqual(filter.findingPolicies({ ...finding(records[0], {}), signature: { eventName: 'other' } as SignatureMetadata }), []);
});
