/**
 * The Rego `input` a bundle builds in wasm from a flat record
 * (signatures-rego/runtime/input.ts) is the event JSON the host gives for
 * that record (host/events/batch-reader.ts decodeEvent, with the container
 * table, the process tree and the policy names) — field for field, on the
 * recorded events of test/fixtures/signatures, including the fields the record only
 * references (container, kubernetes, executable, matchedPolicies), which the
 * module asks the host for through OPA custom builtins — in-thread and in the
 * sandbox's workers alike.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { buildRuntime } from '../../host/build/rego/build-runtime.ts';
import { INPUT_FIELDS, inputFieldMask } from '../../host/build/rego/bundle-abi.ts';
import { compileRego } from '../../host/build/rego/compile-rego.ts';
import { INPUT_BUILTINS, RegoBundleGlue, regoHostBuiltins, type RegoEventHost } from '../../host/engine/rego-glue.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { startEngine } from '../../host/engine/sandbox/start.ts';
import { ContainerTableDirectory, type ContainerDirectory } from '../../host/enrich/containers/datasource.ts';
import { decodeEvent, forEachRecord, readBatchHeader, type ProcessLookup } from '../../host/events/batch-reader.ts';
import { parseJson, stringifyJson } from '../../host/events/event-json.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { CTX } from '../../host/events/layout.ts';
import { replay } from '../../host/capture/replay.ts';
import { ROOT } from '../helpers/tracee-process.ts';
import { asAllInOne, regoBundle, regoBundleRunner } from './rego-helpers.ts';

const ALL = [{ source: 'tracee' as const, name: '*', origin: '*' as const }];
const POLICIES = ['default', 'second'];

interface Recorded {
  batches: Uint8Array[];
  /** The recorded JSON lines, in record order. */
  lines: Record<string, unknown>[];
  host: Required<Pick<RegoEventHost, 'containers' | 'policyNames'>> & { processes: ProcessLookup };
}

/**
 * Every recorded event of test/fixtures/signatures through replay (as tracee-rules
 * reads them), with what the host would know: the container table filled in
 * as enrichment would, the executables of the recording as the process tree,
 * and policies: bit 0 ("default", as recorded) on every record, bit 1 on
 * every third.
 */
async function recorded(): Promise<Recorded> {
  const files: string[] = [];
  const sigs = path.join(ROOT, 'test/fixtures/signatures');
  for (const id of readdirSync(sigs).filter((d) => d.startsWith('TRC-'))) {
    for (const kind of ['positive', 'negative']) {
      const f = path.join(sigs, id, `${kind}.jsonl`);
      if (existsSync(f)) files.push(f);
    }
  }
  const containers = new ContainerTable();
  const exes = new Map<string, string>();
  const out: Recorded = {
    batches: [], lines: [],
    host: { containers, policyNames: POLICIES, processes: { executableAt: (pid, t) => exes.get(`${pid}@${t}`), prevCommAt: () => undefined } },
  };
  for (const file of files) {
    for (const text of readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())) {
      const e = parseJson(text) as Record<string, any>;
      out.lines.push(e);
      exes.set(`${e.hostProcessId}@${BigInt(e.timestamp)}`, e.executable.path);
      if (e.containerId) {
        const k = e.kubernetes ?? {};
        containers.update(e.containerId, { ...e.container, podName: k.podName ?? '', podNamespace: k.podNamespace ?? '', podUID: k.podUID ?? '', podSandbox: k.podSandbox ?? false });
      }
    }
    await replay(createReadStream(file), file, { containers, batchEvents: 16, onError: (m) => { throw new Error(m); }, onBatch: (b) => out.batches.push(b) });
  }
  let n = 0;
  for (const batch of out.batches) {
    const v = new DataView(batch.buffer, batch.byteOffset);
    forEachRecord(batch, readBatchHeader(batch), (o) => v.setUint32(o + CTX.matchedPolicies, n++ % 3 === 0 ? 3 : 1, true));
  }
  assert.equal(out.lines.length, n);
  return out;
}

/** decodeEvent's JSON for every record, matchedPolicies named as the printers do. */
function decoded(r: Recorded): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const batch of r.batches) {
    const header = readBatchHeader(batch);
    const v = new DataView(batch.buffer, batch.byteOffset);
    forEachRecord(batch, header, (o) => {
      const e = decodeEvent(batch, o, header, { containers: r.host.containers, processes: r.host.processes });
      const bits = v.getUint32(o + CTX.matchedPolicies, true);
      e.matchedPolicies = POLICIES.filter((_, i) => bits & (1 << i));
      out.push(JSON.parse(stringifyJson(e)));
    });
  }
  return out;
}

/** The names in a module's builtins() export. */
function declaredBuiltins(wasm: Uint8Array): string[] {
  const glue = new RegoBundleGlue((m) => new Error(m));
  const x = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), glue.imports()).exports as Record<string, (...a: number[]) => number>;
  const bytes = new Uint8Array(glue.memory.buffer);
  const p = x.opa_json_dump(x.builtins());
  return Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(p, bytes.indexOf(0, p))))).sort();
}

/** The match value of every record (one finding each: tracee_match is an object). */
function inputs(wasm: Uint8Array, r: Recorded, host: RegoEventHost = r.host): unknown[] {
  const run = regoBundleRunner(wasm, host);
  return r.batches.flatMap((b) => run(b).map((f) => f.data));
}

let rec: Recorded;
let want: Record<string, unknown>[];
before(async () => {
  await buildRuntime({ quiet: true });
  rec = await recorded();
  want = decoded(rec);
});

describe('rego bundles: the input value', () => {
  it('is decodeEvent\'s event JSON on every recorded event, host fields included', () => {
    const got = inputs(regoBundle('package s0\ntracee_match := input\n', [ALL]), rec);
    assert.equal(got.length, rec.lines.length);
    assert.deepEqual(got, want);
    // and what the recording itself says for the fields the record only references
    const fields = ['containerId', 'container', 'kubernetes', 'executable', 'syscall'] as const;
    const pick = (e: Record<string, unknown>) => Object.fromEntries(fields.map((f) => [f, e[f]]));
    assert.deepEqual(got.map((e) => pick(e as Record<string, unknown>)), rec.lines.map(pick));
    assert.ok(got.some((e) => Object.keys((e as { kubernetes: object }).kubernetes).length), 'a record in a pod');
    assert.deepEqual(new Set(got.map((e) => JSON.stringify((e as { matchedPolicies: string[] }).matchedPolicies))), new Set(['["default","second"]', '["default"]']));
  });

  it('without host tables, has the fields decodeEvent gives without them', () => {
    const got = inputs(regoBundle('package s0\ntracee_match := input\n', [ALL]), rec, {});
    const bare: unknown[] = [];
    for (const batch of rec.batches) {
      const header = readBatchHeader(batch);
      forEachRecord(batch, header, (o) => bare.push(JSON.parse(stringifyJson(decodeEvent(batch, o, header)))));
    }
    assert.deepEqual(got, bare);
  });

  it('builds each field alone, read as input.<field> (the bit order is the key order)', () => {
    assert.deepEqual([...INPUT_FIELDS], [...INPUT_FIELDS].sort());
    assert.deepEqual([...INPUT_FIELDS].sort(), Object.keys(want[0]).filter((k) => k !== 'metadata').sort());
    for (const [i, f] of INPUT_FIELDS.entries()) {
      const text = `package s0\ntracee_match := {"v": input.${f}}\n`;
      const r = compileRego([{ file: 'f.rego', text }], ['s0/tracee_match']);
      assert.ok(!('errors' in r));
      assert.equal(inputFieldMask(r.plan), 2 ** i >>> 0, f);
      const got = inputs(regoBundle(text, [ALL], { optimize: false }), rec).map((d) => (d as { v: unknown }).v);
      assert.deepEqual(got, want.map((e) => e[f]), f);
    }
  });

  it('finds every field by key in the whole object', () => {
    const text = `package s0\ntracee_match := {${INPUT_FIELDS.map((f) => `"${f}": input.${f}`).join(', ')}}\n`;
    assert.deepEqual(inputs(regoBundle(text, [ALL]), rec), want);
  });

  it('declares a host lookup only when the policy reads its fields; any OPA host can provide them', async () => {
    const builtinsOf = async (wasm: Uint8Array) => declaredBuiltins(wasm);
    const reads = (expr: string) => regoBundle(`package s0\ntracee_match if ${expr}\n`, [ALL]);
    assert.deepEqual(await builtinsOf(reads('input.eventName == "x"')), []);
    assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(reads('input.eventName == "x"') as Uint8Array<ArrayBuffer>)).map((i) => i.name).filter((n) => n.startsWith('opa_builtin')), []);
    assert.deepEqual(await builtinsOf(reads('input.kubernetes.podName == "x"')), ['tracee.event_container']);
    assert.deepEqual(await builtinsOf(reads('input.executable.path == "x"')), ['tracee.event_executable']);
    assert.deepEqual(await builtinsOf(reads('input.matchedPolicies[_] == "x"')), ['tracee.event_policies']);
    assert.deepEqual(await builtinsOf(regoBundle('package s0\ntracee_match := input\n', [ALL])), INPUT_BUILTINS.map((b) => b.name).sort());
    // opa-wasm: evaluate() passes the input as JSON (no lookups); the builtins are there for hosts running tracee_on_batch
    const wasm = reads('input.container.name == "web"');
    const policy = await loadPolicy(wasm, undefined, regoHostBuiltins(() => rec.host));
    assert.deepEqual(policy.evaluate({ container: { name: 'web' } }, 's0/tracee_match'), [{ result: true }]);
  });

  it('runs in the all-in-one module in the engine, with the host given to Bundle.loadFile', async () => {
    const wasm = asAllInOne(regoBundle('package s0\ntracee_match := {"c": input.container, "p": input.matchedPolicies}\n', [ALL]), ['A'], [ALL]);
    const { containers, ...eventHost } = rec.host;
    const bundles = await Bundle.loadFile('aio.wasm', wasm, () => {}, { containers, eventHost });
    assert.deepEqual(bundles.map((b) => [b.metadata.id, b.member]), [['A', 0]]);
    const engine = new Engine(bundles, (m) => { throw new Error(m); });
    // the engine reports object and array values as JSON text (regoFindingData)
    const got = rec.batches.flatMap((b) => engine.process(b).map((f) => ({ c: JSON.parse(f.data.c as string), p: JSON.parse(f.data.p as string) })));
    assert.deepEqual(got, want.map((e) => ({ c: e.container, p: e.matchedPolicies })));
  });

  it('is the same in the sandbox, whose workers are sent the host tables, and follows a change of policy names', async () => {
    const wasm = asAllInOne(regoBundle('package s0\ntracee_match := {"input": input, "record": tracee.containers(input.containerId)}\n', [ALL]), ['A'], [ALL]);
    const { containers, ...host } = rec.host;
    // As the enricher's: every other container live, each with its own creation time.
    const table = new ContainerTableDirectory(containers);
    const containerDirectory: ContainerDirectory = {
      describe: (id) => {
        const ref = containers.refFor(id);
        const d = table.describe(id);
        return d && ref % 2 === 1 ? { info: d.info, ctimeNs: 1_700_000_000_000_000_000n + BigInt(ref) * 1000n } : undefined;
      },
    };
    const run = async (sandbox: boolean) => {
      const compiled = await Bundle.compileFile('aio.wasm', wasm);
      const engine = await startEngine(compiled, (m) => { throw new Error(m); }, { sandbox, workers: 1, log: () => {}, containers, eventHost: { ...host, containerDirectory } });
      try {
        const findings = () => rec.batches.flatMap((b) => engine.process(b).map((f) => ({ input: JSON.parse(f.data.input as string), record: JSON.parse(f.data.record as string) })));
        const before = findings();
        engine.setPolicyNames(['first', 'other']);
        return { before, after: findings() };
      } finally {
        await engine.close();
      }
    };
    const inThread = await run(false);
    const sandboxed = await run(true);
    assert.deepEqual(inThread.before.map((f) => f.input), want);
    assert.ok(inThread.before.some((f) => f.record?.container_ctime > 0), 'a live container, with its creation time');
    assert.ok(inThread.before.some((f) => f.input.containerId && f.record === null), 'a container the directory does not list');
    const renamed = (names: string[]) => names.map((n) => ({ default: 'first', second: 'other' })[n]);
    assert.deepEqual(inThread.after.map((f) => f.input.matchedPolicies), want.map((e) => renamed(e.matchedPolicies as string[])));
    assert.deepEqual(sandboxed.before, inThread.before);
    assert.deepEqual(sandboxed.after, inThread.after);
  });
});
