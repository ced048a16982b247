/**
 * Delivers findings to an HTTP endpoint (`--webhook URL`) without ever
 * slowing detection: `enqueue` only appends to a bounded in-memory queue
 * (dropping the oldest finding when full, counted and logged at a limited
 * rate); a few async workers render each finding (a template, or the rawjson
 * shape by default) and POST it with undici over a keep-alive Agent.
 *
 * Each attempt has its own deadline (AbortSignal.timeout). 408, 429 and 5xx
 * (but 501) answers, connection errors and timeouts are retried with
 * exponential backoff, or after the receiver's Retry-After when it asks for
 * longer; every request carries an Idempotency-Key that stays the same
 * across retries. With concurrency 1 delivery is strictly in order (a
 * retried finding holds back the ones behind it).
 *
 * A receiver that keeps failing (connection errors, timeouts, 408/5xx)
 * trips a circuit breaker: after `breakerThreshold` such failures in a row
 * delivery pauses for a cool-down (1 s, doubling to 30 s) and then one
 * probe decides whether to resume or pause again. Findings stay queued
 * meanwhile (the oldest dropped as usual), so a dead receiver costs neither
 * detection time nor a stream of doomed connection attempts.
 *
 * `close(deadlineMs)` stops intake, flushes the queue within the deadline,
 * aborts what is still in flight and reports what was not sent.
 *
 * Why not undici's retry interceptor: it does not count retries (we export
 * them as a metric), it keeps retrying through a shutdown (we must cut a
 * backoff short at the close deadline), and it throws RequestRetryError on
 * the last failure anyway. The loop here is ~40 lines and does all three.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { DecodeOptions } from '../../events/batch-reader.ts';
import { stringifyJson } from '../../events/event-json.ts';
import type { Finding } from '../../engine/finding.ts';
import { TraceeError } from '../../errors.ts';
import { findingToJson } from '../finding-json.ts';
import { renderFinding } from '../template/render.ts';
import type { Template } from '../template/template.ts';
import { idempotencyKey } from './idempotency.ts';
import { BoundedQueue } from './queue.ts';
import { RateLimitedLog } from './rate-limited-log.ts';

export interface WebhookOptions {
  url: string;
  /** Renders each finding; without it the body is the rawjson shape ({Data, Context, SigMetadata}). */
  template?: Template;
  /** Default application/json. */
  contentType?: string;
  /** Decoding of the triggering event (container table, parse-arguments). */
  decodeOptions?: DecodeOptions;
  /** Findings waiting for delivery; beyond this the oldest is dropped. Default 1000. */
  queueSize?: number;
  /** Requests in flight at once. Default 2; 1 keeps delivery in order. */
  concurrency?: number;
  /** Deadline of each attempt, connect to last body byte. Default 5000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  /** Backoff before retry n is min(maxBackoffMs, minBackoffMs * 2^n), halved-to-full jittered. Defaults 200 / 5000 ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Randomise backoff between half and all of it (default true). */
  jitter?: boolean;
  /** The longest Retry-After honoured. Default 60 000 ms. */
  maxRetryAfterMs?: number;
  /** Unreachable-receiver failures in a row that pause delivery (0: never pause). Default 5. */
  breakerThreshold?: number;
  /** First and longest pause. Defaults 1000 / 30 000 ms. */
  breakerMinMs?: number;
  breakerMaxMs?: number;
  /** PEM file with the CA(s) that sign the receiver's certificate. */
  caFile?: string;
  /** Skip TLS certificate verification (testing only). */
  insecure?: boolean;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Where warnings go (default stderr). */
  log?: (message: string) => void;
  /** At most one "dropped"/"failed" line per this many ms. Default 10 000. */
  logIntervalMs?: number;
}

export interface WebhookStats {
  /** Findings the receiver accepted (2xx). */
  sent: number;
  /** Findings given up on: retries exhausted, a non-retryable answer, or a render error. */
  failed: number;
  /** Attempts after the first, over all findings. */
  retried: number;
  /** Findings dropped because the queue was full (or arrived after close). */
  dropped: number;
  /** Findings still queued (not yet picked up by a worker). */
  queueDepth: number;
  /** Requests in progress, backoff waits included. */
  inFlight: number;
  /** Delivery is paused by the circuit breaker (the receiver keeps failing). */
  paused: boolean;
}

export interface WebhookCloseReport extends WebhookStats {
  /** Findings queued or in flight when the close deadline passed. */
  unsent: number;
}

/** A bad webhook configuration (URL, CA file). */
export class WebhookConfigError extends TraceeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRC_ERR_WEBHOOK_CONFIG', message, options);
  }
}

const RETRY_STATUS = (s: number) => s === 408 || s === 429 || (s >= 500 && s !== 501);
const RETRY_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** `unreachable`: the failure says the receiver is down or broken (counts toward the breaker). */
type Outcome = { ok: true } | { ok: false; retry: boolean; unreachable: boolean; reason: string; retryAfterMs?: number };

export class WebhookSender {
  private readonly queue: BoundedQueue<Finding>;
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly o: Required<Omit<WebhookOptions, 'template' | 'caFile' | 'headers' | 'decodeOptions'>> & Pick<WebhookOptions, 'template' | 'headers' | 'decodeOptions'>;
  private readonly dropLog: RateLimitedLog;
  private readonly failLog: RateLimitedLog;
  /** Aborted when the close deadline passes: in-flight requests and backoff waits stop. */
  private readonly stop = new AbortController();
  private counters = { sent: 0, failed: 0, retried: 0, dropped: 0, unsent: 0 };
  private workers = 0;
  private inFlight = 0;
  private pumpScheduled = false;
  private closing = false;
  private idle: Array<() => void> = [];
  private closed: Promise<WebhookCloseReport> | undefined;
  /** Circuit breaker: failures in a row, paused until (performance.now() ms), current pause, probing after a pause. */
  private breaker = { failures: 0, pausedUntil: 0, pauseMs: 0, probing: false };

  constructor(options: WebhookOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (err) {
      throw new WebhookConfigError(`webhook: invalid URL ${JSON.stringify(options.url)}`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookConfigError(`webhook: URL ${options.url}: only http and https are supported`);
    this.url = url;
    const log = options.log ?? ((m: string) => process.stderr.write(m + '\n'));
    this.o = {
      url: options.url, template: options.template, headers: options.headers, decodeOptions: options.decodeOptions,
      contentType: options.contentType ?? 'application/json', queueSize: options.queueSize ?? 1000, concurrency: options.concurrency ?? 2,
      timeoutMs: options.timeoutMs ?? 5000, maxRetries: options.maxRetries ?? 4, minBackoffMs: options.minBackoffMs ?? 200,
      maxBackoffMs: options.maxBackoffMs ?? 5000, jitter: options.jitter ?? true, maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      insecure: options.insecure ?? false, log, logIntervalMs: options.logIntervalMs ?? 10_000,
      breakerThreshold: options.breakerThreshold ?? 5, breakerMinMs: options.breakerMinMs ?? 1000, breakerMaxMs: options.breakerMaxMs ?? 30_000,
    };
    for (const k of ['queueSize', 'concurrency'] as const) {
      if (!Number.isInteger(this.o[k]) || this.o[k] < 1) throw new WebhookConfigError(`webhook: ${k} must be a positive integer, got ${this.o[k]}`);
    }
    let ca: string | undefined;
    if (options.caFile) {
      try {
        ca = readFileSync(options.caFile, 'utf8');
      } catch (err) {
        throw new WebhookConfigError(`webhook: reading CA file ${options.caFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    this.queue = new BoundedQueue(this.o.queueSize);
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: this.o.concurrency,
      connect: { ca, rejectUnauthorized: !this.o.insecure },
    });
    const where = `${url.origin}${url.pathname}`;
    this.dropLog = new RateLimitedLog(log, this.o.logIntervalMs, (n, total) =>
      `webhook ${where}: queue full (${this.o.queueSize}), dropped ${n} oldest finding(s) (${total} in total)`);
    this.failLog = new RateLimitedLog(log, this.o.logIntervalMs, (n, total, detail) =>
      `webhook ${where}: ${n} finding(s) could not be delivered (${total} in total); last error: ${detail}`);
  }

  /** Queues a finding for delivery. Never blocks or awaits; drops the oldest queued finding when full. */
  enqueue(finding: Finding): void {
    if (this.closing) {
      this.counters.dropped++;
      this.dropLog.note(1);
      return;
    }
    if (this.queue.push(finding).dropped) {
      this.counters.dropped++;
      this.dropLog.note(1);
    }
    if (!this.pumpScheduled && this.workers < this.o.concurrency) {
      this.pumpScheduled = true;
      // Start workers after the caller's synchronous work (a detection batch) is done.
      setImmediate(() => { this.pumpScheduled = false; this.pump(); });
    }
  }

  get stats(): WebhookStats {
    const { sent, failed, retried, dropped } = this.counters;
    return { sent, failed, retried, dropped, queueDepth: this.queue.length, inFlight: this.inFlight, paused: performance.now() < this.breaker.pausedUntil };
  }

  /**
   * Stops intake and delivers what is queued, giving up at `deadlineMs`:
   * in-flight requests are aborted and everything undelivered is counted
   * as `unsent` (and logged). Idempotent.
   */
  close(deadlineMs = 5000): Promise<WebhookCloseReport> {
    this.closed ??= this.doClose(deadlineMs);
    return this.closed;
  }

  private async doClose(deadlineMs: number): Promise<WebhookCloseReport> {
    this.closing = true;
    this.pump();
    let timer: NodeJS.Timeout | undefined;
    const drained = this.whenIdle();
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), deadlineMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.counters.unsent += this.queue.clear();
      this.stop.abort(new Error('webhook: close deadline passed'));
      await drained;
    }
    this.dropLog.flush();
    this.failLog.flush();
    if (timedOut) await this.agent.destroy();
    else await this.agent.close();
    const report = { ...this.stats, unsent: this.counters.unsent };
    if (report.unsent > 0) {
      this.o.log(`webhook ${this.url.origin}${this.url.pathname}: ${report.unsent} finding(s) not sent before the ${deadlineMs} ms close deadline (${report.sent} sent, ${report.failed} failed, ${report.dropped} dropped)`);
    }
    return report;
  }

  private whenIdle(): Promise<void> {
    if (this.workers === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump(): void {
    // A worker takes its first finding synchronously, so queued items all wait for a worker.
    while (this.workers < this.o.concurrency && this.queue.length > 0) {
      this.workers++;
      void this.work();
    }
    if (this.workers === 0) this.settleIdle();
  }

  private settleIdle(): void {
    if (this.workers !== 0 || this.queue.length !== 0) return;
    const waiters = this.idle;
    this.idle = [];
    for (const r of waiters) r();
  }

  private async work(): Promise<void> {
    try {
      for (let f = this.queue.shift(); f && !this.stop.signal.aborted; f = this.queue.shift()) {
        this.inFlight++;
        try {
          await this.deliver(f);
        } finally {
          this.inFlight--;
        }
      }
    } finally {
      this.workers--;
      this.settleIdle();
    }
  }

  private render(f: Finding): string {
    if (this.o.template) return renderFinding(this.o.template, f, this.o.decodeOptions);
    return stringifyJson(findingToJson(f, this.o.decodeOptions));
  }

  private async deliver(f: Finding): Promise<void> {
    let body: string;
    try {
      body = this.render(f);
    } catch (err) {
      this.counters.failed++;
      this.failLog.note(1, `rendering ${f.signature.id}: ${(err as Error).message}`);
      return;
    }
    const headers = { 'content-type': this.o.contentType, 'idempotency-key': idempotencyKey(f), 'user-agent': 'tracee-ts', ...this.o.headers };
    for (let attempt = 0; ; attempt++) {
      if (!(await this.breakerClosed())) {
        this.counters.unsent++;
        return;
      }
      const outcome = await this.attempt(body, headers);
      this.observe(outcome);
      if (this.stop.signal.aborted) {
        if (!outcome.ok) this.counters.unsent++;
        else this.counters.sent++;
        return;
      }
      if (outcome.ok) {
        this.counters.sent++;
        return;
      }
      if (!outcome.retry || attempt >= this.o.maxRetries) {
        this.counters.failed++;
        this.failLog.note(1, outcome.retry ? `${outcome.reason} (after ${attempt + 1} attempts)` : outcome.reason);
        return;
      }
      this.counters.retried++;
      let delay = Math.min(this.o.maxBackoffMs, this.o.minBackoffMs * 2 ** attempt);
      if (this.o.jitter) delay = delay / 2 + Math.random() * (delay / 2);
      if (outcome.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(outcome.retryAfterMs, this.o.maxRetryAfterMs));
      if (!(await sleep(delay, this.stop.signal))) {
        this.counters.unsent++;
        return;
      }
    }
  }

  /** Waits out a breaker pause; false if the close deadline cut the wait short. */
  private async breakerClosed(): Promise<boolean> {
    for (let wait = this.breaker.pausedUntil - performance.now(); wait > 0; wait = this.breaker.pausedUntil - performance.now()) {
      if (!(await sleep(wait, this.stop.signal))) return false;
    }
    return !this.stop.signal.aborted;
  }

  /** Feeds the breaker: unreachable failures in a row pause delivery; a success resumes it. */
  private observe(outcome: Outcome): void {
    const b = this.breaker;
    const where = `${this.url.origin}${this.url.pathname}`;
    if (outcome.ok) {
      if (b.probing) this.o.log(`webhook ${where}: receiver reachable again, resuming delivery (${this.queue.length} queued)`);
      b.failures = 0;
      b.pauseMs = 0;
      b.probing = false;
      return;
    }
    if (!outcome.unreachable || this.o.breakerThreshold === 0) return;
    b.failures++;
    if (!b.probing && b.failures < this.o.breakerThreshold) return;
    // Open (or, after a failed probe, re-open with a longer pause).
    const first = !b.probing;
    b.pauseMs = b.pauseMs ? Math.min(b.pauseMs * 2, this.o.breakerMaxMs) : this.o.breakerMinMs;
    b.pausedUntil = performance.now() + b.pauseMs;
    b.probing = true;
    b.failures = 0;
    if (first) this.o.log(`webhook ${where}: receiver failing (${outcome.reason}); pausing delivery, retrying every ${this.o.breakerMinMs}-${this.o.breakerMaxMs} ms`);
  }

  private async attempt(body: string, headers: Record<string, string>): Promise<Outcome> {
    // This attempt's deadline, or the close deadline, whichever comes first. (Not AbortSignal.any:
    // on Node 20 it keeps every combined signal alive as long as the long-lived `stop` signal.)
    const deadline = AbortSignal.timeout(this.o.timeoutMs);
    const signal = new AbortController();
    const onTimeout = () => signal.abort(deadline.reason);
    const onStop = () => signal.abort(this.stop.signal.reason);
    deadline.addEventListener('abort', onTimeout, { once: true });
    this.stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await request(this.url, { dispatcher: this.agent, method: 'POST', headers, body, signal: signal.signal });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
      const reason = `HTTP ${res.statusCode}`;
      if (!RETRY_STATUS(res.statusCode)) return { ok: false, retry: false, unreachable: false, reason };
      // 429 is throttling, handled by Retry-After, not a broken receiver.
      return { ok: false, retry: true, unreachable: res.statusCode !== 429, reason, retryAfterMs: retryAfter(res.headers['retry-after']) };
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.name === 'TimeoutError') return { ok: false, retry: true, unreachable: true, reason: `no answer within ${this.o.timeoutMs} ms` };
      const reason = e.code ? `${e.code}: ${e.message}` : e.message;
      const retry = e.code !== undefined && RETRY_CODES.has(e.code);
      return { ok: false, retry, unreachable: retry, reason };
    } finally {
      deadline.removeEventListener('abort', onTimeout);
      this.stop.signal.removeEventListener('abort', onStop);
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function retryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { clearTimeout(t); signal.removeEventListener('abort', onAbort); resolve(ok); };
    const onAbort = () => done(false);
    const t = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}
