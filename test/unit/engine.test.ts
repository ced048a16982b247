import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { findingContext } from '../../host/output/finding-json.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { traceeEvent } from '../helpers/events.ts';
import type { Finding } from '../../host/engine/finding.ts';

const noLog = () => {};

async function bundle(name: string, wat: string, meta: unknown): Promise<Bundle> {
  return Bundle.load(name, watModule(wat, meta), noLog);
}

function batchOf(events: Array<[name: string, pid: number, container?: boolean]>): Uint8Array {
  const w = new BatchWriter();
  for (const [name, pid, container] of events) {
    w.add(traceeEvent(name, [], { processId: pid, contextFlags: { containerStarted: !!container, isCompat: false } }), container ? 1 : 0);
  }
  return w.finish();
}

const seen = (fs: Finding[], id: string) => fs.filter((f) => f.signature.id === id).map((f) => {
  const e = findingContext(f);
  return `${e.eventName}:${e.processId}:${f.data.n}`;
});

test('dispatches each event only to bundles that selected its name and origin', async () => {
  const ptraceAny = await bundle('a.wasm', echoBundleWat(), metadata('T-1', [{ name: 'ptrace' }]));
  const execContainer = await bundle('b.wasm', echoBundleWat(), metadata('T-2', [{ name: 'sched_process_exec', origin: 'container' }]));
  const execHost = await bundle('c.wasm', echoBundleWat(), metadata('T-3', [{ name: 'sched_process_exec', origin: 'host' }, { name: 'ptrace', origin: 'host' }]));
  const engine = new Engine([ptraceAny, execContainer, execHost]);
  const findings = engine.process(batchOf([
    ['sched_process_exit', 1], ['ptrace', 2], ['sched_process_exec', 3, true], ['sched_process_exec', 4], ['ptrace', 5, true], ['sched_process_fork', 6],
  ]));
  assert.deepEqual(seen(findings, 'T-1'), ['ptrace:2:0', 'ptrace:5:1']);
  assert.deepEqual(seen(findings, 'T-2'), ['sched_process_exec:3:0']);
  assert.deepEqual(seen(findings, 'T-3'), ['ptrace:2:0', 'sched_process_exec:4:1']);
  assert.equal(engine.stats.events, 6);
});

test('a "*" selector receives every event once, even if also selected by name', async () => {
  const all = await bundle('all.wasm', echoBundleWat(), metadata('T-ALL', [{ name: '*' }, { name: 'ptrace' }]));
  const engine = new Engine([all]);
  assert.equal(engine.selectedEventIds(), undefined);
  const findings = engine.process(batchOf([['ptrace', 1], ['sched_process_exit', 2], ['ptrace', 3]]));
  assert.deepEqual(seen(findings, 'T-ALL'), ['ptrace:1:0', 'sched_process_exit:2:1', 'ptrace:3:2']);
});

test('a bundle that traps is disabled and the others still see every event', async () => {
  const errors: string[] = [];
  const trapping = await bundle('trap.wasm', echoBundleWat(1), metadata('T-TRAP', [{ name: 'ptrace' }]));
  const healthy = await bundle('ok.wasm', echoBundleWat(), metadata('T-OK', [{ name: 'ptrace' }]));
  const engine = new Engine([trapping, healthy], (m) => errors.push(m));
  const first = engine.process(batchOf([['ptrace', 1], ['ptrace', 2], ['ptrace', 3]]));
  assert.deepEqual(seen(first, 'T-OK'), ['ptrace:1:0', 'ptrace:2:1', 'ptrace:3:2']);
  assert.deepEqual(seen(first, 'T-TRAP'), ['ptrace:1:0'], 'findings emitted before the trap are kept');
  assert.equal(engine.stats.bundleErrors, 1);
  assert.match(errors[0], /signature T-TRAP \(trap\.wasm\) disabled: .*unreachable/);
  const second = engine.process(batchOf([['ptrace', 4]]));
  assert.deepEqual(seen(second, 'T-OK'), ['ptrace:4:0']);
  assert.deepEqual(seen(second, 'T-TRAP'), []);
  assert.equal(engine.bundles().find((b) => b.id === 'T-TRAP')?.disabled?.includes('unreachable'), true);
});

test('a bundle that emits malformed finding data is disabled, not the engine', async () => {
  const bad = echoBundleWat().replace('(i32.const 64) (i32.const 12)', '(i32.const 64) (i32.const 5)');
  const errors: string[] = [];
  const engine = new Engine([await bundle('bad.wasm', bad, metadata('T-BAD', [{ name: 'ptrace' }]))], (m) => errors.push(m));
  assert.deepEqual(engine.process(batchOf([['ptrace', 1]])), []);
  assert.match(errors[0], /T-BAD .*finding data truncated/);
});

test('a malformed batch is counted and reported, and the next batch is processed', async () => {
  const errors: string[] = [];
  const engine = new Engine([await bundle('ok.wasm', echoBundleWat(), metadata('T-OK', [{ name: 'ptrace' }]))], (m) => errors.push(m));
  assert.deepEqual(engine.process(new Uint8Array(10)), []);
  const corrupt = batchOf([['ptrace', 1], ['ptrace', 2]]);
  new DataView(corrupt.buffer).setUint32(24, 12, true); // first record's size: corrupt
  assert.deepEqual(engine.process(corrupt), []);
  assert.equal(engine.stats.badBatches, 2);
  assert.match(errors.join('\n'), /shorter than its header/);
  assert.match(errors.join('\n'), /record 0 at offset 24: bad size 12/);
  assert.equal(engine.process(batchOf([['ptrace', 3]])).length, 1);
});

test('load refuses imports outside the SDK, naming the import', async () => {
  const wat = echoBundleWat(-1, '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))');
  await assert.rejects(bundle('wasi.wasm', wat, metadata('T-W', [{ name: 'ptrace' }])),
    (err: Error & { code?: string }) => err.code === 'TRC_ERR_BUNDLE_LOAD' && /bundle wasi\.wasm: import wasi_snapshot_preview1\.fd_write \(function\) is not part of the signature SDK/.test(err.message));
  const memImport = echoBundleWat().replace('(memory (export "memory") 1)', '(import "env" "memory" (memory 1)) (export "memory" (memory 0))');
  await assert.rejects(bundle('mem.wasm', memImport, metadata('T-M', [{ name: 'ptrace' }])), /import env\.memory \(memory\) is not part/);
});

test('load reports bad metadata, missing exports, ABI versions and non-wasm input clearly', async () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['not wasm', new TextEncoder().encode('#!/bin/sh\necho hi'), /not a valid WebAssembly module/],
    ['no section', watModule(echoBundleWat()), /expected one "tracee\.signature" custom section, found 0/],
    ['bad json', watModule(echoBundleWat(), '{"abi":1,'), /not valid UTF-8 JSON/],
    ['abi', watModule(echoBundleWat(), metadata('X', [{ name: 'ptrace' }], { abi: 2 })), /metadata abi 2 is not supported/],
    ['no id', watModule(echoBundleWat(), metadata('', [{ name: 'ptrace' }])), /"id" must be a non-empty string/],
    ['event', watModule(echoBundleWat(), metadata('X', [{ name: 'no_such_event' }])), /selectedEvents\[0\]\.name "no_such_event" is not an event in the catalogue/],
    ['origin', watModule(echoBundleWat(), metadata('X', [{ name: 'ptrace', origin: 'k8s' }])), /origin "k8s" must be one of/],
    ['export', watModule(echoBundleWat().replace('(export "tracee_on_batch")', ''), metadata('X', [{ name: 'ptrace' }])), /missing export tracee_on_batch/],
    ['version', watModule(echoBundleWat().replace('(i32.const 1))\n', '(i32.const 7))\n'), metadata('X', [{ name: 'ptrace' }])), /ABI version 7 is not supported/],
  ];
  for (const [what, bytes, message] of cases) {
    await assert.rejects(Bundle.load(`${what}.wasm`, bytes, noLog), message, what);
  }
});

test('findings from several bundles come out in event order', async () => {
  const a = await bundle('a.wasm', echoBundleWat(), metadata('T-A', [{ name: 'sched_process_exec' }]));
  const b = await bundle('b.wasm', echoBundleWat(), metadata('T-B', [{ name: 'ptrace' }]));
  const findings = new Engine([a, b]).process(batchOf([['ptrace', 1], ['sched_process_exec', 2], ['ptrace', 3]]));
  assert.deepEqual(findings.map((f) => `${f.signature.id}:${findingContext(f).processId}`), ['T-B:1', 'T-A:2', 'T-B:3']);
});
