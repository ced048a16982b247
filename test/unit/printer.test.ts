import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { createPrinter } from '../../host/output/printer.ts';
import { Engine } from '../../host/engine/engine.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { traceeEvent } from '../helpers/events.ts';

test('in container mode the table printers show the container id and image after the time', async () => {
  const containers = new ContainerTable();
  const ref = containers.refFor('0123456789abcdef0123');
  containers.update('0123456789abcdef0123', { image: 'nginx:1.27' });
  const w = new BatchWriter();
  w.add(traceeEvent('ptrace', [['request', 0]], { contextFlags: { containerStarted: true, isCompat: false } }), ref);
  w.add(traceeEvent('ptrace', [['request', 0]]));
  const engine = new Engine([await Bundle.load('t.wasm', watModule(echoBundleWat(), metadata('T-1', [{ name: 'ptrace' }])), () => {})]);
  const findings = engine.process(w.finish());
  let text = '';
  createPrinter('table', (t) => { text += t; }, { containers }, true).print(findings);
  const lines = text.trim().split('\n');
  assert.match(lines[0], /^TIME\s+CONTAINER_ID\s+IMAGE\s+UID\s+COMM/);
  assert.match(lines[1], /^\S+\s+0123456789ab\s+nginx:1\.27\s+0\s+trigger/);
  assert.match(lines[2], /^\S+\s+host\s+0\s+trigger/);
});
