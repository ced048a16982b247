/**
 * Scope filters run in the kernel: with a scope, events outside every policy
 * never reach the addon (counted by eventsReceived, which counts records
 * taken from the kernel ring buffer), and each record's matchedPolicies has
 * the bits of the policies it matched. Real triggers, real syscalls; needs
 * root (fails, never skips, without it).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildTriggers } from '../helpers/triggers.ts';
import { DEFAULT_OBJECT_PATH, KernelCapture } from '../../host/capture/addon.ts';
import { cgroup2Mount, compileKernelScope, type ContainerCgroup } from '../../host/capture/kernel-scope.ts';
import { forEachRecord, readBatchHeader, viewOf } from '../../host/events/batch-reader.ts';
import { CTX } from '../../host/events/layout.ts';
import type { Policy, ScopeFilter } from '../../host/policy/model.ts';
import { ids, requireCapture } from './triggers/capture-run.ts';

const exec = promisify(execFile);
const policy = (name: string, ...scope: ScopeFilter[]): Policy => ({ name, description: '', scope, defaultActions: [], rules: [], origin: 'test' });
const f = (field: ScopeFilter['field'], operator: ScopeFilter['operator'], ...values: string[]): ScopeFilter => ({ field, operator, values });

interface Rec { comm: string; pid: number; eventId: number; policies: bigint }

/** Raw context fields of every record (no decoding needed to count). */
function recs(batches: Uint8Array[]): Rec[] {
  const out: Rec[] = [];
  for (const b of batches) {
    const h = readBatchHeader(b);
    const v = viewOf(b);
    forEachRecord(b, h, (off) => {
      const name = b.subarray(off + CTX.processName, off + CTX.processName + 16);
      const nul = name.indexOf(0);
      out.push({
        comm: Buffer.from(nul < 0 ? name : name.subarray(0, nul)).toString(), pid: v.getUint32(off + CTX.hostProcessId, true),
        eventId: v.getUint32(off + CTX.eventId, true), policies: v.getBigUint64(off + CTX.matchedPolicies, true),
      });
    });
  }
  return out;
}

describe('scope filtering in the kernel', () => {
  let t: Record<string, string>;
  let dir: string;
  const EVENTS = ids('openat', 'close', 'sched_process_exec');

  before(() => {
    t = buildTriggers();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'trc-scope-')));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  /** Captures while `work` runs; returns the records and what the addon received. */
  async function capture(policies: Policy[] | undefined, work: (c: KernelCapture) => Promise<void>, containers?: ContainerCgroup[]) {
    requireCapture(EVENTS);
    const scope = policies ? compileKernelScope(policies, policies.map(() => EVENTS), { containers: containers ?? [] }) : undefined;
    const c = KernelCapture.open({ objectPath: DEFAULT_OBJECT_PATH, eventIds: EVENTS, scope });
    const batches: Uint8Array[] = [];
    try {
      c.start((b) => batches.push(b));
      await work(c);
      await new Promise((r) => setTimeout(r, 150));
    } finally {
      c.stop();
    }
    await new Promise((r) => setImmediate(r));
    const stats = c.stats();
    assert.equal(stats.lostRingBuffer + stats.lostQueueFull, 0, 'nothing lost');
    return { recs: recs(batches), received: stats.eventsReceived };
  }

  /** The open loop (2000 open+close) and, at the same time, other work (fs_ops, a shell). */
  const workload = async () => {
    const fsDir = join(dir, `fs-${Math.random().toString(36).slice(2)}`);
    mkdirSync(fsDir);
    await Promise.all([exec(t.open_loop, ['2000']), exec(t.fs_ops, [fsDir]), exec('/bin/sh', ['-c', 'cat /etc/hostname >/dev/null'])]);
  };

  it('comm=<trigger>: only the trigger\'s events cross to user space', async () => {
    const all = await capture(undefined, workload);
    const scoped = await capture([policy('loop', f('comm', '=', 'open_loop'))], workload);
    const loopEvents = scoped.recs.filter((r) => r.comm === 'open_loop');
    assert.ok(loopEvents.length >= 4000, `the loop's 2000 openat + 2000 close arrived (${loopEvents.length})`);
    assert.deepEqual([...new Set(scoped.recs.map((r) => r.comm))], ['open_loop'], 'nothing else reached the addon');
    assert.equal(scoped.received, scoped.recs.length, 'the addon received exactly the records in scope');
    const others = all.recs.filter((r) => r.comm !== 'open_loop').length;
    assert.ok(others > 20, `without a scope, other processes' events arrive too (${others})`);
    assert.ok(all.received >= scoped.received + others, `unscoped ${all.received} vs scoped ${scoped.received}`);
    assert.ok(scoped.recs.every((r) => r.policies === 1n), 'matchedPolicies = policy 0');
  });

  it('policies are ORed and each record carries the bitmap of those it matched', async () => {
    const { recs: r } = await capture([
      policy('loop', f('comm', '=', 'open_loop')),
      policy('fs', f('comm', '=', 'fs_ops')),
      policy('root-children', f('uid', '<', '1'), f('tree', '=', String(process.pid))),
      policy('nobody', f('uid', '>=', '1000')),
    ], workload);
    const bits = (comm: string) => [...new Set(r.filter((x) => x.comm === comm).map((x) => x.policies))];
    assert.deepEqual(bits('open_loop'), [0b101n]);
    assert.deepEqual(bits('fs_ops'), [0b110n]);
    assert.deepEqual(bits('cat'), [0b100n], 'a grandchild of the test process, by tree');
    assert.ok(r.every((x) => (x.policies & 0b1000n) === 0n), 'uid>=1000 matched no root process');
    assert.ok(r.every((x) => x.policies !== 0n));
  });

  it('executable=<path> and pid=<pid> select by the process, not its name', async () => {
    const { recs: r } = await capture([policy('exe', f('executable', '=', t.open_loop))], workload);
    assert.deepEqual([...new Set(r.map((x) => x.comm))], ['open_loop']);
    let pid = 0;
    const { recs: byPid } = await capture([policy('pid', f('pid', '=', '1'))], async () => {
      const { stdout } = await exec(t.open_loop, ['100']);
      pid = Number(stdout.split(' ')[0]);
    });
    assert.ok(pid > 0 && byPid.every((x) => x.pid === 1), 'only pid 1 (init) could match');
  });

  it('follow: descendants of a matched process match, whatever their own scope', async () => {
    const run = () => exec(t.exec_burst, ['3', '/bin/true']).then(() => undefined);
    const plain = await capture([policy('burst', f('comm', '=', 'exec_burst'))], run);
    const followed = await capture([policy('burst', f('comm', '=', 'exec_burst'), f('follow', '='))], run);
    const execs = (x: Rec[]) => x.filter((y) => y.eventId === ids('sched_process_exec')[0] && y.comm === 'true').length;
    assert.equal(execs(plain.recs), 0, 'without follow, /bin/true (comm "true") is out of scope');
    assert.equal(execs(followed.recs), 3, 'with follow, the 3 children exec\'ing /bin/true are in');
  });

  it('container / not-container use the cgroup set given from user space', async () => {
    const root = cgroup2Mount();
    assert.ok(root, 'a cgroup v2 mount');
    const cg = join(root!, `trc-scope-${process.pid}`);
    mkdirSync(cg);
    try {
      const containers = [{ cgroupId: BigInt(statSync(cg).ino), containerId: 'ab'.repeat(32) }];
      const inContainer = () => exec('/bin/sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec ${t.open_loop} 500`]).then(() => undefined);
      const both = async () => { await Promise.all([inContainer(), exec(t.open_loop, ['300'])]); };
      const c = await capture([policy('c', f('container', '='))], both, containers);
      const byId = await capture([policy('c', f('container', '=', 'ab'.repeat(6)))], both, containers);
      const host = await capture([policy('h', f('not-container', '='), f('comm', '=', 'open_loop'))], both, containers);
      // each run closes a few more fds while the dynamic loader starts it
      const loops = (x: Rec[]) => x.filter((y) => y.comm === 'open_loop' && y.eventId === ids('close')[0]).length;
      const about = (n: number, want: number, what: string) => assert.ok(n >= want && n <= want + 5, `${what}: ${n} closes for ${want}`);
      about(loops(c.recs), 500, 'the container\'s loop only');
      about(loops(byId.recs), 500, 'by container id prefix');
      about(loops(host.recs), 300, 'the host\'s loop only');
    } finally {
      rmdirSync(cg);
    }
  });

  it('applyScope replaces the policies while capturing', async () => {
    const { recs: r } = await capture([policy('fs', f('comm', '=', 'fs_ops'))], async (c) => {
      await exec(t.open_loop, ['200']);
      await new Promise((res) => setTimeout(res, 50));
      c.applyScope(compileKernelScope([policy('x'), policy('loop', f('comm', '=', 'open_loop'))], [[], EVENTS]));
      await exec(t.open_loop, ['300']);
    });
    const closes = r.filter((x) => x.comm === 'open_loop' && x.eventId === ids('close')[0]);
    assert.ok(closes.length >= 300 && closes.length <= 305, `only the loop run after the change (${closes.length} closes)`);
    assert.ok(closes.every((x) => x.policies === 0b10n));
  });
});
