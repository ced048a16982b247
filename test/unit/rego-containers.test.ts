/**
 * `tracee.containers(id)`, the Rego side of the containers data source
 * (host/enrich/containers/datasource.ts): a custom builtin the compiler
 * accepts in signatures, declared in the bundle's `builtins()` export and
 * answered by the host — the engine from the ContainerTable it gives
 * bundles, any @open-policy-agent/opa-wasm host through `customBuiltins`.
 * Unknown builtins stay compile errors.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { buildRuntime } from '../../host/build/rego/build-runtime.ts';
import { buildRegoBundles } from '../../host/build/rego/bundle-abi.ts';
import { runRegoTests } from '../../host/build/rego/rego-tests.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { ContainersDataSource, ContainerTableDirectory, regoContainersBuiltin } from '../../host/enrich/containers/datasource.ts';
import { traceeEvent } from '../helpers/events.ts';

const ID = 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12';
const OTHER = 'f'.repeat(64);

const SIGNATURE = `package tracee.TRC_C1

__rego_metadoc__ := {"id": "TRC-C1", "version": "1", "name": "container_lookup", "eventName": "container_lookup",
  "description": "reads the containers data source", "tags": [], "properties": {"Severity": 1}}

tracee_selected_events[e] { e := {"source": "tracee", "name": "security_file_open", "origin": "container"} }

tracee_match = res {
  c := tracee.containers(input.containerId)
  res := {"name": c.container_name, "image": c.container_image, "pod": c.k8s_pod_name, "ns": c.k8s_pod_namespace,
    "uid": c.k8s_pod_id, "sandbox": c.k8s_pod_sandbox, "id": c.container_id}
}
`;
const TEST = `package tracee.TRC_C1

test_mocked {
  tracee_match == {"name": "web", "image": "i", "pod": "p", "ns": "n", "uid": "u", "sandbox": false, "id": "x"}
    with input as {"containerId": "x"}
    with tracee.containers as {"container_id": "x", "container_name": "web", "container_image": "i", "k8s_pod_name": "p",
      "k8s_pod_namespace": "n", "k8s_pod_id": "u", "k8s_pod_sandbox": false}
}

test_unknown_container { not tracee_match with input as {"containerId": "nope"} }
`;
const DATA = { name: 'web', image: 'docker.io/library/nginx:1.27', pod: 'web-7d9f', ns: 'shop', uid: 'c0ffee', sandbox: false, id: ID };

let dir: string;
let wasm: Uint8Array;

before(async () => {
  await buildRuntime({ quiet: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-rego-containers-'));
  await mkdir(path.join(dir, 'src'));
  await writeFile(path.join(dir, 'src', 'container_lookup.rego'), SIGNATURE);
  await writeFile(path.join(dir, 'src', 'container_lookup_test.rego'), TEST);
  const r = await buildRegoBundles(path.join(dir, 'src'), path.join(dir, 'out'));
  assert.deepEqual(r.errors.map(String), []);
  wasm = await readFile(r.built[0].path);
});

after(async () => { await rm(dir, { recursive: true, force: true }); });

/** A container the table knows (as enrichment would have filled it in), and a batch of two opens: in it, and in an unknown one. */
function containerBatch(containers: ContainerTable): Uint8Array {
  containers.update(ID, { name: 'web', image: 'docker.io/library/nginx:1.27', podName: 'web-7d9f', podNamespace: 'shop', podUID: 'c0ffee' });
  const w = new BatchWriter();
  const open = (containerId: string) => traceeEvent('security_file_open', [['pathname', '/etc/shadow'], ['flags', 0]],
    { containerId, contextFlags: { containerStarted: true, isCompat: false } });
  w.add(open(ID), containers.refFor(ID));
  w.add(open(OTHER), containers.refFor(OTHER));
  return w.finish();
}

test('a Rego signature reads tracee.containers through the engine, from the ContainerTable bundles are given', async () => {
  const containers = new ContainerTable();
  const bundle = await Bundle.load('container_lookup.wasm', wasm, () => {}, { containers });
  const engine = new Engine([bundle], (m) => { throw new Error(m); });
  const batch = containerBatch(containers);
  const found = engine.process(batch);
  // the second container is registered but enrichment learned nothing: the record exists, with empty fields
  assert.deepEqual(found.map((f) => f.data), [DATA, { name: '', image: '', pod: '', ns: '', uid: '', sandbox: false, id: OTHER }],
    'the bundle\'s RegoBundleGlue answers from the table the engine gives it (Bundle.instantiate passes its instance as the glue\'s host)');
});

test('opa-wasm loadPolicy runs it with tracee.containers as a custom builtin', async () => {
  const containers = new ContainerTable();
  containerBatch(containers);
  const fn = regoContainersBuiltin(new ContainersDataSource(new ContainerTableDirectory(containers)));
  const policy = await loadPolicy(wasm, undefined, { 'tracee.containers': fn });
  assert.deepEqual(policy.evaluate({ containerId: ID }, 'tracee/TRC_C1/tracee_match'), [{ result: DATA }]);
  assert.deepEqual(policy.evaluate({ containerId: 'not-a-container' }, 'tracee/TRC_C1/tracee_match'), []);
  // without the builtin, the SDK says which one is missing
  const bare = await loadPolicy(wasm);
  assert.throws(() => bare.evaluate({ containerId: ID }, 'tracee/TRC_C1/tracee_match'), (e: { message?: string }) => /tracee\.containers/.test(String(e.message)));
});

test('tracee-rules test: tracee.containers can be mocked with `with`; unmocked it knows no container', async () => {
  const report = await runRegoTests(path.join(dir, 'src'));
  assert.deepEqual(report.errors, []);
  assert.deepEqual(report.results.map((r) => [r.name, r.passed, r.reason]), [
    ['data.tracee.TRC_C1.test_mocked', true, undefined],
    ['data.tracee.TRC_C1.test_unknown_container', true, undefined],
  ]);
});

test('the table directory finds containers registered after it was made, and registers nothing', () => {
  const table = new ContainerTable();
  const dirOf = new ContainerTableDirectory(table);
  assert.equal(dirOf.describe('a'), undefined);
  table.update('a', { name: 'first' });
  table.refFor('b');
  assert.deepEqual(dirOf.describe('a'), { info: table.get(1), ctimeNs: 0n });
  assert.equal(dirOf.describe('b')?.info.id, 'b');
  assert.equal(dirOf.describe('c'), undefined);
  assert.equal(table.get(3), undefined, 'describe("c") registered nothing');
});

test('an unknown builtin in a signature is a compile error at its file:line:col', async () => {
  const src = path.join(dir, 'bad');
  await mkdir(src);
  await writeFile(path.join(src, 'x.rego'), SIGNATURE.replace('tracee.containers(input.containerId)', 'tracee.container(input.containerId)'));
  const r = await buildRegoBundles(src, path.join(dir, 'bad-out'));
  assert.deepEqual(r.built, []);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0].message, /x\.rego:9:8 rego_type_error: undefined function tracee\.container$/);
});
