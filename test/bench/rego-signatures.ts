/**
 * Rego signatures vs AssemblyScript signatures with the same logic, in one
 * run, over the same realistic mixed batch (signatureWorkload, 20k events):
 *
 *  (as)   the AssemblyScript bundles of the signatures signatures-rego/ has
 *         (TRC-102 … TRC-1030, 16 of them) through the real engine (baseline);
 *  (rego) the Rego bundles built from signatures-rego/ (one per signature,
 *         each a standard OPA-ABI module) through the real engine;
 *  (aio)  the all-in-one Rego module (all 16, one entrypoint each) through
 *         the real engine, which loads it as one bundle per signature sharing
 *         one instance: one call per batch, each selected event's input
 *         value built once in wasm and every selecting signature evaluated on it.
 *
 * The implementations must report the same findings (record, signature and
 * Data), or the run fails. Target (issue 6): Rego ≤ 3× slower per event.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { buildRegoBundles } from '../../host/build/rego/bundle-abi.ts';
import { buildRuntime } from '../../host/build/rego/build-runtime.ts';
import { forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import { signatureWorkload } from './signatures.ts';
import { rate } from './measure.ts';

interface Row { name: string; ratio: number; eventsPerSec: number; nsPerEvent: number; findings: number }


/** Findings as comparable strings: record offset, signature id, Data. */
function key(at: number, id: string, data: unknown): string {
  const d = data && typeof data === 'object' && Object.keys(data).length ? JSON.stringify(Object.fromEntries(Object.entries(data).sort())) : '';
  return `${at} ${id} ${d}`;
}

export async function benchRegoSignatures(root: string): Promise<Row[]> {
  const EVENTS = 20_000;
  await buildRuntime({ quiet: true });
  const tmp = await mkdtemp(join(os.tmpdir(), 'tracee-rego-bench-'));
  try {
    const rego = await buildRegoBundles(join(root, 'signatures-rego'), tmp, { allInOne: 'all-in-one.aio' });
    if (rego.errors.length) throw new Error(`building signatures-rego: ${rego.errors.map(String).join('; ')}`);
    const ids = rego.built.map((b) => b.metadata.id);

    // The AssemblyScript bundles with the same ids (built ones, else build them).
    let asDir = join(root, 'bundles');
    const have = existsSync(asDir) ? readdirSync(asDir).filter((f) => f.endsWith('.wasm')) : [];
    if (have.length < 31) {
      asDir = join(tmp, 'as');
      const r = await buildBundles(join(root, 'signatures-as'), asDir);
      if (r.errors.length) throw new Error(`building signatures-as: ${r.errors.map(String).join('; ')}`);
    }
    const containers = new ContainerTable();
    const batch = signatureWorkload(EVENTS, containers);
    const load = async (dir: string, files: string[]) => (await Promise.all(files.map(async (f) => Bundle.load(f, await readFile(join(dir, f)), () => {}, { containers }))));
    const asBundles = (await load(asDir, readdirSync(asDir).filter((f) => f.endsWith('.wasm')))).filter((b) => ids.includes(b.metadata.id));
    if (asBundles.length !== ids.length) throw new Error(`expected ${ids.length} AssemblyScript bundles (${ids.join(', ')}), found ${asBundles.length}`);
    const regoBundles = await load(tmp, rego.built.map((b) => b.path.slice(tmp.length + 1)));
    // TRC-108 ships disabled: the engine runs whatever it is given, so both sides include it.
    const asEngine = new Engine(asBundles, (m) => { throw new Error(m); });
    const regoEngine = new Engine(regoBundles, (m) => { throw new Error(m); });
    const aioEngine = new Engine(await Bundle.loadFile('all-in-one.aio', await readFile(rego.allInOne!.path), () => {}, { containers }), (m) => { throw new Error(m); });

    // Same findings from all three.
    const header = readBatchHeader(batch);
    const offsets: number[] = [];
    forEachRecord(batch, header, (o) => offsets.push(o));
    const offsetOf = (f: { record: Uint8Array }) => offsets.find((o) => batch.subarray(o, o + f.record.length).every((b, i) => b === f.record[i]))!;
    const fromEngine = (e: Engine) => e.process(batch).map((f) => key(offsetOf(f), f.signature.id, f.data)).sort();
    const asFound = fromEngine(asEngine);
    const regoFound = fromEngine(regoEngine);
    const aioFound = fromEngine(aioEngine);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (!same(asFound, regoFound) || !same(asFound, aioFound)) {
      const diff = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).slice(0, 5).join(' | ');
      throw new Error(`implementations disagree: AS ${asFound.length}, Rego ${regoFound.length}, all-in-one ${aioFound.length} findings; ` +
        `AS only: ${diff(asFound, regoFound)}; Rego only: ${diff(regoFound, asFound)}; AS not in all-in-one: ${diff(asFound, aioFound)}`);
    }

    const a = rate(() => asEngine.process(batch).length, EVENTS);
    const r = rate(() => regoEngine.process(batch).length, EVENTS);
    const x = rate(() => aioEngine.process(batch).length, EVENTS);
    return [
      { name: `(as) ${ids.length} AssemblyScript bundles through the engine (baseline)`, ratio: 1, ...a },
      { name: `(rego) ${ids.length} Rego bundles through the engine (ratio: as time / rego time)`, ratio: a.eventsPerSec / r.eventsPerSec, ...r },
      { name: `(aio) all-in-one Rego module, ${ids.length} entrypoints, through the engine (ratio: as time / aio time)`, ratio: a.eventsPerSec / x.eventsPerSec, ...x },
    ].map((row) => ({ ...row, ratio: Number(row.ratio.toFixed(2)), eventsPerSec: Math.round(row.eventsPerSec), nsPerEvent: Math.round(row.nsPerEvent) }));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
