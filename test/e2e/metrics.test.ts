/**
 * The real `tracee --metrics` endpoint during real capture: /healthz is
 * healthy while capturing, and Tracee's metric names move with real events
 * and a real detection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, TraceeProcess } from '../helpers/tracee-process.ts';
import { buildTriggers, runTrigger } from '../helpers/triggers.ts';

const PORT = 3391;
let tracee: TraceeProcess;
let triggers: Record<string, string>;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'eBPF end-to-end tests need root');
  triggers = buildTriggers();
  tracee = await TraceeProcess.start(['--rules-dir', join(ROOT, 'bundles'), '--output', 'json', '--metrics', '--metrics-addr', `127.0.0.1:${PORT}`]);
});

after(async () => {
  assert.equal(await tracee?.stop(), 0, tracee?.stderr);
});

async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

test('metrics and health move with real capture and detection', async () => {
  const health = await fetch(`http://127.0.0.1:${PORT}/healthz`);
  assert.equal(health.status, 200);
  const before = await scrape();
  assert.ok((before.get('tracee_rules_signatures_total') ?? 0) >= 2, 'signatures loaded');
  const { pid } = runTrigger(triggers.ptrace_traceme);
  await tracee.waitFor((fs) => fs.some((f) => f.Context.hostProcessId === pid));
  let after = await scrape();
  for (let i = 0; i < 20 && after.get('tracee_rules_detections_total') === before.get('tracee_rules_detections_total'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await scrape();
  }
  assert.ok(after.get('tracee_ebpf_events_total')! > before.get('tracee_ebpf_events_total')!, 'events_total moved');
  assert.ok(after.get('tracee_rules_events_total')! > before.get('tracee_rules_events_total')!, 'rules events moved');
  assert.equal(after.get('tracee_rules_detections_total')! - before.get('tracee_rules_detections_total')! >= 1, true, 'a detection was counted');
  assert.ok(after.get('tracee_ts_detections_total{signature_id="TRC-102",severity="1"}')! >= 1);
  assert.equal(after.get('tracee_ebpf_lostevents_total'), 0);
  assert.ok(after.has('tracee_ts_process_cpu_seconds_total'), 'default process metrics');
});
