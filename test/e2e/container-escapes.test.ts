/**
 * End to end, as root, for real: the container escapes `tracee-tester`
 * fires inside a privileged podman container (TRC-1011 core_pattern, 1014
 * disk mount, 1021 kcore, 1029 sched_debug, 1031 sysrq), under
 * `tracee --rules-dir bundles/ --output json`. For every variant:
 * - exactly that finding arrives, from a started container, for the
 *   trigger's process, with the path (or device) it used;
 * - the same action on the host gives no finding (these signatures select
 *   container events only);
 * - the host is left as it was: core_pattern unchanged, no debugfs, /proc
 *   or tester mount left behind, the container's cgroups removed.
 * A variant that opens a kernel file this kernel is built without
 * (/proc/kcore, /proc/sysrq-trigger) is instead checked to be refused with
 * the kernel option and the stand-in variant to use.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TraceeProcess } from '../helpers/tracee-process.ts';
import { arg, findingsOnHost, onlyFinding, tester, testerFailure } from '../helpers/tester.ts';
import { TRIGGERS } from '../../host/tester/triggers.ts';
import { triggerBinary } from '../../host/tester/build.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';
import type { TriggerResult } from '../../host/tester/run.ts';

const ESCAPES = TRIGGERS.filter((t) => t.privileged);
const MS_RDONLY = 1;
const O_ACCMODE = 3;
const O_WRONLY = 1;
/** The open's access mode: write-only for the settings (never read-write), read-only for the reads. */
const accessMode = (f: FindingJson) => Number(arg(f, 'flags')) & O_ACCMODE;
let tracee: TraceeProcess;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'eBPF end-to-end tests need root: run them as root (sudo npm test)');
  assert.ok(existsSync(join(ROOT, 'bundles', 'disk_mount.wasm')), 'built-in bundles missing: run npm run build');
  await triggerBinary(); // compile before capture starts
  tracee = await TraceeProcess.start(['--rules-dir', join(ROOT, 'bundles'), '--output', 'json']);
});

after(async () => {
  const code = await tracee?.stop();
  assert.equal(code, 0, `tracee exited with ${code}:\n${tracee?.stderr}`);
});

test('the escapes are the five container-only signatures, each run privileged', () => {
  assert.deepEqual(ESCAPES.map((t) => t.id), ['TRC-1011', 'TRC-1014', 'TRC-1021', 'TRC-1029', 'TRC-1031']);
  for (const t of ESCAPES) assert.equal(t.where, 'container', t.id);
});

/**
 * What of the host an escape could change: kernel settings it opens, and
 * the host's mounts of the kinds the triggers make (debugfs, anything on or
 * under /proc, anything named tracee-tester). Mounts are read from PID 1,
 * i.e. the host's mount namespace.
 */
function hostState(): Record<string, unknown> {
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : null);
  const mounts = readFileSync('/proc/1/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const [pre, post] = line.split(' - ');
    const [fstype, source] = post.split(' ');
    return { point: pre.split(' ')[4], fstype, source };
  }).filter((m) => m.fstype === 'debugfs' || m.source.includes('tracee-tester') || m.point === '/proc' || m.point.startsWith('/proc/'));
  return { corePattern: read('/proc/sys/kernel/core_pattern'), sysrq: read('/proc/sys/kernel/sysrq'), mounts };
}

/** Cgroup directories of podman container `id` still present (v2 root or any v1 hierarchy). */
function containerCgroups(id: string): string[] {
  const roots = ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h))];
  return roots.map((r) => join(r, 'libpod_parent', `libpod-${id}`)).filter((d) => existsSync(d));
}

/** What to check on the finding, beyond its ID and pid. */
const CHECKS: Record<string, (f: FindingJson, r: TriggerResult) => void> = {
  'TRC-1011': (f) => {
    assert.equal(arg(f, 'pathname'), '/proc/sys/kernel/core_pattern');
    assert.equal(accessMode(f), O_WRONLY);
  },
  'TRC-1014': (f, r) => {
    assert.equal(arg(f, 'dev_name'), '/dev/tracee-tester-disk');
    assert.equal(arg(f, 'path'), r.path);
    assert.equal(arg(f, 'type'), r.type);
    assert.equal(Number(arg(f, 'flags')) & MS_RDONLY, MS_RDONLY, 'mounted read-only');
  },
  'TRC-1021': (f) => {
    assert.equal(arg(f, 'pathname'), '/proc/kcore');
    assert.equal(accessMode(f), 0);
  },
  'TRC-1029': (f, r) => {
    assert.equal(arg(f, 'pathname'), r.path);
    assert.equal(accessMode(f), 0);
  },
  'TRC-1031': (f) => {
    assert.equal(arg(f, 'pathname'), '/proc/sysrq-trigger');
    assert.equal(accessMode(f), O_WRONLY);
  },
};

for (const trigger of ESCAPES) {
  for (const [variant, action] of Object.entries(trigger.variants)) {
    const needed = trigger.needs?.[variant];
    if (needed && !existsSync(needed.path)) {
      test(`${trigger.id} ${trigger.signature} (${variant}): on this kernel, without ${needed.path}, tracee-tester refuses and says what to use`, async () => {
        const { code, stderr } = await testerFailure(trigger.id, variant);
        assert.equal(code, 2);
        assert.match(stderr, new RegExp(`this kernel has no ${needed.path} \\(built without ${needed.config}\\); --variant ${needed.instead} opens a stand-in`));
        assert.ok(trigger.variants[needed.instead], `variant ${needed.instead} exists`);
      });
      continue;
    }
    test(`${trigger.id} ${trigger.signature} (${variant}): in a privileged container, exactly this finding; the host unchanged`, async () => {
      const before = hostState();
      const r = await tester(trigger.id, variant);
      assert.equal(r.where, 'container');
      assert.equal(r.privileged, true);
      const f = await onlyFinding(tracee, trigger, r);
      assert.equal(f.Context.contextFlags.containerStarted, true);
      assert.match(f.Context.containerId, /^[0-9a-f]{64}$/);
      assert.equal(f.Context.processName, r.comm);
      CHECKS[trigger.id](f, r);
      assert.deepEqual(hostState(), before, 'the host\'s settings and mounts are as before');
      assert.deepEqual(containerCgroups(f.Context.containerId), [], 'the container\'s cgroups are removed');
    });
    test(`${trigger.id} ${trigger.signature} (${variant}): the same system calls on the host give no finding`, async () => {
      const before = hostState();
      assert.deepEqual(await findingsOnHost(tracee, action), []);
      assert.deepEqual(hostState(), before, 'the host\'s settings and mounts are as before');
    });
  }
}
