/**
 * Kernel → JS capture rate on a syscall-heavy workload (memfd_create loop),
 * with the lost-event counts, against the same workload untraced in the same run.
 */
import { join } from 'node:path';
import { buildTriggers, runTriggerAsync } from '../helpers/triggers.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { readBatchHeader } from '../../host/events/batch-reader.ts';

const N = 500_000;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export async function benchCapture(root: string) {
  if (process.getuid?.() !== 0) throw new Error('capture benchmark needs root');
  const { KernelCapture } = await import('../../host/capture/addon.ts');
  const loop = buildTriggers().memfd_loop;
  const untraced = await timed(() => runTriggerAsync(loop, [String(N)]));
  const capture = KernelCapture.open({
    objectPath: join(root, 'bpf/build/tracee.bpf.o'), eventIds: [eventByName('memfd_create')!.id], ignorePid: process.pid,
  });
  let received = 0;
  capture.start((batch) => { received += readBatchHeader(batch).count; });
  const traced = await timed(() => runTriggerAsync(loop, [String(N)]));
  const deadline = Date.now() + 5000;
  while (received < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const stats = capture.stats();
  capture.stop();
  return [
    { name: `memfd_create+close × ${N}, untraced (baseline)`, seconds: untraced, ratio: 1, eventsPerSec: 0, lost: 0 },
    { name: `same, captured to JS batches`, seconds: traced, ratio: traced / untraced, eventsPerSec: received / traced, lost: stats.lostRingBuffer + stats.lostQueueFull, received },
  ];
}
