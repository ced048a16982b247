/**
 * A multi-signature module (the Rego all-in-one: every signature of
 * signatures-rego/ in one module) loaded from a rules directory and run by
 * the real engines, in-thread and sandboxed: one instance, one call per
 * batch, findings attributed to each signature, the same findings as one
 * bundle per signature; a subset selected runs only that subset's findings.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readdirSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildRegoBundles } from '../../host/build/rego/bundle-abi.ts';
import { buildRuntime } from '../../host/build/rego/build-runtime.ts';
import { loadRulesDir } from '../../host/engine/load.ts';
import { compileRulesDir } from '../../host/engine/sandbox/load.ts';
import { startEngine, type DetectionEngine } from '../../host/engine/sandbox/start.ts';
import { Engine } from '../../host/engine/engine.ts';
import type { Finding } from '../../host/engine/finding.ts';
import { replay } from '../../host/capture/replay.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { ROOT } from '../helpers/tracee-process.ts';
import { formatInspection, inspectBundle } from '../../host/engine/inspect.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/signatures');
let dir: string;
let perSignatureDir: string;
let allInOneDir: string;
let signatureIds: string[];

before(async () => {
  await buildRuntime({ quiet: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-multi-'));
  perSignatureDir = path.join(dir, 'each');
  allInOneDir = path.join(dir, 'aio');
  const each = await buildRegoBundles(path.join(ROOT, 'signatures-rego'), perSignatureDir);
  assert.deepEqual(each.errors.map(String), []);
  await mkdir(allInOneDir);
  const aio = await buildRegoBundles(path.join(ROOT, 'signatures-rego'), path.join(dir, 'scratch'), { allInOne: '../aio/rego-signatures.wasm' });
  assert.deepEqual(aio.errors.map(String), []);
  signatureIds = each.built.map((b) => b.metadata.id).sort();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every fixture event of the catalogue, as replayed batches (a few MB: every signature has work). */
async function fixtureBatches(containers: ContainerTable): Promise<Uint8Array[]> {
  const batches: Uint8Array[] = [];
  for (const id of readdirSync(FIXTURES).filter((n) => n.startsWith('TRC-')).sort()) {
    for (const kind of ['positive', 'negative']) {
      const file = path.join(FIXTURES, id, `${kind}.jsonl`);
      if (!existsSync(file)) continue;
      await replay(createReadStream(file), file, { containers, onError: (m) => { throw new Error(m); }, onBatch: (b) => { batches.push(b.slice()); } });
    }
  }
  return batches;
}

const key = (f: Finding) => `${f.signature.id} ${Buffer.from(f.record).toString('base64')} ${JSON.stringify(f.data)}`;

async function findingsOf(engine: Pick<DetectionEngine, 'submit' | 'flush'>, batches: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for (const b of batches) engine.submit(b, (fs) => out.push(...fs.map(key)));
  engine.flush();
  return out.sort();
}

test('the all-in-one module loads as one bundle per signature, sharing one instance', async () => {
  const { bundles: selected, disabled, errors } = await loadRulesDir(allInOneDir);
  assert.deepEqual(errors, []);
  assert.deepEqual(disabled.map((b) => b.metadata.id), ['TRC-108'], 'disabled by default, as its own bundle would be');
  const bundles = [...selected, ...disabled].sort((a, b) => a.member! - b.member!);
  assert.deepEqual(bundles.map((b) => b.metadata.id).sort(), signatureIds);
  assert.ok(bundles.every((b) => b.name === 'rego-signatures.wasm' && b.instanceKey === bundles[0].instanceKey));
  assert.deepEqual(bundles.map((b) => b.member), bundles.map((_, i) => i));
});

test('tracee-rules inspect describes the module: every signature, no problems', async () => {
  const r = await inspectBundle(path.join(allInOneDir, 'rego-signatures.wasm'));
  assert.deepEqual(r.problems, []);
  assert.equal(r.metadata, null);
  assert.deepEqual(r.members.map((m) => m.id).sort(), signatureIds);
  assert.match(formatInspection(r), new RegExp(`^signatures: {2}${signatureIds.length} in one module \\(Rego all-in-one\\)$`, 'm'));
});

test('in-thread and sandboxed: the all-in-one module gives exactly the per-signature bundles\' findings, each attributed to its signature', async () => {
  const containers = new ContainerTable();
  const batches = await fixtureBatches(containers);
  const each = await compileRulesDir(perSignatureDir);
  const aio = await compileRulesDir(allInOneDir);
  assert.deepEqual(aio.errors, []);
  const errors: string[] = [];
  const reference = await startEngine(each.bundles, (m) => errors.push(m), { sandbox: false, containers });
  const want = await findingsOf(reference, batches);
  assert.ok(new Set(want.map((k) => k.split(' ')[0])).size >= 12, 'most signatures find something on the fixtures');
  for (const sandbox of [false, true]) {
    const engine = await startEngine(aio.bundles, (m) => errors.push(m), { sandbox, containers, log: () => {} });
    try {
      assert.deepEqual(await findingsOf(engine, batches), want, sandbox ? 'sandboxed' : 'in-thread');
      const status = engine.bundles();
      assert.deepEqual(status.map((s) => s.id).sort(), each.bundles.map((b) => b.metadata.id).sort());
      assert.equal(status.reduce((n, s) => n + s.findings, 0), want.length, 'findings counted per signature');
      assert.equal(engine.stats.findings, want.length);
    } finally {
      await engine.close();
    }
  }
  assert.deepEqual(errors, []);
});

test('one call per batch for all its signatures; a selected subset reports only its own findings', async () => {
  const containers = new ContainerTable();
  const batches = await fixtureBatches(containers);
  const { bundles } = await loadRulesDir(allInOneDir);
  let calls = 0;
  const run = bundles[0].run.bind(bundles[0]);
  bundles[0].run = (len) => { calls++; return run(len); };
  const engine = new Engine(bundles, (m) => { throw new Error(m); });
  let touched = 0;
  for (const b of batches) {
    const before = calls;
    engine.process(b);
    touched += calls - before;
    assert.ok(calls - before <= 1, 'at most one call per batch');
  }
  assert.ok(touched > 0);

  const subset = bundles.filter((b) => b.metadata.id === 'TRC-102' || b.metadata.id === 'TRC-105');
  assert.equal(subset.length, 2);
  engine.setBundles(subset);
  const ids = new Set<string>();
  for (const b of batches) for (const f of engine.process(b)) ids.add(f.signature.id);
  assert.deepEqual([...ids].sort(), ['TRC-102', 'TRC-105']);
});
