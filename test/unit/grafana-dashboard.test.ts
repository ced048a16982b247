import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMES } from '../../host/metrics/registry.ts';
import { ROOT } from '../helpers/tracee-process.ts';

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/tracee-ts.json'), 'utf8'));

test('the Grafana dashboard is importable: datasource variable, no hard-coded datasource uid, unique panel ids', () => {
  assert.equal(typeof dashboard.title, 'string');
  assert.ok(Number.isInteger(dashboard.schemaVersion));
  const vars = dashboard.templating.list;
  assert.ok(vars.some((v: { type: string; query: string }) => v.type === 'datasource' && v.query === 'prometheus'));
  const ids = dashboard.panels.map((p: { id: number }) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const p of dashboard.panels) {
    assert.equal(p.datasource.uid, '${datasource}', `panel "${p.title}" uses the datasource variable`);
    for (const t of p.targets) assert.equal(t.datasource.uid, '${datasource}');
    assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0);
  }
});

test('every metric the dashboard queries is one tracee-ts exports', () => {
  const exported = new Set<string>([...METRIC_NAMES, 'tracee_ts_process_cpu_seconds_total', 'tracee_ts_process_resident_memory_bytes']);
  const queried = new Set<string>();
  for (const p of dashboard.panels) for (const t of p.targets) for (const m of t.expr.match(/tracee_[a-z_]+/g) ?? []) queried.add(m);
  for (const v of dashboard.templating.list) for (const m of String(v.query).match(/tracee_[a-z_]+/g) ?? []) queried.add(m);
  assert.ok(queried.size >= 10);
  for (const m of queried) assert.ok(exported.has(m), `dashboard queries ${m}, which is not exported`);
});
