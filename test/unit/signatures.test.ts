/**
 * The built-in signature catalogue (signatures-as/signatures/), built with
 * the real build and run by the real engine on recorded Tracee events
 * (test/fixtures/signatures/<ID>/): per signature, positive events (findings
 * with Tracee's Data) and negative ones (exclusion lists, wrong flags, wrong
 * origin, near-miss paths), with every other signature loaded and listening.
 * Also: the catalogue's metadata against Tracee's, and no per-event
 * allocation with all 31 loaded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { replay } from '../../host/capture/replay.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { findingToJson } from '../../host/output/finding-json.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ROOT } from '../helpers/tracee-process.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/signatures');

let dir: string;
const wasm = new Map<string, Uint8Array>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-signatures-test-'));
  const { built, errors } = await buildBundles(path.join(ROOT, 'signatures-as'), dir);
  assert.deepEqual(errors.map(String), []);
  for (const b of built) wasm.set(path.basename(b.path), await readFile(b.path));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Fresh instances of every built-in signature (TRC-108 included), so no state leaks between files. */
async function loadAll(containers: ContainerTable): Promise<Bundle[]> {
  return Promise.all([...wasm].map(([name, bytes]) => Bundle.load(name, bytes, () => {}, { containers })));
}

interface Expected { line: number; id: string; Data: Record<string, unknown> | null }

/** Replays a fixture through all signatures; every finding as {line, id, Data}. */
async function findingsOf(file: string): Promise<Expected[]> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const lineOf = new Map(lines.map((l, i) => [String(JSON.parse(l.replace(/"timestamp": (\d+)/, '"timestamp": "$1"')).timestamp), i + 1]));
  const containers = new ContainerTable();
  const engine = new Engine(await loadAll(containers), (m) => { throw new Error(m); });
  const out: Expected[] = [];
  const errors: string[] = [];
  await replay(createReadStream(file), file, {
    containers,
    onError: (m) => errors.push(m),
    onBatch: (batch) => {
      for (const f of engine.process(batch)) {
        const json = findingToJson(f, { containers });
        out.push({ line: lineOf.get(String(json.Context.timestamp))!, id: json.SigMetadata.ID, Data: json.Data as Expected['Data'] });
      }
    },
  });
  assert.deepEqual(errors, [], `${file}: every fixture line is a valid event`);
  return sortFindings(out);
}

const sortFindings = (fs: Expected[]) => [...fs].sort((a, b) => a.line - b.line || a.id.localeCompare(b.id));

const SIGNATURE_IDS = readdirSync(FIXTURES).filter((n) => n.startsWith('TRC-')).sort();

for (const id of SIGNATURE_IDS) {
  test(`${id}: fires on its positive fixtures with Tracee's Data, and stays silent on the negative ones`, async () => {
    const expected = JSON.parse(readFileSync(path.join(FIXTURES, id, 'expected.json'), 'utf8')) as { positive: Expected[]; negative: Expected[] };
    const positive = await findingsOf(path.join(FIXTURES, id, 'positive.jsonl'));
    const negative = await findingsOf(path.join(FIXTURES, id, 'negative.jsonl'));
    assert.deepEqual(positive, sortFindings(expected.positive), 'findings on positive.jsonl');
    assert.deepEqual(negative, sortFindings(expected.negative), 'findings on negative.jsonl');
    assert.ok(positive.some((f) => f.id === id), 'the signature fires at least once');
    assert.ok(!negative.some((f) => f.id === id), 'the signature never fires on its negatives');
  });
}

test('there is a fixture directory for each of the 31 signatures', () => {
  assert.equal(SIGNATURE_IDS.length, 31);
  assert.deepEqual(SIGNATURE_IDS, [...CATALOGUE.map(([sigId]) => sigId)].sort());
});

/**
 * Tracee's catalogue (../shared/notes/tracee-anchor.md §1): ID, event name,
 * selected events with origins, severity, MITRE external id.
 */
const CATALOGUE: Array<[string, string, string[], number, string]> = [
  ['TRC-101', 'stdio_over_socket', ['security_socket_connect@*', 'socket_dup@*'], 3, 'T1059.004'],
  ['TRC-102', 'anti_debugging', ['ptrace@*'], 1, 'T1622'],
  ['TRC-103', 'ptrace_code_injection', ['ptrace@*'], 3, 'T1055.008'],
  ['TRC-104', 'dynamic_code_loading', ['mem_prot_alert@*'], 2, 'T1027.002'],
  ['TRC-105', 'fileless_execution', ['sched_process_exec@*'], 3, 'T1620'],
  ['TRC-106', 'cgroup_notify_on_release', ['security_file_open@container'], 3, 'T1611'],
  ['TRC-107', 'ld_preload', ['sched_process_exec@*', 'security_file_open@*', 'security_inode_rename@*'], 2, 'T1574'],
  ['TRC-108', 'k8s_service_account_token', ['security_file_open@container'], 0, 'T1212'],
  ['TRC-109', 'aslr_inspection', ['security_file_open@*'], 0, 'T1068'],
  ['TRC-1010', 'cgroup_release_agent', ['security_file_open@container', 'security_inode_rename@container'], 3, 'T1611'],
  ['TRC-1011', 'core_pattern_modification', ['security_file_open@container'], 3, 'T1611'],
  ['TRC-1012', 'default_loader_mod', ['security_file_open@*', 'security_inode_rename@*'], 3, 'T1574'],
  // Tracee's TRC-1013 has only the old-style "MITRE ATT&CK" property; ours also selects cgroup_rmdir to forget containers.
  ['TRC-1013', 'k8s_api_connection', ['sched_process_exec@container', 'security_socket_connect@container', 'cgroup_rmdir@*'], 1, ''],
  ['TRC-1014', 'disk_mount', ['security_sb_mount@container'], 3, 'T1611'],
  ['TRC-1015', 'hidden_file_created', ['magic_write@*'], 2, 'T1564.001'],
  ['TRC-1016', 'illegitimate_shell', ['sched_process_exec@*'], 2, 'T1190'],
  ['TRC-1017', 'kernel_module_loading', ['module_load@*'], 2, 'T1547.006'],
  ['TRC-1018', 'k8s_cert_theft', ['security_file_open@*', 'security_inode_rename@*'], 3, 'T1528'],
  ['TRC-1019', 'docker_abuse', ['security_file_open@container', 'security_socket_connect@container'], 2, 'T1068'],
  ['TRC-1020', 'proc_fops_hooking', ['hooked_proc_fops@host'], 3, 'T1014'],
  ['TRC-1021', 'proc_kcore_read', ['security_file_open@container'], 2, 'T1611'],
  ['TRC-1022', 'dropped_executable', ['magic_write@container'], 2, 'T1036'],
  ['TRC-1023', 'proc_mem_access', ['security_file_open@*'], 3, 'T1003.007'],
  ['TRC-1024', 'proc_mem_code_injection', ['security_file_open@*'], 3, 'T1055.009'],
  ['TRC-1025', 'process_vm_write_inject', ['process_vm_writev@*'], 3, 'T1055'],
  ['TRC-1026', 'rcd_modification', ['security_file_open@*', 'security_inode_rename@*', 'sched_process_exec@*'], 2, 'T1037.004'],
  ['TRC-1027', 'scheduled_task_mod', ['security_file_open@*', 'security_inode_rename@*', 'sched_process_exec@*'], 2, 'T1053.003'],
  ['TRC-1028', 'sudoers_modification', ['security_file_open@*', 'security_inode_rename@*'], 2, 'T1548.003'],
  ['TRC-1029', 'sched_debug_recon', ['security_file_open@container'], 1, 'T1613'],
  ['TRC-1030', 'syscall_hooking', ['hooked_syscall@*'], 3, 'T1014'],
  ['TRC-1031', 'system_request_key_mod', ['security_file_open@container'], 3, 'T1611'],
];

test('each bundle carries Tracee\'s ID, event name, selected events and origins, severity and MITRE id', async () => {
  const bundles = await loadAll(new ContainerTable());
  const got = bundles.map((b) => {
    const m = b.metadata;
    return [m.id, m.eventName, m.selectedEvents.map((s) => `${s.name}@${s.origin}`), m.properties.Severity, m.properties.external_id ?? ''];
  }).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  assert.deepEqual(got, [...CATALOGUE].sort((a, b) => a[0].localeCompare(b[0])));
  for (const b of bundles) {
    const p = b.metadata.properties;
    if (b.metadata.id === 'TRC-1013') {
      assert.deepEqual(p, { Severity: 1, 'MITRE ATT&CK': 'Discovery: Cloud Service Discovery' });
      assert.deepEqual(b.metadata.tags, ['container']);
      assert.equal(b.metadata.version, '0.1.0');
      continue;
    }
    assert.deepEqual(Object.keys(p), ['Severity', 'Category', 'Technique', 'Kubernetes_Technique', 'id', 'external_id'], b.metadata.id);
    assert.match(String(p.id), /^attack-pattern--[0-9a-f-]{36}$/, b.metadata.id);
    assert.equal(b.metadata.version, b.metadata.id === 'TRC-101' ? '2' : '1', b.metadata.id);
    assert.ok(b.metadata.description.length > 50, b.metadata.id);
  }
  const sa = bundles.find((b) => b.metadata.id === 'TRC-108')!;
  assert.equal(sa.disabledByDefault, true, 'TRC-108 ships disabled, as in Tracee');
  assert.deepEqual(bundles.filter((b) => b.disabledByDefault).map((b) => b.metadata.id), ['TRC-108']);
});

test('every built-in bundle imports only the sandbox (none needs container_get)', () => {
  for (const [name, bytes] of wasm) {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).map((i) => `${i.module}.${i.name}`);
    assert.deepEqual(imports.filter((i) => !['tracee.emit_finding', 'tracee.log', 'env.abort'].includes(i)), [], name);
  }
});

test('with all 31 loaded, a busy mixed stream allocates nothing: every bundle\'s memory stays the same size', async () => {
  const events: object[] = [];
  for (const id of SIGNATURE_IDS) {
    for (const kind of ['positive', 'negative']) {
      for (const line of readFileSync(path.join(FIXTURES, id, `${kind}.jsonl`), 'utf8').split('\n').filter(Boolean)) events.push(JSON.parse(line));
    }
  }
  const containers = new ContainerTable();
  const w = new BatchWriter(1 << 20);
  for (const e of events) w.add(e, containers.refFor(String((e as { containerId?: string }).containerId ?? '')));
  const batch = w.finish();
  const bundles = await loadAll(containers);
  const engine = new Engine(bundles, (m) => { throw new Error(m); });
  const first = engine.process(batch).length;
  assert.ok(first > 40);
  const sizes = bundles.map((b) => b.memoryBytes);
  for (let i = 0; i < 300; i++) engine.process(batch);
  assert.deepEqual(bundles.map((b) => b.memoryBytes), sizes);
  assert.equal(engine.stats.bundleErrors, 0);
});
