/**
 * Per-bundle limits (host/engine/limits.ts) in the in-thread engine: memory,
 * findings per batch, finding size. Exceeding one disables that bundle with a
 * clear error and a count; the others are unaffected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { limitMemory, resolveLimits, DEFAULT_LIMITS, BundleLimitError } from '../../host/engine/limits.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { echoBundleWat, watModule } from '../helpers/wat-bundle.ts';
import { traceeEvent } from '../helpers/events.ts';
import { HOSTILE, bundleBytes } from '../helpers/hostile-bundles.ts';

function ptraces(n: number): Uint8Array {
  const w = new BatchWriter();
  for (let i = 0; i < n; i++) w.add(traceeEvent('ptrace', [], { processId: i }));
  return w.finish();
}

const limits = { maxMemoryBytes: 2 << 20, maxFindingsPerBatch: 20, maxFindingBytes: 1024 };

test('each limit disables only the bundle that exceeded it, with a clear error, and is counted', async () => {
  const load = (wat: string, id: string) => Bundle.load(`${id}.wasm`, bundleBytes(wat, id), () => {}, { limits });
  const errors: string[] = [];
  const engine = new Engine([
    await load(echoBundleWat(), 'OK'),
    await load(HOSTILE.memoryGrowth(), 'MEM'),
    await load(HOSTILE.manyFindings(50), 'MANY'),
    await load(HOSTILE.hugeFinding(), 'HUGE'),
  ], (m) => errors.push(m));
  const findings = engine.process(ptraces(10));
  assert.equal(findings.filter((f) => f.signature.id === 'OK').length, 10);
  assert.equal(findings.filter((f) => f.signature.id === 'MANY').length, 20);
  assert.deepEqual(errors, [
    'engine: signature MEM (MEM.wasm) disabled: memory limit of 2 MiB reached (it has 2 MiB): trap: unreachable',
    'engine: signature MANY (MANY.wasm) disabled: more than 20 findings in one batch (the findings per batch limit)',
    'engine: signature HUGE (HUGE.wasm) disabled: a finding of 16 MiB is over the finding size limit of 1 KiB',
  ]);
  assert.equal(engine.stats.limitsExceeded, 3);
  assert.equal(engine.stats.bundleErrors, 3);
  assert.equal(engine.process(ptraces(3)).length, 3, 'the healthy bundle runs on');
});

test('a trap far below the memory limit is not reported as the memory limit', async () => {
  const errors: string[] = [];
  const engine = new Engine([await Bundle.load('t.wasm', bundleBytes(HOSTILE.trapMidBatch(), 'T'), () => {})], (m) => errors.push(m));
  engine.process(ptraces(3));
  assert.deepEqual(errors, ['engine: signature T (t.wasm) disabled: trap: unreachable']);
  assert.equal(engine.stats.limitsExceeded, 0);
});

test('the memory limit is written into the module: a maximum is added or lowered, never raised', () => {
  const memoryOf = (wasm: Uint8Array) => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), { tracee: { emit_finding() {} } });
    const memory = instance.exports.memory as WebAssembly.Memory;
    let pages = memory.buffer.byteLength / 65536;
    try {
      for (;;) { memory.grow(1); pages++; }
    } catch {
      return pages;
    }
  };
  const unbounded = watModule(echoBundleWat());
  assert.equal(memoryOf(limitMemory(unbounded, 1 << 20)), 16);
  const bounded = watModule(echoBundleWat().replace('(memory (export "memory") 1)', '(memory (export "memory") 1 4)'));
  assert.equal(limitMemory(bounded, 1 << 20), bounded, 'a smaller maximum is kept as is');
  assert.equal(memoryOf(limitMemory(bounded, 2 << 20 /* 32 pages */)), 4);
  const big = watModule(echoBundleWat().replace('(memory (export "memory") 1)', '(memory (export "memory") 40)'));
  assert.throws(() => limitMemory(big, 2 << 20), (err: Error) => err instanceof BundleLimitError && err.message === 'its memory starts at 2.5 MiB, above the memory limit of 2 MiB');
});

test('a bundle whose initial memory is above the limit is refused at load', async () => {
  const big = watModule(echoBundleWat().replace('(memory (export "memory") 1)', '(memory (export "memory") 40)'), JSON.parse(JSON.stringify({ abi: 1, id: 'B', version: '1', name: 'b', eventName: 'b', description: '', selectedEvents: [{ name: 'ptrace' }] })));
  await assert.rejects(Bundle.load('big.wasm', big, () => {}, { limits }), /^BundleLoadError: bundle big\.wasm: its memory starts at 2\.5 MiB, above the memory limit of 2 MiB$/);
});

test('limits default to 64 MiB, 65536 findings per batch and 256 KiB per finding, and must be positive', () => {
  assert.deepEqual(resolveLimits(), { ...DEFAULT_LIMITS });
  assert.deepEqual(DEFAULT_LIMITS, { maxMemoryBytes: 64 << 20, maxFindingsPerBatch: 65536, maxFindingBytes: 256 << 10 });
  assert.throws(() => resolveLimits({ maxFindingsPerBatch: 0 }), /maxFindingsPerBatch must be a positive integer, got 0/);
  assert.throws(() => resolveLimits({ maxMemoryBytes: 1000 }), /at least one 64 KiB page/);
});
