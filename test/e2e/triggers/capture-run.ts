/**
 * Runs a real trigger under a kernel capture and returns the decoded events
 * of the processes it names. Used by the test/e2e/events-*.test.ts and
 * capture-*.test.ts tests (root, a kernel with BTF).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DEFAULT_OBJECT_PATH, KernelCapture, missingFeaturesFor, type KernelCaptureOptions, type KernelCaptureStats } from '../../../host/capture/addon.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../../host/events/batch-reader.ts';
import { eventByName } from '../../../host/events/catalogue.ts';
import type { TraceeEvent } from '../../../host/events/event-json.ts';

export function ids(...names: string[]): number[] {
  return names.map((n) => {
    const def = eventByName(n);
    assert.ok(def, `event ${n} in the catalogue`);
    return def.id;
  });
}

/** Fails (never skips) when root, the built object or a kernel feature the events need is missing. */
export function requireCapture(eventIds: number[]): void {
  assert.equal(process.geteuid?.(), 0, 'this end-to-end test must run as root (it loads eBPF programs)');
  assert.ok(existsSync(DEFAULT_OBJECT_PATH), `${DEFAULT_OBJECT_PATH} missing: run npm run build`);
  const missing = missingFeaturesFor(eventIds);
  assert.deepEqual(missing, [], `kernel features missing:\n${missing.join('\n')}`);
}

export interface CaptureRun {
  events: TraceeEvent[];
  stats: KernelCaptureStats;
  /** Records received, by host pid. */
  all: TraceeEvent[];
}

/**
 * Opens a capture of `eventIds`, runs `action` (which returns the host pids
 * whose events matter), waits for the records to drain, stops and decodes.
 */
export async function captureDuring(eventIds: number[], action: () => Promise<number[]>,
  options: Partial<KernelCaptureOptions> = {}): Promise<CaptureRun> {
  requireCapture(eventIds);
  const capture = KernelCapture.open({ objectPath: DEFAULT_OBJECT_PATH, eventIds, ...options });
  const batches: Uint8Array[] = [];
  let pids: number[] = [];
  try {
    capture.start((b) => batches.push(b));
    pids = await action();
    await new Promise((r) => setTimeout(r, 150)); // > the 10 ms flush interval
  } finally {
    capture.stop();
  }
  await new Promise((r) => setImmediate(r)); // batches queued at stop
  const all: TraceeEvent[] = [];
  for (const b of batches) {
    const h = readBatchHeader(b);
    forEachRecord(b, h, (off) => all.push(decodeEvent(b, off, h)));
  }
  const want = new Set(pids);
  return { events: all.filter((e) => want.has(e.hostProcessId)), all, stats: capture.stats() };
}

/** The value of argument `name` (undefined when absent). */
export function arg(e: TraceeEvent, name: string): unknown {
  return e.args.find((a) => a.name === name)?.value;
}

export function named(events: TraceeEvent[], name: string): TraceeEvent[] {
  return events.filter((e) => e.eventName === name);
}

/** Kernel dev_t (MKDEV: major << 20 | minor), as records carry it, from a stat() st_dev. */
export function kernelDev(stDev: number): number {
  const major = (stDev >> 8) & 0xfff;
  const minor = (stDev & 0xff) | ((stDev >> 12) & 0xfff00);
  return major * 2 ** 20 + minor;
}
