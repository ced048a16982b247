/**
 * `tracee` running bundles from someone else, end to end, as root with real
 * capture: `--sandbox` keeps detecting while a bundle loops forever, and the
 * rules directory is hot-reloaded (a bundle added, removed, broken; SIGHUP
 * with --no-rules-watch) without restarting capture. Without root or a
 * needed kernel feature these tests FAIL saying which.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTriggers, runTriggerAsync } from '../helpers/triggers.ts';
import { ROOT, TraceeProcess } from '../helpers/tracee-process.ts';
import { HOSTILE, bundleBytes } from '../helpers/hostile-bundles.ts';
import { echoBundleWat } from '../helpers/wat-bundle.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';

const BUNDLES = join(ROOT, 'bundles');
let traceme: string;

before(() => {
  assert.equal(process.getuid?.(), 0, 'eBPF end-to-end tests need root: run them as root (sudo npm test)');
  assert.ok(existsSync('/sys/kernel/btf/vmlinux'), 'kernel feature missing: BTF (/sys/kernel/btf/vmlinux); CO-RE programs cannot load');
  assert.ok(existsSync(join(BUNDLES, 'anti_debugging.wasm')), 'built-in bundles missing: run npm run build');
  traceme = buildTriggers().ptrace_traceme;
});

/** A rules directory with copies of these built-in bundles. */
function rulesDir(...builtIn: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tracee-rules-'));
  for (const name of builtIn) copyFileSync(join(BUNDLES, name), join(dir, name));
  return dir;
}

/** Writes a bundle atomically (write, then rename), as docs/sandbox.md asks. */
function install(dir: string, name: string, bytes: Uint8Array): void {
  writeFileSync(join(dir, `.${name}.tmp`), bytes);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

const ids = (fs: FindingJson[], pid: number) => fs.filter((f) => f.Context.hostProcessId === pid).map((f) => f.SigMetadata.ID).sort();

/** Runs PTRACE_TRACEME and waits for `expected` findings for its pid (and gives others 300 ms to show up). */
async function traceMe(tracee: TraceeProcess, expected: string[]): Promise<string[]> {
  const { pid } = await runTriggerAsync(traceme);
  await tracee.waitFor((fs) => expected.every((id) => ids(fs, pid).includes(id)));
  await new Promise((r) => setTimeout(r, 300));
  return ids(tracee.findings, pid);
}

test('--sandbox: a bundle looping forever is stopped and disabled; the other bundle detects every time', async () => {
  const dir = rulesDir('anti_debugging.wasm');
  install(dir, 'loop.wasm', bundleBytes(HOSTILE.infiniteLoop(), 'TEST-LOOP'));
  const tracee = await TraceeProcess.start(['--rules-dir', dir, '--output', 'json', '--sandbox', '--sandbox-budget', '300']);
  try {
    assert.match(tracee.stderr, /and 2 signatures \(sandboxed\)/);
    assert.deepEqual(await traceMe(tracee, ['TRC-102']), ['TRC-102']);
    await tracee.waitForStderr(/signature TEST-LOOP \(loop\.wasm\) disabled: exceeded its time budget: one call ran \d+ ms, the limit is 300 ms/);
    assert.deepEqual(await traceMe(tracee, ['TRC-102']), ['TRC-102'], 'detection goes on after the watchdog restarted the worker');
  } finally {
    assert.equal(await tracee.stop(), 0, tracee.stderr);
  }
  assert.match(tracee.stderr, /lost: 0 \(ring buffer full\), 0 \(addon queue full\), 0 \(decode failure\), 1 signature errors/);
});

test('hot reload: bundles added, removed and broken while capturing; events never seen twice', async () => {
  const dir = rulesDir('anti_debugging.wasm', 'fileless_execution.wasm');
  const tracee = await TraceeProcess.start(['--rules-dir', dir, '--output', 'json']);
  try {
    assert.deepEqual(await traceMe(tracee, ['TRC-102']), ['TRC-102']);

    install(dir, 'echo.wasm', bundleBytes(echoBundleWat(), 'TEST-ECHO'));
    await tracee.waitForStderr(/rules: loaded echo\.wasm \(TEST-ECHO v1\)/);
    assert.deepEqual(await traceMe(tracee, ['TRC-102', 'TEST-ECHO']), ['TEST-ECHO', 'TRC-102'], 'one finding each: nothing seen twice');

    rmSync(join(dir, 'anti_debugging.wasm'));
    await tracee.waitForStderr(/rules: unloaded anti_debugging\.wasm \(TRC-102 v\d+\)/);
    assert.deepEqual(await traceMe(tracee, ['TEST-ECHO']), ['TEST-ECHO']);

    install(dir, 'echo.wasm', new TextEncoder().encode('not wasm'));
    await tracee.waitForStderr(/rules: echo\.wasm not reloaded, keeping the previous version \(TEST-ECHO v1\): /);
    assert.deepEqual(await traceMe(tracee, ['TEST-ECHO']), ['TEST-ECHO'], 'the previous version still runs');

    // An event the capture did not start with cannot be added while capturing: said, not silently missing.
    install(dir, 'bind.wasm', bundleBytes(echoBundleWat(), 'TEST-BIND', ['bind']));
    await tracee.waitForStderr(/rules: loaded bind\.wasm \(TEST-BIND v1\)/);
    await tracee.waitForStderr(/rules: not captured until tracee restarts \(it started without them\): bind; TEST-BIND will not see them until then/);
  } finally {
    assert.equal(await tracee.stop(), 0, tracee.stderr);
  }
  assert.match(tracee.stderr, /lost: 0 \(ring buffer full\), 0 \(addon queue full\), 0 \(decode failure\)/);
});

test('--no-rules-watch: a new bundle loads only on SIGHUP', async () => {
  const dir = rulesDir('fileless_execution.wasm');
  const tracee = await TraceeProcess.start(['--rules-dir', dir, '--output', 'json', '--no-rules-watch']);
  try {
    copyFileSync(join(BUNDLES, 'anti_debugging.wasm'), join(dir, 'anti_debugging.wasm'));
    await new Promise((r) => setTimeout(r, 800));
    assert.doesNotMatch(tracee.stderr, /rules: loaded/);
    tracee.signal('SIGHUP');
    await tracee.waitForStderr(/rules: loaded anti_debugging\.wasm \(TRC-102 v\d+\)/);
  } finally {
    assert.equal(await tracee.stop(), 0, tracee.stderr);
  }
});

test('the Rego all-in-one module detects live, in-thread and sandboxed', async () => {
  const dir = rulesDir();
  const build = spawnSync(process.execPath, [join(ROOT, 'host/cli/bin/tracee-rules.js'), 'build', join(ROOT, 'signatures-rego'), '-o', dir, '--rego-all-in-one'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  for (const sandbox of [[], ['--sandbox']]) {
    // --rules: one signature of the module runs; the module evaluates its others, their findings are not reported.
    const tracee = await TraceeProcess.start(['--rules-dir', dir, '--output', 'json', '--rules', 'TRC-102', ...sandbox]);
    try {
      assert.match(tracee.stderr, /and 1 signatures/);
      const found = await traceMe(tracee, ['TRC-102']);
      assert.deepEqual(found, ['TRC-102']);
      const f = tracee.findings.find((x) => x.SigMetadata.ID === 'TRC-102')!;
      assert.equal(f.SigMetadata.Name, 'Anti-Debugging detected');
      assert.equal(f.Context.eventName, 'ptrace');
    } finally {
      assert.equal(await tracee.stop(), 0, tracee.stderr);
    }
  }
});

test('bad sandbox and limit flags exit 2 naming the flag', () => {
  for (const [flag, value] of [['--sandbox-budget', '0'], ['--bundle-max-memory', 'lots'], ['--sandbox-workers', '-1']]) {
    const r = spawnSync(process.execPath, [join(ROOT, 'host/cli/bin/tracee.js'), '--rules-dir', BUNDLES, flag, value], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${flag} ${value}: must be a positive whole number`));
  }
});
