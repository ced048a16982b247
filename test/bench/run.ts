/**
 * `npm run bench`: prints a table per benchmark and writes
 * test/bench/results/bench.json. Figures are ratios against a baseline
 * measured in the same run (these machines are noisy).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/tracee-process.ts';
import { benchEngine } from './engine.ts';
import { benchCapture } from './capture.ts';

type Row = Record<string, unknown> & { name: string; ratio: number };

function print(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  const keys = Object.keys(rows[0]).filter((k) => k !== 'name');
  console.log(['benchmark'.padEnd(72), ...keys.map((k) => k.padStart(14))].join(' '));
  for (const r of rows) {
    console.log([r.name.padEnd(72), ...keys.map((k) => fmt(r[k]).padStart(14))].join(' '));
  }
}

function fmt(v: unknown): string {
  if (typeof v !== 'number') return String(v ?? '');
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
const engine = await benchEngine(ROOT);
print('engine throughput, TRC-102 + TRC-105 on 20k mixed events (ratio vs b)', engine);
results.engine = engine;
try {
  const capture = await benchCapture(ROOT);
  print('kernel → JS capture (ratio: time vs untraced)', capture);
  results.capture = capture;
} catch (err) {
  console.log(`\n## kernel → JS capture: NOT MEASURED: ${(err as Error).message}`);
  results.capture = { error: (err as Error).message };
  process.exitCode = 1;
}
const dir = join(ROOT, 'test/bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'bench.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nwrote ${join(dir, 'bench.json')}`);
