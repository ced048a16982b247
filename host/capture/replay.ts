/**
 * Replays recorded events (Tracee's JSON event format, one per line) as
 * flat-encoded batches, so signatures can be tested without root. A malformed
 * line is reported with its number and reason and skipped; the rest of the
 * stream is still processed. Every skipped line is counted. What an event
 * says about its container (Tracee's `container` and `kubernetes` objects)
 * goes to the container table, as enrichment would have it live.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { BatchWriter } from '../events/batch-writer.ts';
import { parseJson } from '../events/event-json.ts';
import type { ContainerInfo, ContainerTable } from '../events/containers.ts';

export interface ReplayStats {
  lines: number;
  events: number;
  malformed: number;
}

export interface ReplayOptions {
  containers: ContainerTable;
  onBatch: (batch: Uint8Array) => void;
  onError: (message: string) => void;
  batchEvents?: number;
}

export function openInput(path: string): Readable {
  return path === 'stdin' ? process.stdin : createReadStream(path);
}

export async function replay(input: Readable, name: string, options: ReplayOptions): Promise<ReplayStats> {
  const stats: ReplayStats = { lines: 0, events: 0, malformed: 0 };
  const writer = new BatchWriter();
  const batchEvents = options.batchEvents ?? 1024;
  const flush = () => {
    if (writer.count) options.onBatch(writer.finish());
  };
  const lines = createInterface({ input, crlfDelay: Infinity });
  input.on('error', (err) => options.onError(`${name}: ${err.message}`));
  for await (const line of lines) {
    stats.lines++;
    if (line.trim() === '') continue;
    try {
      const event = parseJson(line) as Record<string, unknown>;
      const containerId = typeof event?.containerId === 'string' ? event.containerId : '';
      writer.add(event, options.containers.refFor(containerId));
      const known = containerId ? recordedContainer(event) : undefined;
      if (known) options.containers.update(containerId, known);
      stats.events++;
    } catch (err) {
      stats.malformed++;
      options.onError(`${name}:${stats.lines}: skipped malformed event: ${(err as Error).message}`);
      continue;
    }
    if (writer.count >= batchEvents) flush();
  }
  flush();
  return stats;
}

const CONTAINER_FIELDS = ['name', 'image', 'imageDigest'] as const;
const POD_FIELDS = ['podName', 'podNamespace', 'podUID'] as const;

/** The container facts a recorded event carries (non-empty strings only); undefined when none. */
function recordedContainer(event: Record<string, unknown>): Partial<ContainerInfo> | undefined {
  const info: Partial<ContainerInfo> = {};
  const pick = (from: unknown, keys: readonly (typeof CONTAINER_FIELDS[number] | typeof POD_FIELDS[number])[]) => {
    if (typeof from !== 'object' || from === null) return;
    for (const k of keys) {
      const v = (from as Record<string, unknown>)[k];
      if (typeof v === 'string' && v !== '') info[k] = v;
    }
  };
  pick(event.container, CONTAINER_FIELDS);
  pick(event.kubernetes, POD_FIELDS);
  const sandbox = (event.kubernetes as Record<string, unknown> | undefined)?.podSandbox;
  if (typeof sandbox === 'boolean') info.podSandbox = sandbox;
  return Object.keys(info).length ? info : undefined;
}
