/**
 * The sandboxed engine (host/engine/sandbox/): same detections as the
 * in-thread engine, and hostile bundles contained while every other bundle's
 * findings for the same events are still produced.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bundle, type CompiledBundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { SandboxEngine } from '../../host/engine/sandbox/engine.ts';
import { compileRulesDir } from '../../host/engine/sandbox/load.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { findingContext } from '../../host/output/finding-json.ts';
import type { Finding } from '../../host/engine/finding.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { traceeEvent } from '../helpers/events.ts';
import { HOSTILE, bundleBytes, containerFieldWat } from '../helpers/hostile-bundles.ts';

const engines: SandboxEngine[] = [];
after(async () => { await Promise.all(engines.map((e) => e.close())); });

async function sandbox(bundles: CompiledBundle[], options: Parameters<typeof SandboxEngine.start>[2] = {}, errors: string[] = []): Promise<SandboxEngine> {
  const engine = await SandboxEngine.start(bundles, (m) => errors.push(m), { log: () => {}, ...options });
  engines.push(engine);
  return engine;
}

function compile(name: string, bytes: Uint8Array, limits?: Parameters<typeof Bundle.compile>[2]): Promise<CompiledBundle> {
  return Bundle.compile(name, bytes, limits);
}

function batchOf(events: Array<[name: string, pid: number, container?: boolean]>, containerRef = () => 0): Uint8Array {
  const w = new BatchWriter();
  for (const [name, pid, container] of events) {
    w.add(traceeEvent(name, [], { processId: pid, contextFlags: { containerStarted: !!container, isCompat: false } }), containerRef());
  }
  return w.finish();
}

const describe = (fs: Finding[]) => fs.map((f) => `${f.signature.id}:${findingContext(f).eventName}:${findingContext(f).processId}:${JSON.stringify(f.data)}`);
const byEvent = (fs: Finding[]) => describe(fs).sort();
const ptraces = (n: number, from = 0) => Array.from({ length: n }, (_, i): [string, number] => ['ptrace', from + i]);

test('runs the same detections as the in-thread engine, synchronously or pipelined', async () => {
  const defs: Array<[string, Array<{ name: string; origin?: string }>]> = [
    ['S-1', [{ name: 'ptrace' }]],
    ['S-2', [{ name: 'sched_process_exec', origin: 'container' }]],
    ['S-3', [{ name: 'sched_process_exec', origin: 'host' }, { name: 'ptrace', origin: 'host' }]],
    ['S-4', [{ name: '*' }]],
    ['S-5', [{ name: 'memfd_create' }]],
  ];
  const bytes = defs.map(([id, sel]) => watModule(echoBundleWat(), metadata(id, sel)));
  const compiled = await Promise.all(bytes.map((b, i) => compile(`${i}.wasm`, b)));
  const inThread = new Engine(await Promise.all(bytes.map((b, i) => Bundle.load(`${i}.wasm`, b, () => {}))));
  const sb = await sandbox(compiled, { workers: 3 });
  const names = ['ptrace', 'sched_process_exec', 'sched_process_exit', 'memfd_create', 'sched_process_fork'];
  const batches = [0, 1, 2, 3].map((k) => batchOf(Array.from({ length: 200 }, (_, i): [string, number, boolean] => [names[(i * (k + 3)) % 5], i, i % 3 === 0])));
  for (const b of batches) assert.deepEqual(byEvent(sb.process(b)), byEvent(inThread.process(b)));

  // Batches submitted back to back go to the workers together (one sub-batch): the echo bundle's
  // index, its data, then counts across them; which findings each batch gets does not change.
  const piped: Finding[][] = [];
  for (const b of batches) sb.submit(b, (f) => piped.push(f));
  sb.flush();
  assert.equal(piped.length, 4, 'one callback per batch, in order');
  const withoutData = (fs: Finding[]) => byEvent(fs).map((f) => f.replace(/:\{.*\}$/, ''));
  batches.forEach((b, i) => assert.deepEqual(withoutData(piped[i]), withoutData(inThread.process(b))));
  assert.deepEqual(sb.bundles().map((b) => [b.id, b.findings, b.disabled]), inThread.bundles().map((b) => [b.id, b.findings, b.disabled]));
  assert.equal(sb.stats.bundleErrors, 0);
  assert.deepEqual(sb.selectedEventIds(), undefined);
});

test('pipelined findings arrive without a further batch or flush', async () => {
  const sb = await sandbox([await compile('a.wasm', bundleBytes(echoBundleWat(), 'P-1'))]);
  const got = await new Promise<Finding[]>((resolve) => sb.submit(batchOf(ptraces(3)), resolve));
  assert.equal(got.length, 3);
});

test('hostile bundles are contained, reported clearly, and the others still see every event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracee-hostile-'));
  const files: Record<string, Uint8Array> = {
    'a-healthy.wasm': bundleBytes(echoBundleWat(), 'OK-A'),
    'b-loop.wasm': bundleBytes(HOSTILE.infiniteLoop(), 'BAD-LOOP'),
    'c-memory.wasm': bundleBytes(HOSTILE.memoryGrowth(), 'BAD-MEM'),
    'd-trap.wasm': bundleBytes(HOSTILE.trapMidBatch(), 'BAD-TRAP'),
    'e-huge.wasm': bundleBytes(HOSTILE.hugeFinding(), 'BAD-HUGE'),
    'f-many.wasm': bundleBytes(HOSTILE.manyFindings(500), 'BAD-MANY'),
    'g-start.wasm': bundleBytes(HOSTILE.startLoop(), 'BAD-START'),
    'h-metadata.wasm': watModule(echoBundleWat(), '{"abi":1,"id":'),
    'i-not-wasm.wasm': new TextEncoder().encode('#!/bin/sh\nrm -rf /\n'),
    'j-wasi.wasm': bundleBytes(HOSTILE.wasiImport(), 'BAD-WASI'),
    'k-healthy.wasm': bundleBytes(echoBundleWat(), 'OK-K', ['ptrace', 'sched_process_exit']),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const limits = { maxMemoryBytes: 4 << 20, maxFindingsPerBatch: 200, maxFindingBytes: 64 << 10 };
  const loaded = await compileRulesDir(dir, { limits });
  assert.deepEqual(loaded.errors.map((e) => e.message), [
    'bundle h-metadata.wasm: "tracee.signature" section is not valid UTF-8 JSON: Unexpected end of JSON input',
    'bundle i-not-wasm.wasm: not a valid WebAssembly module: not a WebAssembly binary (bad magic)',
    'bundle j-wasi.wasm: import wasi_snapshot_preview1.fd_write (function) is not part of the signature SDK; allowed: tracee.emit_finding, tracee.log, tracee.container_get, env.abort',
  ]);

  const errors: string[] = [];
  const budgetMs = 300;
  const sb = await sandbox(loaded.bundles, { workers: 2, budgetMs, limits }, errors);
  assert.deepEqual(sb.loadErrors.map((e) => e.message), [`bundle g-start.wasm: its start function ran over the time budget of ${budgetMs} ms (stopped)`]);

  const events: Array<[string, number]> = [...ptraces(150), ['sched_process_exit', 999]];
  const started = performance.now();
  const first = sb.process(batchOf(events));
  const elapsed = performance.now() - started;
  const echo = (id: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${id}:ptrace:${from + i}:{"n":${i}}`);
  const found = describe(first);
  assert.deepEqual(found.filter((f) => f.startsWith('OK-A:')), echo('OK-A', 150));
  assert.deepEqual(found.filter((f) => f.startsWith('OK-K:')), [...echo('OK-K', 150), 'OK-K:sched_process_exit:999:{"n":150}']);
  assert.deepEqual(found.filter((f) => f.startsWith('BAD-TRAP:')), echo('BAD-TRAP', 1), 'findings before the trap are kept');
  assert.deepEqual(found.filter((f) => f.startsWith('BAD-MANY:')).length, 200, 'findings up to the limit are kept');
  assert.ok(elapsed < 2 * budgetMs + 5000, `the loop was stopped (${Math.round(elapsed)} ms)`);

  const reasons = Object.fromEntries(sb.bundles().map((b) => [b.id, b.disabled]));
  assert.equal(reasons['OK-A'], null);
  assert.equal(reasons['OK-K'], null);
  assert.match(reasons['BAD-LOOP']!, new RegExp(`^exceeded its time budget: one call ran \\d+ ms, the limit is ${budgetMs} ms \\(stopped; an endless loop\\?\\)$`));
  assert.match(reasons['BAD-MEM']!, /^memory limit of 4 MiB reached \(it has 4 MiB\): trap: unreachable$/);
  assert.equal(reasons['BAD-HUGE'], 'a finding of 16 MiB is over the finding size limit of 64 KiB');
  assert.equal(reasons['BAD-MANY'], 'more than 200 findings in one batch (the findings per batch limit)');
  assert.equal(reasons['BAD-TRAP'], 'trap: unreachable');
  assert.equal(sb.stats.bundleErrors, 5);
  assert.equal(sb.stats.limitsExceeded, 4);
  assert.equal(sb.stats.timeouts, 2, 'the start loop and the batch loop');
  assert.match(errors.join('\n'), /signature BAD-LOOP \(b-loop\.wasm\) disabled: exceeded its time budget/);
  assert.match(errors.join('\n'), /sandbox worker \d restarted \(b-loop\.wasm overran its time budget\); re-instantiating/);

  const restarts = sb.stats.restarts;
  const second = describe(sb.process(batchOf(ptraces(5, 1000))));
  assert.deepEqual(second.filter((f) => f.startsWith('OK-A:')), echo('OK-A', 5, 1000));
  assert.deepEqual(second.filter((f) => f.startsWith('OK-K:')), echo('OK-K', 5, 1000));
  assert.deepEqual(second.filter((f) => !f.startsWith('OK-')), [], 'disabled bundles stay disabled');
  assert.equal(sb.stats.restarts, restarts);
});

test('a bundle keeps its state from batch to batch', async () => {
  // A counter in memory: each finding carries the running total of records seen.
  const counting = echoBundleWat().replace('(i64.extend_i32_u (local.get $i))', '(i64.extend_i32_u (i32.load (i32.const 32)))')
    .replace('(local.set $i (i32.add (local.get $i) (i32.const 1)))', '(local.set $i (i32.add (local.get $i) (i32.const 1))) (i32.store (i32.const 32) (i32.add (i32.load (i32.const 32)) (i32.const 1)))');
  const sb = await sandbox([await compile('count.wasm', bundleBytes(counting, 'CNT'))]);
  sb.process(batchOf(ptraces(3)));
  assert.deepEqual(sb.process(batchOf(ptraces(2))).map((f) => f.data.n), [3, 4]);
});

test('a bundle reading container fields sees the host table, kept in step as it changes', async () => {
  const table = new ContainerTable();
  const ref = table.refFor('c0ffee');
  const bytes = bundleBytes(containerFieldWat(2), 'CTR');
  const inThread = new Engine([await Bundle.load('ctr.wasm', bytes, () => {}, { containers: table })]);
  const sb = await sandbox([await compile('ctr.wasm', bytes)], { containers: table });
  const batch = () => batchOf([['ptrace', 1, true], ['ptrace', 2]], (() => { let i = 0; return () => (i++ === 0 ? ref : 0); })());
  assert.deepEqual(sb.process(batch()).map((f) => f.data.c), ['', '']);
  table.update('c0ffee', { image: 'docker.io/library/nginx:1.27' });
  assert.deepEqual(sb.process(batch()).map((f) => f.data.c), ['docker.io/library/nginx:1.27', '']);
  assert.deepEqual(inThread.process(batch()).map((f) => f.data.c), ['docker.io/library/nginx:1.27', '']);
});

test('a restarted worker is given the container table again, and stays in step with it', async () => {
  const table = new ContainerTable();
  const nginx = table.refFor('c0ffee');
  table.update('c0ffee', { image: 'docker.io/library/nginx:1.27' });
  const bundles = [await compile('ctr.wasm', bundleBytes(containerFieldWat(2), 'CTR')), await compile('loop.wasm', bundleBytes(HOSTILE.infiniteLoop(), 'LOOP'))];
  const sb = await sandbox(bundles, { containers: table, workers: 1, budgetMs: 200 });
  // The loop overruns: the worker is replaced and the batch run again, in the new worker.
  assert.deepEqual(sb.process(batchOf([['ptrace', 1, true]], () => nginx)).map((f) => f.data.c), ['docker.io/library/nginx:1.27']);
  assert.equal(sb.stats.restarts, 1);
  const redis = table.refFor('beef');
  table.update('beef', { image: 'docker.io/library/redis:7' });
  assert.deepEqual(sb.process(batchOf([['ptrace', 2, true]], () => redis)).map((f) => f.data.c), ['docker.io/library/redis:7']);
});

test('a malformed batch is reported and the next one processed', async () => {
  const errors: string[] = [];
  const sb = await sandbox([await compile('a.wasm', bundleBytes(echoBundleWat(), 'M-1'))], {}, errors);
  assert.deepEqual(sb.process(new Uint8Array(10)), []);
  const corrupt = batchOf(ptraces(3));
  new DataView(corrupt.buffer).setUint32(24 + 216 * 0 + 0, 12, true);
  assert.deepEqual(sb.process(corrupt), []);
  assert.equal(sb.stats.badBatches, 2);
  assert.match(errors.join('\n'), /record 0 at offset 24: bad size 12/);
  assert.equal(sb.process(batchOf(ptraces(2))).length, 2);
});
