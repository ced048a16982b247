/**
 * Engine throughput: (a) the built wasm bundles through the real engine vs
 * (b) the same two signatures as plain TypeScript over decoded JS event
 * objects — with decoding (what a JS engine fed by the kernel pays) and
 * without (the logic alone), all in one run on the same batch.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';
import { mixedBatch } from './workload.ts';
import { rate } from './measure.ts';

type Sig = (e: TraceeEvent) => boolean;
const arg = (e: TraceeEvent, name: string) => e.args.find((a) => a.name === name)?.value;
/** TRC-102 and TRC-105 as a JS engine would write them. */
const JS_SIGNATURES: Record<string, Sig> = {
  ptrace: (e) => arg(e, 'request') === 0,
  sched_process_exec: (e) => {
    const p = String(arg(e, 'pathname') ?? '');
    return p.startsWith('memfd:') || p.startsWith('/run/shm/') || p.startsWith('/dev/shm/');
  },
};


export async function benchEngine(root: string) {
  const EVENTS = 20_000;
  const batch = mixedBatch(EVENTS);
  const bundles = await Promise.all(['anti_debugging.wasm', 'fileless_execution.wasm'].map(async (f) =>
    Bundle.load(f, await readFile(join(root, 'bundles', f)), () => {})));
  const engine = new Engine(bundles);
  const wasm = rate(() => engine.process(batch).length, EVENTS);

  const header = readBatchHeader(batch);
  const decodeAndMatch = () => {
    let found = 0;
    forEachRecord(batch, header, (o) => {
      const e = decodeEvent(batch, o, header);
      const sig = JS_SIGNATURES[e.eventName];
      if (sig && sig(e)) found++;
    });
    return found;
  };
  const jsDecoded = rate(decodeAndMatch, EVENTS);
  const objects: TraceeEvent[] = [];
  forEachRecord(batch, header, (o) => objects.push(decodeEvent(batch, o, header)));
  const jsLogicOnly = rate(() => objects.reduce((n, e) => n + (JS_SIGNATURES[e.eventName]?.(e) ? 1 : 0), 0), EVENTS);

  if (wasm.findings !== jsDecoded.findings || wasm.findings !== jsLogicOnly.findings) {
    throw new Error(`implementations disagree: wasm ${wasm.findings}, js ${jsDecoded.findings}/${jsLogicOnly.findings} findings per batch`);
  }
  return [
    { name: '(b) plain TS signatures, decode flat → JS objects + match (baseline)', ...jsDecoded, ratio: 1 },
    { name: '(b\') plain TS signatures on pre-decoded JS objects (logic only)', ...jsLogicOnly, ratio: jsLogicOnly.eventsPerSec / jsDecoded.eventsPerSec },
    { name: '(a) wasm bundles through the real engine', ...wasm, ratio: wasm.eventsPerSec / jsDecoded.eventsPerSec },
  ];
}
