/**
 * The signature catalogue through the real CLIs, without root:
 * `tracee-rules` listing (disabled and inactive signatures marked),
 * `--list-events`, `--rules` enabling TRC-108, findings printed as unified
 * Tracee events (`-o event`), and `tracee-tester`'s own argument handling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/tracee-process.ts';

const RULES = join(ROOT, 'host/cli/bin/tracee-rules.js');
const TESTER = join(ROOT, 'host/cli/bin/tracee-tester.js');
const BUNDLES = join(ROOT, 'bundles');
const FIXTURES = join(ROOT, 'test/fixtures/signatures');

function cli(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const rules = (args: string[]) => cli(RULES, ['--rules-dir', BUNDLES, ...args]);
const replayArgs = (id: string, kind = 'positive') => ['--input-tracee', `file:${join(FIXTURES, id, `${kind}.jsonl`)}`, '--input-tracee', 'format:json'];

test('--list shows all 31 signatures and marks TRC-108 as disabled by default', () => {
  const r = rules(['--list']);
  assert.equal(r.code, 0, r.stderr);
  const ids = r.stdout.split('\n').map((l) => /^(TRC-\d+)\s/.exec(l)?.[1]).filter(Boolean);
  assert.equal(new Set(ids).size, 31);
  assert.match(r.stdout, /\nNot running here:\n(?:.*\n)*\s+TRC-108\s+k8s_service_account_token: disabled by default; select it with --rules TRC-108\n/);
});

test('--list marks the signatures whose events this kernel cannot capture, or says it cannot tell', () => {
  const r = rules(['--list']);
  if (/Kernel event availability unknown/.test(r.stdout)) {
    assert.match(r.stdout, /Kernel event availability unknown: .+/);
    return;
  }
  // This kernel: no kernel symbol scan (hooked_syscall, hooked_proc_fops), no loadable modules (module_load).
  for (const [id, event] of [['TRC-1030', 'hooked_syscall'], ['TRC-1020', 'hooked_proc_fops'], ['TRC-1017', 'module_load']]) {
    assert.match(r.stdout, new RegExp(`\\n\\s+${id}\\s+\\w+: inactive: this kernel cannot capture ${event} \\(.+\\)`));
  }
});

test('--list-events names every event the loaded signatures need, sorted and comma-joined', () => {
  const r = rules(['--list-events']);
  assert.equal(r.stdout, 'cgroup_rmdir,hooked_proc_fops,hooked_syscall,magic_write,mem_prot_alert,module_load,process_vm_writev,ptrace,'
    + 'sched_process_exec,security_file_open,security_inode_rename,security_sb_mount,security_socket_connect,socket_dup\n');
  assert.equal(rules(['--rules', 'TRC-1016', '--list-events']).stdout, 'sched_process_exec\n');
});

test('TRC-108 runs only when --rules selects it, by ID or by event name', () => {
  const off = rules([...replayArgs('TRC-108'), '-o', 'json']);
  assert.equal(off.stdout, '');
  for (const selector of ['TRC-108', 'k8s_service_account_token']) {
    const on = rules(['--rules', selector, ...replayArgs('TRC-108'), '-o', 'json']);
    const found = on.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(found.map((f) => [f.SigMetadata.ID, f.Context.processName]), [['TRC-108', 'cat'], ['TRC-108', 'curl']]);
  }
});

test('-o json prints tracee-rules rawjson with Tracee\'s Data keys', () => {
  const r = rules([...replayArgs('TRC-101'), '-o', 'json']);
  const found = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(found.map((f) => f.Data), [
    { 'File descriptor': 0, 'IP address': '10.0.0.5', Port: '4444' },
    { 'File descriptor': 1, 'IP address': '2001:db8::5', Port: '443' },
    { 'File descriptor': 2, 'IP address': '192.168.7.9', Port: '9001' },
  ]);
  assert.deepEqual(Object.keys(found[0]), ['Data', 'Context', 'SigMetadata']);
});

test('-o event prints each detection as unified Tracee does: the signature\'s event with Data, detectedFrom and signature properties', () => {
  const r = rules([...replayArgs('TRC-107'), '-o', 'event']);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events.length, 4);
  const [env, , open] = events;
  assert.equal(env.eventId, '6007');
  assert.equal(env.eventName, 'ld_preload');
  assert.equal(env.processName, 'ls');
  assert.equal(env.argsNum, 2);
  assert.deepEqual(env.args[0], { name: 'LD_PRELOAD', type: 'const char *', value: 'LD_PRELOAD=/tmp/evil.so' });
  const from = env.args[1];
  assert.equal(from.name, 'detectedFrom');
  assert.equal(from.type, 'unknown');
  assert.deepEqual(Object.keys(from.value), ['id', 'name', 'args', 'returnValue']);
  assert.deepEqual([from.value.id, from.value.name, from.value.returnValue], [1003, 'sched_process_exec', 0]);
  assert.ok(from.value.args.some((a: { name: string; value: unknown }) => a.name === 'pathname' && a.value === '/usr/bin/ls'));
  assert.deepEqual(env.metadata, {
    Version: '1',
    Description: env.metadata.Description,
    Tags: null,
    Properties: {
      Severity: 2, Category: 'persistence', Technique: 'Hijack Execution Flow', Kubernetes_Technique: '',
      id: 'attack-pattern--aedfca76-3b30-4866-b2aa-0f1d7fd1e4b6', external_id: 'T1574',
      signatureID: 'TRC-107', signatureName: 'LD_PRELOAD code injection detected',
    },
  });
  assert.deepEqual(open.args.map((a: { name: string }) => a.name), ['detectedFrom']); // no Data: only detectedFrom
  const k8s = rules([...replayArgs('TRC-1013'), '-o', 'event']).stdout.trim().split('\n').map((l) => JSON.parse(l))[0];
  assert.equal(k8s.eventId, '6013');
  assert.deepEqual(k8s.metadata.Tags, ['container']);
  assert.deepEqual(k8s.metadata.Properties, {
    Severity: 1, 'MITRE ATT&CK': 'Discovery: Cloud Service Discovery', signatureID: 'TRC-1013',
    signatureName: 'Kubernetes API server connection detected', Category: null, Technique: null, id: null, external_id: null,
  });
  assert.equal(k8s.container.id, k8s.containerId);
  assert.match(rules([...replayArgs('TRC-107'), '-o', 'xml']).stderr, /--output xml: unknown format \(use table, json or event\)/);
});

test('tracee-tester lists what it can trigger and refuses unknown signatures and variants', () => {
  const list = cli(TESTER, ['--list']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^ID\s+EVENT\s+WHERE\s+VARIANTS\s+WHAT IT DOES\n/);
  for (const id of ['TRC-102', 'TRC-103', 'TRC-104', 'TRC-105', 'TRC-107', 'TRC-109', 'TRC-1012', 'TRC-1015', 'TRC-1016', 'TRC-1018',
    'TRC-1022', 'TRC-1023', 'TRC-1024', 'TRC-1025', 'TRC-1026', 'TRC-1027', 'TRC-1028']) {
    assert.match(list.stdout, new RegExp(`\\n${id}\\s`), id);
  }
  assert.match(list.stdout, /\nTRC-1022\s+dropped_executable\s+container\s/);
  const unknown = cli(TESTER, ['TRC-1030']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /TRC-1030: no trigger for this signature \(see tracee-tester --list\)/);
  const variant = cli(TESTER, ['TRC-107', '--variant', 'nope']);
  assert.equal(variant.code, 2);
  assert.match(variant.stderr, /TRC-107 has no variant "nope" \(variants: env, file, rename\)/);
});
