/**
 * `tracee-rules --input-tracee` on recorded Tracee events: the real CLI, the
 * real built bundles and the real engine, without root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/tracee-process.ts';

const CLI = join(ROOT, 'host/cli/bin/tracee-rules.js');
const FIXTURE = join(ROOT, 'test/fixtures/replay/mixed.jsonl');
const BUNDLES = join(ROOT, 'bundles');

function rules(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, '--rules-dir', BUNDLES, ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const summary = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => {
  const f = JSON.parse(l);
  return `${f.SigMetadata.ID}:${f.Context.processId}`;
});

test('replays recorded events (parsed and raw arguments) into the expected findings, skipping a malformed line', () => {
  const r = rules(['--input-tracee', `file:${FIXTURE}`, '--input-tracee', 'format:json', '--output', 'json']);
  assert.deepEqual(summary(r.stdout), ['TRC-102:3001', 'TRC-102:3002', 'TRC-105:3004', 'TRC-105:3008']);
  assert.match(r.stderr, /mixed\.jsonl:6: skipped malformed event: .*JSON/);
  assert.match(r.stderr, /mixed\.jsonl:7: skipped malformed event: argument request: expected an integer or a ptraceRequest name, got "PTRACE_NOT_A_REQUEST"/);
  assert.match(r.stderr, /6 events, 4 detections, 2 malformed lines skipped, 0 signature errors/);
  const f = JSON.parse(r.stdout.split('\n')[3]);
  assert.equal(f.Data, null);
  assert.equal(f.Context.containerId, '4b1d2c3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a');
  assert.equal(f.Context.contextFlags.containerStarted, true);
  assert.deepEqual(f.Context.container, { id: f.Context.containerId, name: 'web-1', image: 'docker.io/library/nginx:1.27',
    imageDigest: 'sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0' }, 'the recorded container, not just its id');
  assert.deepEqual(f.Context.kubernetes, { podName: 'web-7d9f', podNamespace: 'shop', podUID: '6b2f0c1e-8a43-4f5e-9d21-0c7b3a9e4f11', podSandbox: false });
  assert.match(r.stdout.split('\n')[3], /"timestamp":1732525542000126464,/, 'ns timestamps are printed exactly');
  assert.equal(f.SigMetadata.Properties.Severity, 3);
  assert.equal(f.SigMetadata.Properties.external_id, 'T1620');
});

test('reads events from stdin with file:stdin and prints a table by default', () => {
  const r = rules(['--input-tracee', 'file:stdin', '--input-tracee', 'format:json'], readFileSync(FIXTURE, 'utf8'));
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^TIME\s+UID\s+COMM\s+PID\s+TID\s+SIGNATURE\s+SEVERITY\s+EVENT\s+DATA$/);
  assert.equal(lines.length, 5);
  assert.match(lines[1], /^\d\d:\d\d:\d\d\.\d{6}\s+1000\s+strace\s+3001\s+3001\s+TRC-102\s+1\s+anti_debugging$/);
});

test('--rules selects by ID or event name; --list and --list-events describe the loaded signatures', () => {
  const byId = rules(['--rules', 'TRC-105', '--input-tracee', `file:${FIXTURE}`, '--input-tracee', 'format:json', '-o', 'json']);
  assert.deepEqual(summary(byId.stdout), ['TRC-105:3004', 'TRC-105:3008']);
  const byEvent = rules(['--rules', 'anti_debugging', '--input-tracee', `file:${FIXTURE}`, '--input-tracee', 'format:json', '-o', 'json']);
  assert.deepEqual(summary(byEvent.stdout), ['TRC-102:3001', 'TRC-102:3002']);
  const list = rules(['--list']);
  assert.match(list.stdout, /^ID\s+NAME\s+VERSION\s+DESCRIPTION\n/);
  assert.match(list.stdout, /\nTRC-102\s+Anti-Debugging detected\s+\S+\s+/);
  assert.match(list.stdout, /\nTRC-105\s+Fileless execution detected\s+/i);
  assert.equal(rules(['--rules', 'TRC-102,TRC-105', '--list-events']).stdout, 'ptrace,sched_process_exec\n');
  const unknown = rules(['--rules', 'TRC-9999', '--list']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--rules: no loaded signature has ID or event name "TRC-9999"/);
});

test('bad --input-tracee values and a missing rules directory are reported clearly', () => {
  const fmt = rules(['--input-tracee', `file:${FIXTURE}`, '--input-tracee', 'format:gob']);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /--input-tracee format:gob: only json is supported/);
  const missing = spawnSync(process.execPath, [CLI, '--rules-dir', '/nonexistent', '--list'], { encoding: 'utf8' });
  assert.match(missing.stderr, /rules directory \/nonexistent: does not exist/);
  assert.match(execFileSync(process.execPath, [CLI, '--input-tracee', 'help'], { encoding: 'utf8' }), /file:PATH/);
});

test('--webhook delivers every finding to a real receiver with the template, and --output-template renders stdout', async () => {
  const { createServer } = await import('node:http');
  const bodies: Array<{ type: string | undefined; key: string | undefined; body: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; }).on('end', () => {
      bodies.push({ type: req.headers['content-type'], key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(text) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, '--rules-dir', BUNDLES, '--input-tracee', `file:${FIXTURE}`, '--input-tracee', 'format:json',
      '--output-template', join(ROOT, 'templates/csv.tmpl'), '--webhook', `http://127.0.0.1:${port}/hook`,
      '--webhook-template', join(ROOT, 'templates/falcosidekick.tmpl')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    await new Promise((r) => child.on('exit', r));
    assert.equal(stdout.trim().split('\n').length, 4, `csv rows:\n${stdout}\n${stderr}`);
    assert.match(stdout, /strace/);
    assert.equal(bodies.length, 4, stderr);
    assert.match(stderr, /webhook: 4 sent, 0 failed/);
    assert.deepEqual(bodies.map((b) => b.body.rule).sort(), ['Anti-Debugging detected', 'Anti-Debugging detected', 'Fileless execution detected', 'Fileless execution detected']);
    for (const b of bodies) {
      assert.equal(b.type, 'application/json');
      assert.ok(b.key, 'idempotency key');
      assert.equal(b.body.source, 'tracee');
      assert.ok(typeof b.body.output === 'string' && typeof b.body.priority === 'string' && typeof b.body.time === 'string');
    }
  } finally {
    server.close();
  }
});
