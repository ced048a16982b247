/**
 * The process tree from synthetic fork/exec/exit records and a fake procfs:
 * parents, children, ancestry, executables over time, prev_comm, eviction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import { ProcessTree, PROCESS_TREE_EVENTS } from '../../host/enrich/process-tree.ts';
import { bootTimeNs, mountNamespaceOf, scanProc } from '../../host/enrich/proc-scan.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { traceeEvent } from '../helpers/events.ts';

type Ev = ReturnType<typeof traceeEvent>;
const S = 1_000_000_000;

function batch(...events: Ev[]): Uint8Array {
  const w = new BatchWriter();
  for (const e of events) w.add(e);
  return w.finish();
}

const ctx = (pid: number, t: number, comm = 'bash', tid = pid) => ({ hostProcessId: pid, hostThreadId: tid, processName: comm, timestamp: String(t) });
const fork = (parent: number, child: number, t: number, childTid = child) =>
  traceeEvent('sched_process_fork', [['child_pid', child], ['child_tid', childTid], ['start_time', String(t)]], ctx(parent, t));
const exec = (pid: number, path: string, comm: string, t: number, prevComm?: string) =>
  traceeEvent('sched_process_exec', [['pathname', path], ...(prevComm ? [['prev_comm', prevComm] as [string, unknown]] : [])], ctx(pid, t, comm));
const exit = (pid: number, t: number, group = true, tid = pid) =>
  traceeEvent('sched_process_exit', [['exit_code', 0], ['process_group_exit', group]], ctx(pid, t, 'x', tid));

test('the tree needs the fork, exec and exit events', () => {
  assert.deepEqual(PROCESS_TREE_EVENTS, ['sched_process_fork', 'sched_process_exec', 'sched_process_exit'].map((n) => eventByName(n)!.id));
});

test('forks add children that inherit name and executable; execs replace them; ancestry follows parents', () => {
  const tree = new ProcessTree();
  tree.update(batch(exec(100, '/usr/bin/bash', 'bash', 1), fork(100, 101, 2), fork(101, 102, 3), exec(102, '/usr/bin/ls', 'ls', 4, 'bash')));
  const child = tree.get(101)!;
  assert.equal(child.ppid, 100);
  assert.equal(child.comm, 'bash');
  assert.equal(child.executable, '/usr/bin/bash');
  assert.equal(child.startTime, 2n);
  assert.deepEqual([...tree.get(100)!.children], [101]);
  assert.deepEqual([...child.children], [102]);
  const ls = tree.get(102)!;
  assert.equal(ls.comm, 'ls');
  assert.equal(ls.executable, '/usr/bin/ls');
  assert.deepEqual(tree.ancestors(102), [101, 100, 1], 'up to the parent the exec record named');
  assert.ok(tree.descendsFrom(102, 100));
  assert.ok(tree.descendsFrom(102, 102));
  assert.ok(!tree.descendsFrom(100, 102));
  assert.deepEqual(tree.stats, { processes: 3, forks: 2, execs: 2, exits: 0, evicted: 0, procLookups: 0 });
});

test('a new thread is not a new process; a thread exit does not end its process', () => {
  const tree = new ProcessTree();
  tree.update(batch(exec(200, '/bin/app', 'app', 1), fork(200, 200, 2, 201), exit(200, 3, false, 201)));
  assert.equal(tree.size, 1);
  assert.equal(tree.get(200)!.exitTime, undefined);
  tree.update(batch(exit(200, 4)));
  assert.equal(tree.get(200)!.exitTime, 4n);
});

test('an event is described with the executable it ran, even when the exec that replaced it follows in the batch', () => {
  const tree = new ProcessTree();
  tree.update(batch(exec(300, '/bin/sh', 'sh', 10 * S), exec(300, '/usr/bin/python3', 'python3', 20 * S, 'sh')));
  assert.equal(tree.executableAt(300, BigInt(15 * S)), '/bin/sh');
  assert.equal(tree.executableAt(300, BigInt(25 * S)), '/usr/bin/python3');
  assert.equal(tree.executableAt(300, 1n), '', 'before the first exec seen: what it was then (unknown)');
  assert.equal(tree.prevCommAt(300, BigInt(20 * S)), 'sh');
  assert.equal(tree.executableAt(999, 1n), undefined);
});

test('decoding fills executable.path and, when the record lacks it, prev_comm', () => {
  const tree = new ProcessTree();
  const b = batch(exec(400, '/bin/sh', 'sh', 1), traceeEvent('openat', [['pathname', '/etc/passwd']], ctx(400, 2, 'sh')), exec(400, '/usr/bin/id', 'id', 3));
  tree.update(b);
  const header = readBatchHeader(b);
  const decoded: ReturnType<typeof decodeEvent>[] = [];
  forEachRecord(b, header, (at) => decoded.push(decodeEvent(b, at, header, { processes: tree })));
  assert.deepEqual(decoded.map((e) => e.executable.path), ['/bin/sh', '/bin/sh', '/usr/bin/id']);
  const prev = decoded[2].args.find((a) => a.name === 'prev_comm');
  assert.deepEqual(prev, { name: 'prev_comm', type: 'string', value: 'sh' });
  assert.deepEqual(decoded[2].args.map((a) => a.name), ['pathname', 'prev_comm'], 'in catalogue order');
  assert.equal(decoded[2].argsNum, 2);
  assert.equal(decodeEvent(b, 24, header).executable.path, '', 'no tree: empty, as before');
});

test('exited processes are evicted after the grace period; a reused pid starts afresh', () => {
  const tree = new ProcessTree({ graceNs: 5n * BigInt(S) });
  tree.update(batch(exec(500, '/bin/a', 'a', 1 * S), fork(500, 501, 2 * S), exit(501, 3 * S)));
  tree.update(batch(traceeEvent('sched_process_exec', [['pathname', '/bin/b']], ctx(500, 7 * S, 'b'))));
  assert.ok(tree.get(501), 'exited 4 s ago: still there for late events');
  tree.update(batch(traceeEvent('sched_process_exec', [['pathname', '/bin/c']], ctx(500, 9 * S, 'c'))));
  assert.equal(tree.get(501), undefined);
  assert.deepEqual([...tree.get(500)!.children], []);
  assert.equal(tree.stats.evicted, 1);
  tree.update(batch(fork(500, 502, 10 * S), fork(500, 502, 11 * S)));
  assert.equal(tree.get(502)!.startTime, BigInt(11 * S));
});

test('memory is bounded: past maxProcesses the longest-exited, then the oldest, go first', () => {
  const tree = new ProcessTree({ maxProcesses: 100 });
  const events: Ev[] = [exec(1, '/sbin/init', 'init', 1)];
  for (let i = 0; i < 300; i++) events.push(fork(1, 1000 + i, 10 + i));
  events.push(exit(1299, 1000));
  tree.update(batch(...events));
  assert.ok(tree.size <= 100, `${tree.size} processes kept`);
  assert.equal(tree.get(1299), undefined, 'the exited one went first');
  assert.ok(tree.get(1298), 'the newest live ones stay');
});

test('the /proc scan reads parents, names, start times and executables; misses are looked up once', () => {
  const root = mkdtempSync(join(tmpdir(), 'fake-proc-'));
  const proc = (pid: number, ppid: number, comm: string, ticks: number, exe?: string) => {
    mkdirSync(join(root, String(pid)));
    const rest = ['S', ppid, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, ticks, 0, 0].join(' '); // starttime is field 22
    writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) ${rest}\n`);
    if (exe) symlinkSync(exe, join(root, String(pid), 'exe'));
  };
  proc(1, 0, 'systemd', 2, '/usr/lib/systemd/systemd');
  proc(42, 1, 'my (weird) name', 500, '/opt/app/bin/app');
  proc(43, 2, 'kworker/0:1', 600);
  writeFileSync(join(root, 'uptime'), '12345.67 100.00\n');
  mkdirSync(join(root, 'self'));

  const entries = scanProc(root);
  assert.deepEqual(entries.map((e) => [e.pid, e.ppid, e.comm, e.executable, e.startTime]).sort((a, b) => Number(a[0]) - Number(b[0])), [
    [1, 0, 'systemd', '/usr/lib/systemd/systemd', 20_000_000n],
    [42, 1, 'my (weird) name', '/opt/app/bin/app', 5_000_000_000n],
    [43, 2, 'kworker/0:1', '', 6_000_000_000n],
  ]);
  const tree = new ProcessTree();
  assert.equal(tree.scan(root), 3);
  assert.deepEqual([...tree.get(1)!.children], [42]);
  assert.equal(tree.executableAt(42, 1n), '/opt/app/bin/app');
  assert.equal(bootTimeNs(root), 12_345_670_000_000n);

  const lazy = new ProcessTree({ procRoot: root });
  assert.equal(lazy.get(42)!.comm, 'my (weird) name');
  assert.equal(lazy.get(77), undefined);
  assert.equal(lazy.get(77), undefined);
  assert.equal(lazy.stats.procLookups, 1);
});

test('the real /proc: this process, its parent and the host mount namespace', () => {
  const tree = new ProcessTree();
  assert.ok(tree.scan() > 1);
  const me = tree.get(process.pid)!;
  assert.equal(me.ppid, process.ppid);
  assert.equal(me.executable, process.execPath);
  assert.ok(me.startTime > 0n && me.startTime <= bootTimeNs());
  assert.ok(tree.descendsFrom(process.pid, process.ppid));
  assert.ok((mountNamespaceOf(process.pid) ?? 0) > 0);
});
