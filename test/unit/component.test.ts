/**
 * Portable components (host/build/component/, docs/wit/signature.wit): built
 * AssemblyScript bundles wrapped as components, transpiled with jco and run
 * from Node through the component's own interface give the same findings as
 * the engine running the core bundles.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { componentize, componentizeBundle, COMPONENTS_DIR, loadJco, WIT_FILE } from '../../host/build/component/componentize.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { decodeFindingData, type FindingData } from '../../host/engine/finding-data.ts';
import { findingContext } from '../../host/output/finding-json.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import { ContainerTable, type ContainerInfo } from '../../host/events/containers.ts';
import { traceeEvent } from '../helpers/events.ts';
import { ROOT } from '../helpers/tracee-process.ts';

const SIGNATURES = ['anti_debugging', 'ld_preload', 'fileless_execution'];
/** Reads container fields (the container-get import) and logs (the log import). */
const CONTAINER_SIGNATURE = `import { Event, Metadata, register, finding, EventId, container, Log } from "../sdk";
register(new Metadata("CMP-1", "1", "Component test", "component_test", "reads container fields").prop("Severity", 0).select(EventId.ptrace), onEvent);
function onEvent(e: Event): void {
  let c = container(e);
  if (!c.known) { Log.info("not in a known container"); return; }
  finding(e).str("image", c.image).str("pod", c.podName).bool("sandbox", c.podSandbox).emit();
}
`;

let dir: string;
const bundles = new Map<string, string>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-component-test-'));
  const src = path.join(dir, 'src', 'signatures');
  await mkdir(src, { recursive: true });
  for (const name of SIGNATURES) await cp(path.join(ROOT, 'signatures-as/signatures', `${name}.ts`), path.join(src, `${name}.ts`));
  await writeFile(path.join(src, 'container_test.ts'), CONTAINER_SIGNATURE);
  const { built, errors } = await buildBundles(path.join(dir, 'src'), path.join(dir, 'bundles'));
  assert.deepEqual(errors.map(String), []);
  for (const b of built) bundles.set(path.basename(b.path, '.wasm'), b.path);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const containers = new ContainerTable();
const inContainer = containers.refFor('4f1e2d3c');
containers.update('4f1e2d3c', { image: 'docker.io/library/nginx:1.27', podName: 'web-0', podSandbox: false });
const unknownRef = 999;

/** A few events each signature fires on or ignores. */
function events(): Uint8Array {
  const w = new BatchWriter();
  const exec = (path: string, env: string[] = []) => traceeEvent('sched_process_exec', [['cmdpath', path], ['pathname', path], ['argv', ['x']], ['env', env], ['prev_comm', 'bash']]);
  w.add(traceeEvent('ptrace', [['request', 0], ['pid', 7]], { processId: 1 }));
  w.add(traceeEvent('ptrace', [['request', 16], ['pid', 7]], { processId: 2 }), inContainer);
  w.add(exec('/usr/bin/ls'), 0);
  w.add(exec('memfd:payload'), 0);
  w.add(exec('/usr/bin/env', ['HOME=/root', 'LD_PRELOAD=/tmp/evil.so']), 0);
  w.add(traceeEvent('ptrace', [['request', 0], ['pid', 9]], { processId: 3 }), inContainer);
  w.add(traceeEvent('ptrace', [['request', 0], ['pid', 9]], { processId: 4 }), unknownRef);
  w.add(traceeEvent('sched_process_exit', [['exit_code', 0]]));
  return w.finish();
}

type Instance = { detector: { metadata(): string; onBatch(batch: Uint8Array): number } };

/** Transpiles a component with jco and instantiates it with a host built on the container table; findings are pushed to `found`. */
async function runComponent(component: Uint8Array, name: string, found: Array<[number, FindingData]>, logs: string[]): Promise<Instance> {
  const jco = await loadJco();
  const { files } = await jco.transpile(component, { name, instantiation: 'async', noTypescript: true, quiet: true });
  const out = path.join(dir, 'js', name);
  for (const [file, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(out, file)), { recursive: true });
    await writeFile(path.join(out, file), bytes);
  }
  const { instantiate } = await import(pathToFileURL(path.join(out, `${name}.js`)).href);
  const fields: Array<keyof ContainerInfo> = ['id', 'name', 'image', 'imageDigest', 'podName', 'podNamespace', 'podUID', 'podSandbox'];
  return instantiate(async (file: string) => WebAssembly.compile(await readFile(path.join(out, file))), {
    'tracee:signature/host': {
      emitFinding: (index: number, data: Uint8Array) => { found.push([index, decodeFindingData(data, 0, data.length)]); },
      log: (level: number, message: string) => { logs.push(`${level}:${message}`); },
      containerGet: (ref: number, field: number) => {
        const info = containers.get(ref);
        if (!info) return { tag: 'unknown-container' };
        if (field >= fields.length) return { tag: 'unknown-field' };
        const v = info[fields[field]];
        return { tag: 'value', val: typeof v === 'boolean' ? Uint8Array.of(v ? 1 : 0) : new TextEncoder().encode(v) };
      },
      abort: (message: Uint8Array, file: Uint8Array, line: number, column: number) => {
        throw new Error(`abort: ${Buffer.from(message).toString('utf16le')} at ${Buffer.from(file).toString('utf16le')}:${line}:${column}`);
      },
    },
  });
}

test('built bundles become components of the tracee:signature world, outside the rules directory', async () => {
  const jco = await loadJco();
  const out = await componentizeBundle(bundles.get('anti_debugging')!);
  assert.equal(out, path.join(dir, 'bundles', COMPONENTS_DIR, 'anti_debugging.wasm'));
  const wit = await jco.componentWit(new Uint8Array(await readFile(out)));
  assert.match(wit, /import tracee:signature\/host@1\.0\.0;/);
  assert.match(wit, /export tracee:signature\/detector@1\.0\.0;/);
  assert.match(await readFile(WIT_FILE, 'utf8'), /^package tracee:signature@1\.0\.0;$/m);
  const again = await componentize(new Uint8Array(await readFile(bundles.get('anti_debugging')!)));
  assert.ok(Buffer.from(again).equals(await readFile(out)), 'the same bundle gives the same component');
});

test('a component transpiled with jco and run from Node gives the engine\'s findings', async () => {
  const batch = events();
  for (const [name, wasmPath] of bundles) {
    const core = new Uint8Array(await readFile(wasmPath));
    const engine = new Engine([await Bundle.load(`${name}.wasm`, core, () => {}, { containers })], (m) => { throw new Error(m); });
    const expected = engine.process(batch).map((f) => `${findingContext(f).processId}:${findingContext(f).eventName}:${JSON.stringify(f.data)}`);

    const found: Array<[number, FindingData]> = [];
    const logs: string[] = [];
    const instance = await runComponent(await componentize(core), name.replace(/_/g, '-'), found, logs);
    const metadata = JSON.parse(instance.detector.metadata());
    assert.equal(metadata.id, engine.bundles()[0].id);
    // The component gets the whole batch (the signature checks its selection itself); the engine, only the selected records.
    assert.equal(instance.detector.onBatch(batch), found.length);
    const records = recordsOf(batch);
    const actual = found.map(([i, data]) => `${records[i].pid}:${records[i].event}:${JSON.stringify(data)}`);
    assert.deepEqual(actual, expected, name);
    assert.ok(expected.length > 0, `${name} fires on the sample events`);
    if (name === 'container_test') {
      assert.deepEqual(found.map(([, d]) => d), [
        { image: 'docker.io/library/nginx:1.27', pod: 'web-0', sandbox: false },
        { image: 'docker.io/library/nginx:1.27', pod: 'web-0', sandbox: false },
      ]);
      assert.deepEqual(logs, ['1:not in a known container', '1:not in a known container']);
    }
    // A second batch reuses the component's memory.
    found.length = 0;
    assert.equal(instance.detector.onBatch(batch), found.length);
    assert.equal(found.length, expected.length);
  }
});

/** pid and event name of each record, in batch order. */
function recordsOf(batch: Uint8Array): Array<{ pid: number; event: string }> {
  const header = readBatchHeader(batch);
  const out: Array<{ pid: number; event: string }> = [];
  forEachRecord(batch, header, (offset) => {
    const e = decodeEvent(batch, offset, header);
    out.push({ pid: e.processId, event: e.eventName });
  });
  return out;
}
