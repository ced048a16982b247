import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { BATCH_HEADER_SIZE } from '../../host/events/layout.ts';
import { parseJson } from '../../host/events/event-json.ts';
import type { Finding } from '../../host/engine/finding.ts';
import type { SignatureMetadata } from '../../host/engine/metadata.ts';
import { loadTemplateFile } from '../../host/output/template/index.ts';
import { BoundedQueue, idempotencyKey, RateLimitedLog, retryAfter, WebhookConfigError, WebhookSender, type WebhookOptions } from '../../host/output/webhook/index.ts';
import { traceeEvent } from '../helpers/events.ts';
import { ROOT } from '../helpers/tracee-process.ts';

const SIG: SignatureMetadata = {
  abi: 1, id: 'TRC-102', version: '1', name: 'Anti-Debugging detected', eventName: 'anti_debugging', description: 'A process used anti-debugging',
  tags: ['linux'], properties: { Severity: 3 }, selectedEvents: [{ source: 'tracee', name: 'ptrace', origin: '*' }],
};

/** n findings from real flat records; finding i has host pid 1000 + i. */
function findings(n: number): Finding[] {
  const w = new BatchWriter();
  for (let i = 0; i < n; i++) w.add(traceeEvent('ptrace', [['request', 0]], { hostProcessId: 1000 + i, timestamp: String(1732000000000000000n + BigInt(i)) }));
  const batch = w.finish();
  const out: Finding[] = [];
  let at = BATCH_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const size = new DataView(batch.buffer).getUint32(at, true);
    out.push({ signature: SIG, record: batch.slice(at, at + size), clockOffsetNs: 0n, data: { n: i } });
    at += size;
  }
  return out;
}

interface Received { body: string; headers: IncomingMessage['headers']; at: number }
type Handler = (req: IncomingMessage, res: ServerResponse, body: string, attempt: number) => void;

/** A real HTTP receiver on loopback; `attempt` counts requests per Idempotency-Key (1-based). */
async function receiver(handler: Handler, server: Server = createHttpServer()): Promise<{ url: string; requests: Received[]; close: () => Promise<void> }> {
  const requests: Received[] = [];
  const attempts = new Map<string, number>();
  server.on('request', (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => { body += c; }).on('end', () => {
      requests.push({ body, headers: req.headers, at: performance.now() });
      const key = String(req.headers['idempotency-key']);
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      handler(req, res, body, attempt);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const scheme = server instanceof HttpsServer ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}/alerts`, requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const ok: Handler = (_req, res) => { res.writeHead(200).end('ok'); };
const pidOf = (r: Received) => (parseJson(r.body) as any).Context.hostProcessId as number;
const fastRetries: Partial<WebhookOptions> = { minBackoffMs: 20, maxBackoffMs: 200, jitter: false, timeoutMs: 2000 };

function sender(url: string, options: Partial<WebhookOptions> = {}) {
  const logs: string[] = [];
  const s = new WebhookSender({ url, log: (m) => logs.push(m), ...fastRetries, ...options });
  return { s, logs };
}

test('delivers each finding once, in order, as rawjson with content type and idempotency key', async () => {
  const rx = await receiver(ok);
  const { s, logs } = sender(rx.url, { concurrency: 1 });
  const fs = findings(25);
  for (const f of fs) s.enqueue(f);
  const report = await s.close(5000);
  await rx.close();
  assert.deepEqual(rx.requests.map(pidOf), fs.map((_, i) => 1000 + i));
  assert.deepEqual({ sent: report.sent, failed: report.failed, retried: report.retried, dropped: report.dropped, unsent: report.unsent, queueDepth: report.queueDepth }, { sent: 25, failed: 0, retried: 0, dropped: 0, unsent: 0, queueDepth: 0 });
  const first = rx.requests[0];
  assert.equal(first.headers['content-type'], 'application/json');
  assert.equal(first.headers['idempotency-key'], idempotencyKey(fs[0]));
  assert.equal(new Set(rx.requests.map((r) => r.headers['idempotency-key'])).size, 25, 'each finding has its own key');
  const body = parseJson(first.body) as any;
  assert.deepEqual(Object.keys(body), ['Data', 'Context', 'SigMetadata']);
  assert.equal(body.Context.timestamp, '1732000000000000000', '64-bit timestamp exact');
  assert.deepEqual(logs, []);
});

test('a falcosidekick-shaped receiver accepts the falcosidekick template', async () => {
  const PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];
  const problems: string[] = [];
  const rx = await receiver((req, res, body) => {
    // What falcosidekick's handler requires of a Falco payload.
    let p: any;
    try { p = JSON.parse(body); } catch { problems.push('not JSON'); res.writeHead(400).end(); return; }
    const bad = [
      req.headers['content-type'] !== 'application/json' && 'content-type',
      (typeof p.output !== 'string' || !p.output) && 'output',
      !PRIORITIES.includes(p.priority) && 'priority',
      (typeof p.rule !== 'string' || !p.rule) && 'rule',
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(p.time) && 'time',
      (typeof p.output_fields !== 'object' || p.output_fields === null || Array.isArray(p.output_fields)) && 'output_fields',
      p.source !== 'tracee' && 'source',
      (!Array.isArray(p.tags) || p.tags.some((t: unknown) => typeof t !== 'string')) && 'tags',
    ].filter(Boolean);
    if (bad.length) { problems.push(bad.join(',')); res.writeHead(400).end(); return; }
    res.writeHead(200).end('{}');
  });
  const template = loadTemplateFile(join(ROOT, 'templates/falcosidekick.tmpl'));
  const { s, logs } = sender(rx.url, { template, contentType: 'application/json' });
  for (const f of findings(10)) s.enqueue(f);
  const report = await s.close(5000);
  await rx.close();
  assert.deepEqual(problems, []);
  assert.equal(report.sent, 10);
  assert.equal(report.failed, 0);
  const alert = JSON.parse(rx.requests[0].body);
  assert.equal(alert.priority, 'Error');
  assert.equal(alert.rule, 'Anti-Debugging detected');
  assert.deepEqual(rx.requests.map((r) => JSON.parse(r.body).output_fields['proc.pid']).sort(), Array.from({ length: 10 }, (_, i) => 1000 + i));
  assert.deepEqual(logs, []);
});

test('503 then 200: retried with growing backoff and the same idempotency key', async () => {
  const rx = await receiver((_req, res, _body, attempt) => { res.writeHead(attempt <= 2 ? 503 : 200).end(); });
  const { s } = sender(rx.url, { concurrency: 1, minBackoffMs: 40 });
  const fs = findings(3);
  for (const f of fs) s.enqueue(f);
  const report = await s.close(10_000);
  await rx.close();
  assert.equal(report.sent, 3);
  assert.equal(report.retried, 6);
  assert.equal(report.failed, 0);
  assert.equal(rx.requests.length, 9);
  // In order: all attempts of finding 0, then finding 1, then finding 2.
  assert.deepEqual(rx.requests.map(pidOf), [1000, 1000, 1000, 1001, 1001, 1001, 1002, 1002, 1002]);
  const keys = rx.requests.map((r) => r.headers['idempotency-key']);
  assert.equal(keys[0], keys[1]);
  assert.equal(keys[1], keys[2]);
  const gap1 = rx.requests[1].at - rx.requests[0].at;
  const gap2 = rx.requests[2].at - rx.requests[1].at;
  assert.ok(gap1 >= 35 && gap2 >= 75, `backoff 40 ms then 80 ms, got ${gap1.toFixed(0)} and ${gap2.toFixed(0)} ms`);
});

test('429 with Retry-After waits as long as the receiver asks', async () => {
  const rx = await receiver((_req, res, _body, attempt) => {
    if (attempt === 1) res.writeHead(429, { 'retry-after': '1' }).end();
    else res.writeHead(202).end();
  });
  const { s } = sender(rx.url, { minBackoffMs: 10 });
  s.enqueue(findings(1)[0]);
  const report = await s.close(10_000);
  await rx.close();
  assert.equal(report.sent, 1);
  assert.equal(report.retried, 1);
  const gap = rx.requests[1].at - rx.requests[0].at;
  assert.ok(gap >= 990 && gap < 3000, `Retry-After: 1 honoured (${gap.toFixed(0)} ms)`);
});

test('a receiver slower than the per-request deadline: each attempt is cut off, then the finding fails', async () => {
  const pending: ServerResponse[] = [];
  const rx = await receiver((_req, res) => { pending.push(res); setTimeout(() => res.writeHead(200).end(), 600).unref(); });
  const { s, logs } = sender(rx.url, { timeoutMs: 100, maxRetries: 2, minBackoffMs: 10 });
  const started = performance.now();
  s.enqueue(findings(1)[0]);
  const report = await s.close(10_000);
  const elapsed = performance.now() - started;
  await rx.close();
  assert.equal(rx.requests.length, 3);
  assert.deepEqual([report.sent, report.failed, report.retried], [0, 1, 2]);
  // Had the deadline not cut the first attempt off, the 600 ms answer would have been a 200 (sent: 1).
  assert.ok(elapsed < 1500, `three 100 ms deadlines (${elapsed.toFixed(0)} ms)`);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /1 finding\(s\) could not be delivered .*no answer within 100 ms \(after 3 attempts\)/);
});

test('a slow but working receiver gets everything, with requests in parallel', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const rx = await receiver((_req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => { inFlight--; res.writeHead(200).end(); }, 50);
  });
  const { s } = sender(rx.url, { concurrency: 4 });
  const fs = findings(20);
  const t0 = performance.now();
  for (const f of fs) s.enqueue(f);
  const enqueueMs = performance.now() - t0;
  const report = await s.close(10_000);
  await rx.close();
  assert.equal(report.sent, 20);
  assert.equal(maxInFlight, 4);
  assert.deepEqual(rx.requests.map(pidOf).sort(), fs.map((_, i) => 1000 + i));
  assert.ok(enqueueMs < 50, `enqueue does not wait for the receiver (${enqueueMs.toFixed(1)} ms for 20)`);
});

test('connections reset by the receiver are retried', async () => {
  const rx = await receiver((req, res, _body, attempt) => {
    if (attempt === 1) req.socket.destroy();
    else res.writeHead(200).end();
  });
  const { s } = sender(rx.url, { concurrency: 1 });
  for (const f of findings(5)) s.enqueue(f);
  const report = await s.close(10_000);
  await rx.close();
  assert.deepEqual([report.sent, report.failed, report.retried], [5, 0, 5]);
  // Each finding's reset attempt is followed by its successful one, in order.
  assert.deepEqual(rx.requests.map(pidOf), [1000, 1000, 1001, 1001, 1002, 1002, 1003, 1003, 1004, 1004]);
});

test('a receiver that is down: connection refused is retried, then counted as failed', async () => {
  const rx = await receiver(ok);
  const url = rx.url;
  await rx.close(); // nothing listens on the port any more
  const { s, logs } = sender(url, { maxRetries: 3, minBackoffMs: 5, breakerThreshold: 0 });
  for (const f of findings(4)) s.enqueue(f);
  const report = await s.close(10_000);
  assert.deepEqual([report.sent, report.failed, report.retried, report.unsent], [0, 4, 12, 0]);
  // One line at the first failure; the other three are summed and printed when close flushes.
  assert.equal(logs.length, 2, 'failures are logged once per interval, not once per finding');
  assert.match(logs[0], /: 1 finding\(s\) could not be delivered \(1 in total\); last error: ECONNREFUSED.*\(after 4 attempts\)/);
  assert.match(logs[1], /: 3 finding\(s\) could not be delivered \(4 in total\)/);
});

test('a receiver that keeps failing pauses delivery (circuit breaker), then one probe resumes it', async () => {
  const rx = await receiver((_req, res) => { res.writeHead(rx.requests.length <= 4 ? 503 : 200).end(); });
  const { s, logs } = sender(rx.url, { concurrency: 1, maxRetries: 10, minBackoffMs: 10, breakerThreshold: 3, breakerMinMs: 300 });
  for (const f of findings(5)) s.enqueue(f);
  let sawPaused = false;
  const watch = setInterval(() => { sawPaused ||= s.stats.paused; }, 5);
  const report = await s.close(10_000);
  clearInterval(watch);
  await rx.close();
  assert.deepEqual([report.sent, report.failed, report.unsent], [5, 0, 0], 'nothing is lost while paused');
  assert.equal(rx.requests.length, 9, '3 failures open the breaker, a failed probe re-opens it, the next probe succeeds, then 4 more');
  const gap = (i: number) => rx.requests[i].at - rx.requests[i - 1].at;
  assert.ok(gap(3) >= 290, `first pause ~300 ms (${gap(3).toFixed(0)})`);
  assert.ok(gap(4) >= 590, `second pause doubles to ~600 ms (${gap(4).toFixed(0)})`);
  assert.ok(sawPaused, 'stats.paused shows the pause');
  assert.equal(logs.length, 2);
  assert.match(logs[0], /receiver failing \(HTTP 503\); pausing delivery/);
  assert.match(logs[1], /receiver reachable again, resuming delivery \(4 queued\)/);
});

test('while a receiver is down the breaker keeps connection attempts to a trickle', async () => {
  let connections = 0;
  const tcp = createNetServer((sock) => { connections++; sock.destroy(); }); // accepts, then resets
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(tcp.address() as { port: number }).port}/`;
  const { s } = sender(url, { minBackoffMs: 5, maxBackoffMs: 5, maxRetries: 1000, breakerThreshold: 3, breakerMinMs: 200 });
  for (const f of findings(50)) s.enqueue(f);
  await new Promise((r) => setTimeout(r, 1500));
  const report = await s.close(0);
  await new Promise<void>((r) => tcp.close(() => r()));
  // Without the breaker: ~2 workers × 1500 ms / 5 ms ≈ 600 attempts. With it: a burst to open,
  // then probes at ~200, 600 and 1400 ms (two workers may each probe).
  assert.ok(connections >= 3 && connections <= 12, `${connections} connection attempts in 1.5 s`);
  assert.equal(report.failed, 0);
  assert.equal(report.unsent, 50, 'findings wait in the queue rather than being failed one after another');
});

test('a full queue drops the oldest findings, counts them, and logs at a limited rate', async () => {
  const held: ServerResponse[] = [];
  const rx = await receiver((_req, res) => { held.push(res); });
  const { s, logs } = sender(rx.url, { concurrency: 1, queueSize: 3, logIntervalMs: 60_000 });
  const fs = findings(10);
  for (const f of fs) s.enqueue(f); // all before any worker starts
  assert.equal(s.stats.dropped, 7);
  assert.equal(s.stats.queueDepth, 3);
  assert.equal(logs.length, 1, 'one line at the first drop, the rest held back for the interval');
  assert.match(logs[0], /queue full \(3\), dropped 1 oldest finding\(s\) \(1 in total\)/);
  // The three newest remain and are delivered in order once the receiver answers.
  const answer = setInterval(() => { for (const r of held.splice(0)) r.writeHead(200).end(); }, 10);
  const report = await s.close(5000);
  clearInterval(answer);
  await rx.close();
  assert.deepEqual(rx.requests.map(pidOf), [1007, 1008, 1009]);
  assert.deepEqual([report.sent, report.dropped], [3, 7]);
  assert.equal(logs.length, 2, 'close flushes the held-back count');
  assert.match(logs[1], /dropped 6 oldest finding\(s\) \(7 in total\)/);
});

test('close flushes within the deadline and reports what could not be sent', async () => {
  const held: ServerResponse[] = [];
  const rx = await receiver((_req, res) => { held.push(res); }); // never answers
  const { s, logs } = sender(rx.url, { concurrency: 2, timeoutMs: 60_000 });
  for (const f of findings(7)) s.enqueue(f);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.stats.inFlight, 2);
  const t0 = performance.now();
  const report = await s.close(200);
  const elapsed = performance.now() - t0;
  await rx.close();
  assert.ok(elapsed >= 190 && elapsed < 1000, `closed at the deadline (${elapsed.toFixed(0)} ms)`);
  assert.deepEqual([report.sent, report.failed, report.unsent, report.queueDepth, report.inFlight], [0, 0, 7, 0, 0]);
  assert.match(logs.at(-1)!, /7 finding\(s\) not sent before the 200 ms close deadline/);
  // After close, new findings are refused (counted as dropped), and close is idempotent.
  s.enqueue(findings(1)[0]);
  assert.equal(s.stats.dropped, 1);
  assert.equal(await s.close(10), report);
});

test('close interrupts a backoff wait at the deadline', async () => {
  const rx = await receiver((_req, res) => { res.writeHead(503).end(); });
  const { s } = sender(rx.url, { minBackoffMs: 10_000, maxBackoffMs: 10_000 });
  s.enqueue(findings(1)[0]);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const report = await s.close(100);
  await rx.close();
  assert.ok(performance.now() - t0 < 1000);
  assert.deepEqual([report.sent, report.failed, report.retried, report.unsent], [0, 0, 1, 1]);
});

test('4xx answers other than 408/429 are not retried', async () => {
  const rx = await receiver((_req, res) => { res.writeHead(400).end('bad'); });
  const { s, logs } = sender(rx.url);
  s.enqueue(findings(1)[0]);
  const report = await s.close(5000);
  await rx.close();
  assert.deepEqual([report.sent, report.failed, report.retried, rx.requests.length], [0, 1, 0, 1]);
  assert.match(logs[0], /HTTP 400/);
});

test('HTTPS: a CA file verifies the receiver; without it the certificate is refused; insecure skips the check', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch {
    t.skip('openssl is not available to make a test certificate');
    return;
  }
  const tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  const rx = await receiver(ok, tls);
  assert.match(rx.url, /^https:/);
  const run = async (options: Partial<WebhookOptions>) => {
    const { s, logs } = sender(rx.url, options);
    s.enqueue(findings(1)[0]);
    return { report: await s.close(5000), logs };
  };
  const verified = await run({ caFile: join(dir, 'cert.pem') });
  assert.equal(verified.report.sent, 1);
  const refused = await run({});
  assert.deepEqual([refused.report.sent, refused.report.failed, refused.report.retried], [0, 1, 0], 'a certificate error is not retried');
  assert.match(refused.logs[0], /SELF_SIGNED|self.signed/i);
  const insecure = await run({ insecure: true });
  assert.equal(insecure.report.sent, 1);
  await rx.close();
});

test('configuration errors are typed', () => {
  assert.throws(() => new WebhookSender({ url: 'not a url' }), (e: unknown) => e instanceof WebhookConfigError && e.code === 'TRC_ERR_WEBHOOK_CONFIG');
  assert.throws(() => new WebhookSender({ url: 'ftp://x/' }), /only http and https/);
  assert.throws(() => new WebhookSender({ url: 'http://x/', caFile: '/nonexistent/ca.pem' }), /reading CA file \/nonexistent\/ca\.pem/);
  assert.throws(() => new WebhookSender({ url: 'http://x/', queueSize: 0 }), /queueSize must be a positive integer/);
});

test('Retry-After parsing: seconds or an HTTP date', () => {
  assert.equal(retryAfter('3'), 3000);
  assert.equal(retryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.equal(retryAfter('soon'), undefined);
  assert.equal(retryAfter(undefined), undefined);
});

test('the idempotency key is stable for a finding and differs between findings', () => {
  const [a, b] = findings(2);
  assert.equal(idempotencyKey(a), idempotencyKey({ ...a, record: a.record.slice() }));
  assert.notEqual(idempotencyKey(a), idempotencyKey(b));
  assert.notEqual(idempotencyKey(a), idempotencyKey({ ...a, data: { n: 99 } }));
  assert.match(idempotencyKey(a), /^[0-9a-f]{32}$/);
});

test('the bounded queue drops oldest first', () => {
  const q = new BoundedQueue<number>(3);
  const dropped = [1, 2, 3, 4, 5].map((n) => q.push(n)).filter((r) => r.dropped).map((r) => r.item);
  assert.deepEqual(dropped, [1, 2]);
  assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift()], [3, 4, 5, undefined]);
  q.push(6);
  assert.equal(q.clear(), 1);
  assert.equal(q.length, 0);
});

test('the rate-limited log prints one line per interval with the count', async () => {
  let now = 0;
  const lines: string[] = [];
  const log = new RateLimitedLog((m) => lines.push(m), 1000, (n, total) => `${n}/${total}`, () => now);
  log.note();
  log.note();
  log.note(3);
  assert.deepEqual(lines, ['1/1'], 'the first occurrence at once, the rest held for the interval');
  now = 1500;
  log.note();
  log.flush();
  assert.deepEqual(lines, ['1/1', '5/6']);
  log.note();
  log.flush();
  assert.deepEqual(lines, ['1/1', '5/6', '1/7']);
  log.flush();
  assert.equal(lines.length, 3, 'nothing pending, nothing printed');

  // With the real clock, held-back occurrences are printed when the interval ends.
  const real: string[] = [];
  const timed = new RateLimitedLog((m) => real.push(m), 50, (n, total) => `${n}/${total}`);
  timed.note();
  timed.note();
  timed.note();
  assert.deepEqual(real, ['1/1']);
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(real, ['1/1', '2/3']);
});
