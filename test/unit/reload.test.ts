/**
 * Hot reload of --rules-dir (host/engine/reload.ts), with the in-thread and
 * the sandboxed engine: bundles added, changed and removed while batches
 * flow; every event seen exactly once by each signature; a bundle that fails
 * to load keeps its previous version.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRulesDir } from '../../host/engine/sandbox/load.ts';
import { startEngine, type DetectionEngine } from '../../host/engine/sandbox/start.ts';
import { RulesWatcher, onSighup } from '../../host/engine/reload.ts';
import { generateKeys, loadPrivateKey, loadTrustedKey, signBundle } from '../../host/engine/signing.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { findingContext } from '../../host/output/finding-json.ts';
import type { Finding } from '../../host/engine/finding.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { traceeEvent } from '../helpers/events.ts';
import { HOSTILE, bundleBytes } from '../helpers/hostile-bundles.ts';

const engines: DetectionEngine[] = [];
after(async () => { await Promise.all(engines.map((e) => e.close())); });

/** The echo bundle, version `version`: its data says which version emitted it. */
function versioned(id: string, version: number, events = ['ptrace']): Uint8Array {
  const wat = echoBundleWat().replace('(i64.extend_i32_u (local.get $i))', `(i64.const ${version})`);
  return watModule(wat, metadata(id, events.map((name) => ({ name })), { version: String(version) }));
}

let pid = 0;
function batch(n: number): Uint8Array {
  const w = new BatchWriter();
  for (let i = 0; i < n; i++) w.add(traceeEvent('ptrace', [], { processId: ++pid }));
  return w.finish();
}

/** Writes atomically, as a package manager or `cp` + `mv` would. */
function put(dir: string, name: string, bytes: Uint8Array): void {
  writeFileSync(join(dir, `.${name}.tmp`), bytes);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

async function setup(sandbox: boolean, files: Record<string, Uint8Array>) {
  const dir = mkdtempSync(join(tmpdir(), 'tracee-reload-'));
  for (const [name, bytes] of Object.entries(files)) put(dir, name, bytes);
  const loaded = await compileRulesDir(dir);
  const engine = await startEngine(loaded.bundles, () => {}, { sandbox, workers: 2, log: () => {} });
  engines.push(engine);
  const lines: string[] = [];
  const watcher = new RulesWatcher(dir, engine, loaded.files, loaded.bundles, { report: (l) => lines.push(l), debounceMs: 50 });
  return { dir, engine, watcher, lines };
}

/** Per signature: pid → versions that reported it. */
function tally(findings: Finding[], into: Map<string, Map<number, number[]>>): void {
  for (const f of findings) {
    const perPid = into.get(f.signature.id) ?? new Map<number, number[]>();
    into.set(f.signature.id, perPid);
    const p = findingContext(f).processId as number;
    perPid.set(p, [...(perPid.get(p) ?? []), f.data.n as number]);
  }
}

for (const sandbox of [false, true]) {
  const which = sandbox ? 'sandboxed' : 'in-thread';

  test(`${which}: bundles added, swapped and removed between batches; no event lost or seen twice`, async () => {
    const { dir, engine, watcher, lines } = await setup(sandbox, { 'a.wasm': versioned('R-A', 1), 'b.wasm': versioned('R-B', 1) });
    const seen = new Map<string, Map<number, number[]>>();
    const firstPid = pid + 1;
    const pump = async (batches: number) => {
      for (let i = 0; i < batches; i++) {
        engine.submit(batch(20), (f) => tally(f, seen));
        await new Promise((r) => setImmediate(r));
      }
    };
    await pump(3);
    put(dir, 'a.wasm', versioned('R-A', 2));
    put(dir, 'c.wasm', versioned('R-C', 1));
    rmSync(join(dir, 'b.wasm'));
    const reloading = watcher.rescan();
    await pump(3); // batches keep flowing while the rescan reads and compiles
    const report = await reloading;
    await pump(3);
    engine.flush();
    const lastPid = pid;

    assert.deepEqual(report, { added: ['c.wasm'], swapped: ['a.wasm'], removed: ['b.wasm'], failed: [] });
    assert.deepEqual(lines, ['rules: swapped a.wasm (R-A v1 → R-A v2)', 'rules: loaded c.wasm (R-C v1)', 'rules: unloaded b.wasm (R-B v1)']);
    const a = seen.get('R-A')!;
    const versions: number[] = [];
    for (let p = firstPid; p <= lastPid; p++) {
      assert.equal(a.get(p)?.length, 1, `R-A saw pid ${p} exactly once`);
      versions.push(a.get(p)![0]);
    }
    const switchAt = versions.indexOf(2);
    assert.ok(switchAt > 0, 'the old version ran, then the new one');
    assert.deepEqual(versions.slice(switchAt).filter((v) => v !== 2), [], 'never back to the old version');
    assert.equal(switchAt % 20, 0, 'the swap happened between batches');
    const b = seen.get('R-B')!;
    const c = seen.get('R-C')!;
    assert.equal(b.size + c.size, lastPid - firstPid + 1, 'R-B until its removal, R-C from its arrival, at the same batch');
    assert.equal(Math.max(...b.keys()) + 1, Math.min(...c.keys()));
    assert.deepEqual(engine.bundles().map((s) => s.id), ['R-A', 'R-C']);
  });

  test(`${which}: a bundle that fails to load keeps its previous version running, and says why`, async () => {
    const { dir, engine, watcher, lines } = await setup(sandbox, { 'a.wasm': versioned('R-A', 1) });
    put(dir, 'a.wasm', new TextEncoder().encode('not wasm'));
    put(dir, 'n.wasm', bundleBytes(HOSTILE.wasiImport(), 'R-N'));
    const report = await watcher.rescan();
    assert.deepEqual(report.failed.map(([n]) => n), ['a.wasm', 'n.wasm']);
    assert.deepEqual(lines, [
      'rules: a.wasm not reloaded, keeping the previous version (R-A v1): not a valid WebAssembly module: not a WebAssembly binary (bad magic)',
      'rules: n.wasm not loaded: import wasi_snapshot_preview1.fd_write (function) is not part of the signature SDK; allowed: tracee.emit_finding, tracee.log, tracee.container_get, env.abort',
    ]);
    assert.deepEqual(engine.process(batch(2)).map((f) => `${f.signature.id}:${f.data.n}`), ['R-A:1', 'R-A:1']);

    // A version that compiles but cannot start (its start function traps) is refused at instantiation.
    put(dir, 'a.wasm', watModule(echoBundleWat().replace('(memory (export "memory") 1)', '(memory (export "memory") 1) (func $s unreachable) (start $s)'), metadata('R-A', [{ name: 'ptrace' }], { version: '3' })));
    lines.length = 0;
    await watcher.rescan();
    assert.match(lines.join('\n'), /^rules: a\.wasm not reloaded, keeping the previous version \(R-A v1\): instantiation failed: .*unreachable/);
    assert.deepEqual(engine.process(batch(1)).map((f) => `${f.signature.id}:${f.data.n}`), ['R-A:1']);

    // Fixed: it loads.
    put(dir, 'a.wasm', versioned('R-A', 4));
    await watcher.rescan();
    assert.deepEqual(engine.process(batch(1)).map((f) => `${f.signature.id}:${f.data.n}`), ['R-A:4']);
  });
}

test('the watcher reloads on its own when the directory changes, and on SIGHUP', async () => {
  const { dir, engine, watcher, lines } = await setup(true, { 'a.wasm': versioned('R-A', 1) });
  watcher.start();
  try {
    const changed = new Promise<void>((resolve) => {
      const poll = setInterval(() => { if (lines.length) { clearInterval(poll); resolve(); } }, 10);
    });
    put(dir, 'a.wasm', versioned('R-A', 2));
    await changed;
    assert.deepEqual(lines, ['rules: swapped a.wasm (R-A v1 → R-A v2)']);
    assert.deepEqual(engine.process(batch(1)).map((f) => f.data.n), [2]);
  } finally {
    watcher.stop();
  }
  const off = onSighup(watcher);
  try {
    put(dir, 'a.wasm', versioned('R-A', 3));
    const reloaded = new Promise<void>((resolve) => {
      const poll = setInterval(() => { if (lines.length === 2) { clearInterval(poll); resolve(); } }, 10);
    });
    process.kill(process.pid, 'SIGHUP');
    await reloaded;
    assert.equal(lines[1], 'rules: swapped a.wasm (R-A v2 → R-A v3)');
  } finally {
    off();
  }
});

test('with trusted keys, a reloaded bundle must be signed too', async () => {
  const keys = mkdtempSync(join(tmpdir(), 'tracee-reload-keys-'));
  generateKeys(join(keys, 'k'));
  const key = loadPrivateKey(join(keys, 'k.key'));
  const trustedKeys = [loadTrustedKey(join(keys, 'k.pub'))];
  const dir = mkdtempSync(join(tmpdir(), 'tracee-reload-signed-'));
  put(dir, 'a.wasm', signBundle(versioned('R-A', 1), key));
  const loaded = await compileRulesDir(dir, { trustedKeys });
  const engine = await startEngine(loaded.bundles, () => {}, { sandbox: false });
  const lines: string[] = [];
  const watcher = new RulesWatcher(dir, engine, loaded.files, loaded.bundles, { trustedKeys, report: (l) => lines.push(l) });
  put(dir, 'a.wasm', versioned('R-A', 2));
  await watcher.rescan();
  assert.deepEqual(lines, ['rules: a.wasm not reloaded, keeping the previous version (R-A v1): refused: not signed, and --trusted-keys requires signed bundles']);
  put(dir, 'a.wasm', signBundle(versioned('R-A', 2), key));
  await watcher.rescan();
  assert.equal(lines[1], 'rules: swapped a.wasm (R-A v1 → R-A v2)');
});
