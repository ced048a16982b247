/**
 * End to end, as root, for real: `tracee --rules-dir bundles/ --output json`
 * (with option:exec-env, which TRC-107 and TRC-1013 need) capturing live
 * kernel events while `tracee-tester TRC-xxx` makes the real system calls.
 * For every trigger variant the tester has: exactly that signature's
 * finding arrives for the process that made the call, with the relevant
 * Data and arguments, and no other signature fires for the trigger's
 * processes. A signature whose kernel events are not produced yet fails
 * here, saying which finding did not arrive. The container escapes, which
 * run in a privileged container, are in container-escapes.test.ts.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, TraceeProcess } from '../helpers/tracee-process.ts';
import { arg, findingsOnHost, onlyFinding, tester } from '../helpers/tester.ts';
import { TRIGGERS as ALL_TRIGGERS } from '../../host/tester/triggers.ts';
import { triggerBinary } from '../../host/tester/build.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';
import type { TriggerResult } from '../../host/tester/run.ts';

const TRIGGERS = ALL_TRIGGERS.filter((t) => !t.privileged);
let tracee: TraceeProcess;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'eBPF end-to-end tests need root: run them as root (sudo npm test)');
  assert.ok(existsSync(join(ROOT, 'bundles', 'ld_preload.wasm')), 'built-in bundles missing: run npm run build');
  await triggerBinary(); // compile before capture starts (gcc's own writes are not part of any trigger)
  tracee = await TraceeProcess.start(['--rules-dir', join(ROOT, 'bundles'), '--output', 'json', '--output', 'option:exec-env']);
});

after(async () => {
  const code = await tracee?.stop();
  assert.equal(code, 0, `tracee exited with ${code}:\n${tracee?.stderr}`);
});

/** What to check on the finding, beyond its ID and pid. */
const CHECKS: Record<string, (f: FindingJson, r: TriggerResult) => void> = {
  'TRC-101': (f, r) => {
    assert.equal(f.Context.eventName, r.variant === 'dup' ? 'socket_dup' : 'security_socket_connect');
    assert.deepEqual(f.Data, { 'File descriptor': 0, 'IP address': '127.0.0.1', Port: String(r.port) });
  },
  'TRC-102': (f) => {
    assert.equal(f.Context.eventName, 'ptrace');
    assert.equal(arg(f, 'request'), 0);
  },
  'TRC-103': (f, r) => {
    assert.equal(f.Context.eventName, 'ptrace');
    assert.equal(arg(f, 'request'), r.request);
    assert.equal(arg(f, 'pid'), r.target);
  },
  'TRC-104': (f) => {
    assert.equal(f.Context.eventName, 'mem_prot_alert');
    assert.equal(arg(f, 'alert'), 4);
  },
  'TRC-105': (f) => {
    assert.equal(f.Context.eventName, 'sched_process_exec');
    assert.match(String(arg(f, 'pathname')), /^memfd:trc105/);
  },
  'TRC-107': (f, r) => {
    if (r.variant === 'env') {
      assert.equal(f.Context.eventName, 'sched_process_exec');
      assert.deepEqual(f.Data, { LD_PRELOAD: 'LD_PRELOAD=libc.so.6' });
    } else {
      assert.equal(f.Context.eventName, r.variant === 'file' ? 'security_file_open' : 'security_inode_rename');
      assert.equal(arg(f, r.variant === 'file' ? 'pathname' : 'new_path'), '/etc/ld.so.preload');
    }
  },
  'TRC-109': (f) => assert.equal(arg(f, 'pathname'), '/proc/sys/kernel/randomize_va_space'),
  'TRC-1012': (f, r) => assert.equal(arg(f, r.variant === 'write' ? 'pathname' : 'new_path'), r.path),
  'TRC-1015': (f, r) => {
    assert.equal(f.Context.eventName, 'magic_write');
    assert.equal(arg(f, 'pathname'), r.path);
  },
  'TRC-1016': (f) => {
    assert.equal(f.Context.processName, 'sh');
    assert.equal(arg(f, 'prev_comm'), 'nginx');
  },
  'TRC-1018': (f) => assert.equal(arg(f, 'pathname'), '/etc/kubernetes/pki/ca.key'),
  'TRC-1022': (f, r) => {
    assert.equal(f.Context.contextFlags.containerStarted, true);
    assert.notEqual(f.Context.containerId, '');
    assert.deepEqual(f.Data, { path: r.path });
  },
  'TRC-1023': (f, r) => assert.equal(arg(f, 'pathname'), r.path),
  'TRC-1024': (f, r) => assert.equal(arg(f, 'pathname'), r.path),
  'TRC-1025': (f, r) => assert.equal(arg(f, 'pid'), r.target),
  'TRC-1026': (f, r) => {
    if (r.variant === 'exec') assert.match(String(arg(f, 'pathname')), /\/update-rc\.d$/);
    else assert.equal(arg(f, r.variant === 'write' ? 'pathname' : 'new_path'), r.path);
  },
  'TRC-1027': (f, r) => {
    if (r.variant === 'exec') assert.match(String(arg(f, 'pathname')), /\/crontab$/);
    else assert.equal(arg(f, r.variant === 'write' ? 'pathname' : 'new_path'), r.path);
  },
  'TRC-1028': (f, r) => assert.equal(arg(f, r.variant === 'write' ? 'pathname' : 'new_path'), r.path),
};

for (const trigger of TRIGGERS) {
  for (const variant of Object.keys(trigger.variants)) {
    test(`${trigger.id} ${trigger.signature} (${variant}): tracee-tester's real system calls give exactly this finding`, async () => {
      const r = await tester(trigger.id, variant);
      const f = await onlyFinding(tracee, trigger, r);
      CHECKS[trigger.id]?.(f, r);
    });
  }
}

test('a plain run of the trigger program (no behaviour) gives no finding', async () => {
  const binary = await triggerBinary();
  const { stdout } = await promisify(execFile)(binary, ['report'], { env: { PATH: '/usr/bin:/bin' } });
  const { pid } = JSON.parse(stdout);
  await new Promise((done) => setTimeout(done, 500));
  assert.deepEqual(tracee.findings.filter((f) => f.Context.hostProcessId === pid), []);
});

for (const trigger of TRIGGERS.filter((t) => t.where === 'container')) {
  for (const [variant, action] of Object.entries(trigger.variants)) {
    test(`${trigger.id} ${trigger.signature} (${variant}): the same system calls on the host give no finding`, async () => {
      assert.deepEqual(await findingsOnHost(tracee, action), []);
    });
  }
}
