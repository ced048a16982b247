import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, METRIC_NAMES } from '../../host/metrics/registry.ts';
import { parseListenAddress, serveMetrics } from '../../host/metrics/server.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { traceeEvent } from '../helpers/events.ts';

function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  assert.ok(line, `metric ${name}${labels} not exported:\n${text.slice(0, 2000)}`);
  return Number(line.split(' ')[1]);
}

test('the metrics endpoint exports Tracee names and values that move with real engine work', async () => {
  const trap = await Bundle.load('trap.wasm', watModule(echoBundleWat(0), metadata('T-TRAP', [{ name: 'ptrace' }])), () => {});
  const ok = await Bundle.load('ok.wasm', watModule(echoBundleWat(), metadata('T-OK', [{ name: 'ptrace' }], { properties: { Severity: 3 } })), () => {});
  const engine = new Engine([trap, ok], () => {});
  let healthy = false;
  const capture = { eventsReceived: 0, lostRingBuffer: 2, lostQueueFull: 1 };
  const registry = createRegistry({ capture: () => capture, filtered: () => 5, engine: () => ({ stats: engine.stats, bundles: engine.bundles() }) });
  const server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 }, () => healthy);
  const port = (server.address() as { port: number }).port;
  try {
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const before = await scrape();
    for (const name of METRIC_NAMES) assert.ok(before.includes(`# TYPE ${name} `), `${name} exported`);
    assert.equal(sample(before, 'tracee_rules_events_total'), 0);
    assert.equal(sample(before, 'tracee_rules_signatures_total'), 2);

    const w = new BatchWriter();
    for (let i = 0; i < 3; i++) w.add(traceeEvent('ptrace', [['request', 0]]));
    w.add(traceeEvent('sched_process_exit', []));
    engine.process(w.finish());
    capture.eventsReceived = 4;
    const after = await scrape();
    assert.equal(sample(after, 'tracee_ebpf_events_total'), 4);
    assert.equal(sample(after, 'tracee_ebpf_events_filtered'), 5);
    assert.equal(sample(after, 'tracee_ebpf_lostevents_total'), 3);
    assert.equal(sample(after, 'tracee_ts_lost_events_total', '{cause="ring_buffer_full"}'), 2);
    assert.equal(sample(after, 'tracee_rules_events_total'), 4);
    assert.equal(sample(after, 'tracee_rules_detections_total'), 3);
    assert.equal(sample(after, 'tracee_ts_detections_total', '{signature_id="T-OK",severity="3"}'), 3);
    assert.equal(sample(after, 'tracee_ts_bundle_errors_total'), 1);
    assert.equal(sample(after, 'tracee_ts_bundles_disabled'), 1);

    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 503);
    healthy = true;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'OK\n');
  } finally {
    server.close();
  }
});

test('metrics addresses are parsed like Tracee\'s and bad ones are rejected', () => {
  assert.deepEqual(parseListenAddress(':3366'), { host: '0.0.0.0', port: 3366 });
  assert.deepEqual(parseListenAddress('127.0.0.1:4466'), { host: '127.0.0.1', port: 4466 });
  assert.deepEqual(parseListenAddress('[::1]:9000'), { host: '::1', port: 9000 });
  assert.throws(() => parseListenAddress('3366'), /--metrics-addr 3366: expected \[HOST\]:PORT/);
  assert.throws(() => parseListenAddress(':99999'), /expected/);
});
