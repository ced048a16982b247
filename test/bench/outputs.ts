/**
 * Output throughput: findings/s through each output (table, json, three
 * templates, a webhook to a loopback receiver), and the effect of a webhook
 * whose receiver is dead (connection refused) or hangs on detection
 * throughput (target: none). Detection runs a real engine on a mixed batch
 * with a bundle that reports every ptrace event (2% of events), yielding to
 * the event loop between batches the same way in every configuration.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import type { Finding } from '../../host/engine/finding.ts';
import { createPrinter } from '../../host/output/printer.ts';
import { loadTemplateFile, renderFinding } from '../../host/output/template/index.ts';
import { WebhookSender } from '../../host/output/webhook/index.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { mixedBatch } from './workload.ts';

export interface OutputRow {
  name: string;
  findingsPerSec: number;
  ratio: number;
}

const cpuMs = (since?: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

/**
 * Runs `once` (which handles `n` findings) repeatedly for at least minMs of
 * CPU time; findings per CPU-second (wall time on a shared machine mostly
 * measures the neighbours).
 */
function rate(once: () => void, n: number, minMs = 800): number {
  once(); // warm up
  let runs = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < minMs) {
    once();
    runs++;
    used = cpuMs(start);
  }
  return (runs * n) / (used / 1000);
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
}

const stop = (s: Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });

/** A free loopback port with nothing listening on it (connections are refused). */
async function deadUrl(): Promise<string> {
  const { server, url } = await listen(() => {});
  await stop(server);
  return url;
}

/**
 * Detection over `batches` batches; the optional sink sees every finding.
 * Findings per CPU-second of this process (all its threads, so the webhook's
 * own work counts): on a shared, loaded machine wall time mostly measures
 * the neighbours.
 */
async function detect(engine: Engine, batch: Uint8Array, batches: number, sink?: (f: Finding) => void): Promise<number> {
  let findings = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < batches; i++) {
    const fs = engine.process(batch);
    findings += fs.length;
    if (sink) for (const f of fs) sink(f);
    await yieldToLoop(); // capture would hand over the next batch from the event loop
  }
  return findings / (cpuMs(start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchOutputs(root: string): Promise<OutputRow[]> {
  const EVENTS = 20_000;
  const batch = mixedBatch(EVENTS);
  const bundle = await Bundle.load('echo-ptrace.wasm', watModule(echoBundleWat(), metadata('TRC-102', [{ name: 'ptrace' }],
    { name: 'Anti-Debugging detected', properties: { Severity: 3 }, tags: ['linux'] })), () => {});
  const engine = new Engine([bundle]);
  const findings = engine.process(batch);
  const N = findings.length;
  if (N === 0) throw new Error('bench workload produced no findings');

  // --- each output on the same findings ---
  let bytes = 0;
  const sink = (s: string) => { bytes += s.length; };
  const table = createPrinter('table', sink);
  const json = createPrinter('json', sink);
  const rows: Array<Omit<OutputRow, 'ratio'>> = [
    { name: `table printer (${N} findings; per CPU-s)`, findingsPerSec: rate(() => table.print(findings), N) },
    { name: 'json printer (rawjson shape)', findingsPerSec: rate(() => json.print(findings), N) },
  ];
  for (const t of ['rawjson', 'simple', 'falcosidekick']) {
    const tmpl = loadTemplateFile(join(root, 'templates', `${t}.tmpl`));
    rows.push({ name: `template ${t}.tmpl`, findingsPerSec: rate(() => { for (const f of findings) sink(renderFinding(tmpl, f)); }, N) });
  }

  // Webhook to a loopback receiver that answers 200 at once: enqueue → last delivery,
  // on one warm sender (keep-alive connections already open).
  let received = 0;
  const rx = await listen((req, res) => { req.resume().on('end', () => { received++; res.end(); }); });
  const ROUND = N * 5;
  const sender = new WebhookSender({ url: rx.url, queueSize: ROUND, concurrency: 8 });
  const deliver = async (count: number) => {
    const target = sender.stats.sent + count;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) sender.enqueue(findings[i % N]);
    while (sender.stats.sent < target) {
      if (sender.stats.failed || sender.stats.dropped) throw new Error(`webhook bench: ${JSON.stringify(sender.stats)}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return count / ((performance.now() - t0) / 1000);
  };
  await deliver(ROUND); // warm up
  const webhookRates = [await deliver(ROUND), await deliver(ROUND), await deliver(ROUND)];
  const report = await sender.close(10_000);
  if (received !== report.sent) throw new Error(`webhook bench: sent ${report.sent}, received ${received}`);
  await stop(rx.server);
  rows.push({ name: 'webhook rawjson → loopback receiver, wall clock (8 in flight, keep-alive)', findingsPerSec: median(webhookRates) });
  // What detection pays per finding when the receiver is dead: enqueue into a full queue (drop oldest).
  const full = new WebhookSender({ url: await deadUrl(), queueSize: 1000, log: () => {} });
  rows.push({ name: 'webhook enqueue into a full queue (dead receiver; the cost detection pays)', findingsPerSec: rate(() => { for (const f of findings) full.enqueue(f); }, N) });
  await full.close(0);
  const base = rows[0].findingsPerSec;
  const out: OutputRow[] = rows.map((r) => ({ ...r, ratio: r.findingsPerSec / base }));

  // --- detection with no webhook vs a dead or hanging receiver, interleaved ---
  // Each webhook round starts its sender outside the measured window and lets it
  // fail for a moment first (in tracee the sender is created at start-up), so the
  // window holds the steady state: enqueue + drops + background retries.
  const BATCHES = 100;
  const hang = await listen(() => {}); // accepts, never answers
  const urls = { refused: await deadUrl(), hanging: hang.url };
  type Config = 'none' | 'refused' | 'hanging';
  const results: Record<Config, number[]> = { none: [], refused: [], hanging: [] };
  // Every order of the three, so each configuration runs first, last, and after each other one
  // equally often (a round pays for the garbage the previous round left).
  const ORDERS: Config[][] = [
    ['none', 'refused', 'hanging'], ['hanging', 'none', 'refused'], ['refused', 'hanging', 'none'],
    ['none', 'hanging', 'refused'], ['refused', 'none', 'hanging'], ['hanging', 'refused', 'none'],
  ];
  let dropped = 0;
  await detect(engine, batch, 20); // warm up
  for (let round = 0; round < 2 * ORDERS.length; round++) {
    for (const c of ORDERS[round % ORDERS.length]) {
      const pause = () => new Promise((r) => setTimeout(r, 100)); // the same idle gap before every round
      if (c === 'none') { await pause(); results.none.push(await detect(engine, batch, BATCHES)); continue; }
      const sender = new WebhookSender({ url: urls[c], queueSize: 1000, concurrency: 2, timeoutMs: 1000, log: () => {} });
      for (const f of findings) sender.enqueue(f);
      await pause();
      results[c].push(await detect(engine, batch, BATCHES, (f) => sender.enqueue(f)));
      dropped += (await sender.close(0)).dropped;
    }
  }
  await stop(hang.server);
  if (dropped === 0) throw new Error('a dead receiver should have made the queue drop findings');
  const detectNone = median(results.none);
  out.push(
    { name: `detection per CPU-s, no webhook (${EVENTS} events/batch, 2% findings)`, findingsPerSec: detectNone, ratio: 1 },
    { name: 'detection, webhook to a dead receiver (ECONNREFUSED)', findingsPerSec: median(results.refused), ratio: median(results.refused) / detectNone },
    { name: 'detection, webhook to a receiver that never answers', findingsPerSec: median(results.hanging), ratio: median(results.hanging) / detectNone },
  );
  if (bytes === 0) throw new Error('printers produced nothing');
  return out;
}

// `tsx test/bench/outputs.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { ROOT } = await import('../helpers/tracee-process.ts');
  for (const r of await benchOutputs(ROOT)) console.log(`${r.name.padEnd(72)} ${Math.round(r.findingsPerSec).toLocaleString('en-US').padStart(12)}/s  ×${r.ratio.toFixed(2)}`);
}
