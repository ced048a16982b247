/**
 * `tracee-rules build` (host/build/build-bundles.ts): bundles carry their
 * metadata in the `tracee.signature` section, import only the sandbox,
 * are reproducible, and problems are reported as `file:line:col message`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBundles, type BuildResult } from '../../host/build/build-bundles.ts';

let dir: string;
let shipped: BuildResult;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-build-test-'));
  shipped = await buildBundles('signatures-as', path.join(dir, 'out'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function section(wasm: Uint8Array): Record<string, unknown> {
  const sections = WebAssembly.Module.customSections(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), 'tracee.signature');
  assert.equal(sections.length, 1);
  return JSON.parse(Buffer.from(sections[0]).toString('utf8'));
}

/** Writes signature files into a fresh `<dir>/<name>/signatures/` (the SDK is served by the build). */
async function signatureDir(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(dir, name);
  await mkdir(path.join(root, 'signatures'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, 'signatures', file), text);
  return root;
}

const HEADER = 'import { Event, Metadata, register, emit, EventId } from "../sdk";\n';

const SHIPPED = [
  'anti_debugging.wasm', 'aslr_inspection.wasm', 'cgroup_notify_on_release.wasm', 'cgroup_release_agent.wasm',
  'core_pattern_modification.wasm', 'default_loader_mod.wasm', 'disk_mount.wasm', 'docker_abuse.wasm',
  'dropped_executable.wasm', 'dynamic_code_loading.wasm', 'fileless_execution.wasm', 'hidden_file_created.wasm',
  'illegitimate_shell.wasm', 'k8s_api_connection.wasm', 'k8s_cert_theft.wasm', 'k8s_service_account_token.wasm',
  'kernel_module_loading.wasm', 'ld_preload.wasm', 'proc_fops_hooking.wasm', 'proc_kcore_read.wasm',
  'proc_mem_access.wasm', 'proc_mem_code_injection.wasm', 'process_vm_write_inject.wasm', 'ptrace_code_injection.wasm',
  'rcd_modification.wasm', 'sched_debug_recon.wasm', 'scheduled_task_mod.wasm', 'stdio_over_socket.wasm',
  'sudoers_modification.wasm', 'syscall_hooking.wasm', 'system_request_key_mod.wasm',
];

test('the shipped signatures build into one bundle per file', async () => {
  assert.deepEqual(shipped.errors.map(String), []);
  assert.deepEqual(shipped.built.map((b) => path.basename(b.path)), SHIPPED);
  assert.deepEqual((await readdir(path.join(dir, 'out'))).sort(), SHIPPED);
});

test('the tracee.signature section holds Tracee metadata with catalogue event names', async () => {
  const anti = section(await readFile(path.join(dir, 'out', 'anti_debugging.wasm')));
  assert.deepEqual(anti, {
    abi: 1, id: 'TRC-102', version: '1', name: 'Anti-Debugging detected', eventName: 'anti_debugging',
    description: 'A process used anti-debugging techniques to block a debugger. Malware use anti-debugging to stay invisible and inhibit analysis of their behavior.',
    tags: [],
    properties: {
      Severity: 1, Category: 'defense-evasion', Technique: 'Debugger Evasion', Kubernetes_Technique: '',
      id: 'attack-pattern--e4dc8c01-417f-458d-9ee0-bb0617c1b391', external_id: 'T1622',
    },
    selectedEvents: [{ source: 'tracee', name: 'ptrace', origin: '*' }],
  });
  const fileless = section(await readFile(path.join(dir, 'out', 'fileless_execution.wasm')));
  assert.equal(fileless.id, 'TRC-105');
  assert.equal(fileless.eventName, 'fileless_execution');
  assert.deepEqual(fileless.selectedEvents, [{ source: 'tracee', name: 'sched_process_exec', origin: '*' }]);
  assert.deepEqual(fileless.properties, {
    Severity: 3, Category: 'defense-evasion', Technique: 'Reflective Code Loading', Kubernetes_Technique: '',
    id: 'attack-pattern--4933e63b-9b77-476e-ab29-761bc5b7d15a', external_id: 'T1620',
  });
  assert.deepEqual(shipped.built[0].metadata, anti);
});

test('bundles import only the sandbox and export the ABI, without the build-only metadata export', async () => {
  const allowed = new Set(['tracee.emit_finding', 'tracee.log', 'env.abort']);
  for (const b of shipped.built) {
    const module = new WebAssembly.Module(await readFile(b.path));
    for (const i of WebAssembly.Module.imports(module)) assert.ok(allowed.has(`${i.module}.${i.name}`), `${b.path} imports ${i.module}.${i.name}`);
    const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
    assert.deepEqual(exports, ['memory:memory', 'tracee_abi_version:global', 'tracee_input:function', 'tracee_on_batch:function']);
  }
});

test('building twice, or from a copy elsewhere, gives byte-identical bundles', async () => {
  const copy = path.join(dir, 'copy', 'signatures-as');
  await cp('signatures-as', copy, { recursive: true });
  const again = await buildBundles('signatures-as', path.join(dir, 'again'));
  const moved = await buildBundles(copy, path.join(dir, 'moved'));
  assert.deepEqual([...again.errors, ...moved.errors].map(String), []);
  for (const name of ['anti_debugging.wasm', 'fileless_execution.wasm']) {
    const first = await readFile(path.join(dir, 'out', name));
    assert.ok(first.equals(await readFile(path.join(dir, 'again', name))), `${name} differs between builds`);
    assert.ok(first.equals(await readFile(path.join(dir, 'moved', name))), `${name} depends on where the sources are`);
  }
});

test('a type error is reported at its line and column in the signature file', async () => {
  const root = await signatureDir('type-error', {
    'bad.ts': `${HEADER}
register(new Metadata("X-1", "1", "Bad", "bad", "d").select(EventId.ptrace), onEvent);

function onEvent(e: Event): void {
  let n: i32 = "not a number";
  emit(e);
}
`,
  });
  const file = path.join(root, 'signatures', 'bad.ts');
  const { built, errors } = await buildBundles(root, path.join(root, 'out'));
  assert.equal(built.length, 0);
  assert.equal(errors.length, 1);
  const [err] = errors;
  assert.equal(err.file, file);
  assert.equal(err.line, 6);
  assert.equal(err.column, 16);
  assert.match(String(err), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:16 TS2322: `));
  assert.equal(err.code, 'TRC_ERR_BUILD');
  assert.deepEqual(await readdir(path.join(root, 'out')), []); // nothing written for a failed signature
});

test('paths inside the working directory are printed relative to it', async () => {
  const root = await signatureDir('relative', {
    'bad.ts': `${HEADER}register(new Metadata("X-1", "1", "Bad", "bad", "d").select(EventId.ptrace), onEvent);\nfunction onEvent(e: Event): void { let n: i32 = "x"; }\n`,
  });
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const { errors } = await buildBundles('.', 'out');
    assert.match(String(errors[0]), /^signatures\/bad\.ts:3:49 TS2322: /);
  } finally {
    process.chdir(cwd);
  }
});

test('a source without signatures is an invalid argument, not an empty success', async () => {
  const empty = path.join(dir, 'empty');
  await mkdir(empty, { recursive: true });
  await assert.rejects(buildBundles(empty, path.join(empty, 'out')), { code: 'TRC_ERR_INVALID_ARGUMENT' });
  await assert.rejects(buildBundles(path.join(dir, 'missing'), path.join(empty, 'out')), { code: 'TRC_ERR_INVALID_ARGUMENT' });
});

test('signatures the host would refuse are reported at their register() call', async () => {
  const root = await signatureDir('refused', {
    'unknown_event.ts': `${HEADER}\nregister(new Metadata("X-2", "1", "U", "u", "d").select(4242), onEvent);\nfunction onEvent(e: Event): void { emit(e); }\n`,
    'duplicate_prop.ts': `${HEADER}\nregister(new Metadata("X-3", "1", "D", "d", "d").prop("a", 1).prop("a", true).select(EventId.ptrace), onEvent);\nfunction onEvent(e: Event): void { emit(e); }\n`,
    'random.ts': `${HEADER}\nregister(new Metadata("X-4", "1", "R", "r", "d").select(EventId.ptrace), onEvent);\nfunction onEvent(e: Event): void { if (Math.random() < 0.5) emit(e); }\n`,
    'no_register.ts': `${HEADER}\nexport function onEvent(e: Event): void { emit(e); }\n`,
    'no_select.ts': `${HEADER}\nregister(new Metadata("X-5", "1", "S", "s", "d"), onEvent);\nfunction onEvent(e: Event): void { emit(e); }\n`,
    '_helper.ts': 'export const NOT_A_SIGNATURE = 1;\n',
  });
  const { built, errors } = await buildBundles(root, path.join(root, 'out'));
  assert.equal(built.length, 0);
  const byFile = (name: string) => errors.filter((e) => path.basename(e.file) === name).map((e) => `${e.line}:${e.column} ${e.detail}`);
  assert.deepEqual(byFile('unknown_event.ts'), ['3:1 selected event id 4242 is not in the event catalogue (host/events/catalogue.ts)']);
  assert.deepEqual(byFile('duplicate_prop.ts'), ['3:1 metadata property "a" is set twice']);
  assert.deepEqual(byFile('random.ts'), ['3:1 the signature imports env.seed; a bundle may import only tracee.emit_finding, tracee.log, tracee.container_get, env.abort']);
  assert.match(byFile('no_register.ts')[0], /^1:1 aborted while registering: the signature file did not call register\(\)/);
  assert.match(byFile('no_select.ts')[0], /^3:1 aborted while registering: the signature selects no event/);
  assert.equal(errors.length, 5); // _helper.ts is not a signature
});
