/**
 * `npm run bench [-- NAME...]`: runs the benchmarks (all, or those named),
 * prints a table per benchmark and writes test/bench/results/bench.json.
 * Figures are ratios against a baseline measured in the same run (these
 * machines are noisy). A benchmark that cannot run here says why and makes
 * the run exit non-zero.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/tracee-process.ts';

type Row = { name: string; ratio: number } & Record<string, unknown>;

const BENCHES: Record<string, { title: string; run: () => Promise<Row[]> }> = {
  engine: { title: 'engine throughput: TRC-102 + TRC-105 on 20k mixed events (ratio vs b)', run: async () => (await import('./engine.ts')).benchEngine(ROOT) },
  signatures: { title: 'signature catalogue through the engine (ratio vs plain TS)', run: async () => (await import('./signatures.ts')).benchSignatures(ROOT) as unknown as Promise<Row[]> },
  'rego-signatures': { title: 'Rego vs AssemblyScript signatures through the engine (ratio vs AssemblyScript)', run: async () => (await import('./rego-signatures.ts')).benchRegoSignatures(ROOT) as unknown as Promise<Row[]> },
  sandbox: { title: 'worker sandbox with watchdog vs the in-thread engine', run: async () => (await import('./sandbox.ts')).benchSandbox(ROOT) as unknown as Promise<Row[]> },
  capture: { title: 'kernel → JS capture (ratio: time vs untraced)', run: async () => (await import('./capture.ts')).benchCapture(ROOT) },
  syscalls: { title: 'syscall workload slowdown: tracee-ts vs bpftrace (ratio: time vs untraced)', run: async () => (await import('./syscalls.ts')).benchSyscalls(ROOT) as unknown as Promise<Row[]> },
  rego: { title: 'Rego (OPA-ABI wasm) evaluation paths', run: async () => (await import('./rego.ts')).benchRego(ROOT) as unknown as Promise<Row[]> },
  outputs: { title: 'outputs: findings/s per printer, template and webhook', run: async () => (await import('./outputs.ts')).benchOutputs(ROOT) as unknown as Promise<Row[]> },
  containers: { title: 'container enrichment on vs off', run: async () => (await import('./containers.ts')).benchContainers(ROOT) as unknown as Promise<Row[]> },
};

function print(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'name');
  const width = Math.max(20, ...rows.map((r) => r.name.length));
  console.log(['benchmark'.padEnd(width), ...keys.map((k) => k.padStart(14))].join(' '));
  for (const r of rows) console.log([r.name.padEnd(width), ...keys.map((k) => fmt(r[k]).padStart(14))].join(' '));
}

function fmt(v: unknown): string {
  if (typeof v !== 'number') return v === undefined ? '' : String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !BENCHES[n]);
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  try {
    const rows = await bench.run();
    print(bench.title, rows);
    results[name] = rows;
  } catch (err) {
    console.log(`\n## ${bench.title}: NOT MEASURED: ${(err as Error).message}`);
    results[name] = { error: (err as Error).message };
    process.exitCode = 1;
  }
}
const dir = join(ROOT, 'test/bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'bench.json'), JSON.stringify(results, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2) + '\n');
console.log(`\nwrote ${join(dir, 'bench.json')}`);
