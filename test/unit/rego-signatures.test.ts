/**
 * The Rego signatures (signatures-rego/): their `_test.rego` tests, the
 * bundles `tracee-rules build` makes of them (metadata evaluated at build
 * time, identical to the AssemblyScript versions'; standard OPA-ABI modules),
 * and the same findings as the AssemblyScript catalogue on the recorded
 * fixtures (test/fixtures/signatures/<ID>/) through the real engine, by the
 * per-signature bundles and by the all-in-one module.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { buildRegoBundles, type RegoBuildResult } from '../../host/build/rego/bundle-abi.ts';
import { runRegoTests } from '../../host/build/rego/rego-tests.ts';
import { buildRuntime } from '../../host/build/rego/build-runtime.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { readMetadata } from '../../host/engine/metadata.ts';
import { replay } from '../../host/capture/replay.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { findingToJson } from '../../host/output/finding-json.ts';
import { ROOT } from '../helpers/tracee-process.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/signatures');
let dir: string;
let built: RegoBuildResult;
const asMetadata = new Map<string, unknown>();

before(async () => {
  await buildRuntime({ quiet: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-rego-signatures-'));
  built = await buildRegoBundles(path.join(ROOT, 'signatures-rego'), path.join(dir, 'rego'), { allInOne: 'all-in-one.aio' });
  assert.deepEqual(built.errors.map(String), []);
  // the AssemblyScript catalogue's metadata, from its bundles
  const asDir = path.join(dir, 'as');
  const r = await buildBundles(path.join(ROOT, 'signatures-as'), asDir);
  assert.deepEqual(r.errors.map(String), []);
  for (const b of r.built) asMetadata.set(b.metadata.id, b.metadata);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('signatures-rego/: every _test.rego test passes (tracee-rules test)', async () => {
  const report = await runRegoTests(path.join(ROOT, 'signatures-rego'));
  assert.deepEqual(report.errors, []);
  assert.ok(report.results.length >= 60, `${report.results.length} tests`);
  assert.deepEqual(report.results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.reason}`), []);
});

test('at least 12 Rego signatures build, each with the AssemblyScript version\'s metadata', () => {
  assert.ok(built.built.length >= 12, `${built.built.length} bundles`);
  for (const b of built.built) {
    const section = readMetadata(new WebAssembly.Module(readFileSync(b.path)));
    assert.deepEqual(section, b.metadata);
    assert.deepEqual(b.metadata, asMetadata.get(b.metadata.id), `${b.metadata.id} metadata`);
  }
});

test('each bundle is a standard OPA-ABI module: loadPolicy + evaluate(event, "tracee/<ID>/tracee_match")', async () => {
  for (const b of built.built) {
    const module = new WebAssembly.Module(readFileSync(b.path));
    for (const imp of WebAssembly.Module.imports(module)) assert.equal(imp.module, 'env', `${b.metadata.id} imports ${imp.module}.${imp.name}`);
    const policy = await loadPolicy(readFileSync(b.path));
    const entry = `tracee/${b.metadata.id.replace('-', '_')}/tracee_match`;
    assert.ok(entry in policy.entrypoints, `${b.metadata.id}: ${Object.keys(policy.entrypoints)}`);
    const fixture = path.join(FIXTURES, b.metadata.id, 'positive.jsonl');
    const first = JSON.parse(readFileSync(fixture, 'utf8').split('\n')[0]);
    const event = { ...first, args: first.args.map((a: { name: string; type: string; value: unknown }) => a) };
    const res = policy.evaluate(event, entry) as { result: unknown }[];
    assert.equal(res.length, 1, `${b.metadata.id}: no match on the first positive fixture`);
  }
});

interface Expected { line: number; id: string; Data: Record<string, unknown> | null }
/**
 * Sorted by line and id; Data values holding JSON text (TRC-1020's hooked
 * symbols) compare as JSON: the AssemblyScript version copies the event's
 * text, Rego's json.marshal writes the keys sorted.
 */
const sortFindings = (fs: Expected[]) => [...fs].sort((a, b) => a.line - b.line || a.id.localeCompare(b.id)).map((f) => ({
  ...f,
  Data: f.Data && Object.fromEntries(Object.entries(f.Data).map(([k, v]) => [k, typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v])),
}));

/** Replays a fixture file through the engine twice: with every Rego bundle, and with the all-in-one module. */
async function findingsOf(file: string): Promise<{ engine: Expected[]; aio: Expected[] }> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const lineOf = new Map(lines.map((l, i) => [String(JSON.parse(l.replace(/"timestamp": (\d+)/, '"timestamp": "$1"')).timestamp), i + 1]));
  const containers = new ContainerTable();
  const fail = (m: string) => { throw new Error(m); };
  const bundles = await Promise.all(built.built.map(async (b) => Bundle.load(path.basename(b.path), await readFile(b.path), () => {}, { containers })));
  const aio = await Bundle.loadFile(path.basename(built.allInOne!.path), await readFile(built.allInOne!.path), () => {}, { containers });
  const engines = { engine: new Engine(bundles, fail), aio: new Engine(aio, fail) };
  const out: { engine: Expected[]; aio: Expected[] } = { engine: [], aio: [] };
  await replay(createReadStream(file), file, {
    containers,
    onError: fail,
    onBatch: (batch) => {
      for (const k of ['engine', 'aio'] as const) {
        for (const f of engines[k].process(batch)) {
          const json = findingToJson(f, { containers });
          out[k].push({ line: lineOf.get(String(json.Context.timestamp))!, id: json.SigMetadata.ID, Data: json.Data as Expected['Data'] });
        }
      }
    },
  });
  return { engine: sortFindings(out.engine), aio: sortFindings(out.aio) };
}

for (const id of readdirSync(FIXTURES).filter((n) => n.startsWith('TRC-')).sort()) {
  test(`${id}: the Rego signatures give the AssemblyScript catalogue's findings on its fixtures`, async () => {
    const ids = new Set(built.built.map((b) => b.metadata.id));
    const expected = JSON.parse(readFileSync(path.join(FIXTURES, id, 'expected.json'), 'utf8')) as { positive: Expected[]; negative: Expected[] };
    for (const kind of ['positive', 'negative'] as const) {
      const file = path.join(FIXTURES, id, `${kind}.jsonl`);
      if (!existsSync(file)) continue;
      const want = sortFindings(expected[kind].filter((f) => ids.has(f.id)));
      const got = await findingsOf(file);
      assert.deepEqual(got.engine, want, `engine findings on ${kind}.jsonl`);
      assert.deepEqual(got.aio, want, `all-in-one findings on ${kind}.jsonl`);
    }
  });
}
