/**
 * A sandbox worker (protocol.ts): runs a group of bundles with the in-thread
 * Engine over the sub-batches the main thread routes to it, and writes their
 * findings to the output buffer as compact records. Everything here is
 * synchronous; the loop blocks in Atomics.wait between requests, so a
 * bundle stuck in a loop stops only this thread, which the main thread's
 * watchdog then terminates.
 *
 * Loaded through boot.cjs (tsx's CommonJS hook): the main thread may wait for
 * a restarted worker synchronously, and module loading through the ESM hooks
 * thread would need the main thread's event loop.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Bundle } from '../bundle.ts';
import { Engine } from '../engine.ts';
import type { RegoEventHost } from '../rego-glue.ts';
import { BundleLimitError } from '../limits.ts';
import { encodable, encodeFindingData } from './compact.ts';
import { MirroredContainers } from './containers.ts';
import { BatchExecutables } from './executables.ts';
import type { FindingData } from '../finding-data.ts';
import {
  CMD_ACTIVATE, CMD_BATCH, CMD_CONTAINERS, CMD_EXIT, CMD_LOAD, CMD_POLICIES, CTRL, FINDING_HEADER, OUTPUT_MAX,
  type ActivateRequest, type BatchHost, type BatchReply, type ContainersRequest, type LoadReply, type LoadRequest, type PoliciesRequest, type WorkerData,
} from './protocol.ts';

const data = workerData as WorkerData;
const ctrl = new Int32Array(data.ctrl);
const inputs = data.inputs.map((b) => new Uint8Array(b));
const output = data.output;
let out = new Uint8Array(output);
let outView = new DataView(output);
const port = data.port;
const containers = new MirroredContainers();
const executables = new BatchExecutables();
/** What the bundles' Rego host builtins answer from, as the main thread sends it. */
const eventHost: Omit<RegoEventHost, 'containers'> = { processes: executables, policyNames: [], containerDirectory: containers };

/** Every bundle instantiated here (running or staged), by id. */
const instances = new Map<number, Bundle>();
const ids = new Map<Bundle, number>();
/** Multi-signature modules: the bundle whose instance the group's signatures share. */
const groups = new Map<number, Bundle>();
let running: Bundle[] = [];
const reply: BatchReply = { disabled: [], logs: [], findings: [] };

const engine = new Engine([], (_message, disabled) => {
  if (!disabled) return;
  for (const b of disabled.bundles) reply.disabled.push([ids.get(b)!, disabled.error.message, disabled.error instanceof BundleLimitError]);
});
let outLen = 0;

/** Marks calls into bundle `id` for the watchdog. */
function enter(id: number): void {
  Atomics.store(ctrl, CTRL.CALL_START, Date.now() - data.epoch);
  Atomics.store(ctrl, CTRL.CURRENT, id);
}

function leave(): void {
  Atomics.store(ctrl, CTRL.CURRENT, -1);
}

/** Wraps the two calls the engine makes into bundle code so the watchdog knows who is running. */
function watch(bundle: Bundle, id: number): void {
  const run = bundle.run.bind(bundle);
  const input = bundle.input.bind(bundle);
  bundle.run = (len) => {
    enter(id);
    try {
      return run(len);
    } finally {
      leave();
    }
  };
  // The engine asks for the input buffer at every run of records it copies; only a larger size calls into the bundle.
  let asked = 0;
  bundle.input = (size) => {
    if (size <= asked) return input(size);
    enter(id);
    try {
      const got = input(size);
      asked = size;
      return got;
    } finally {
      leave();
    }
  };
}

function load(req: LoadRequest): LoadReply {
  const failed: LoadReply['failed'] = [];
  const reads: LoadReply['reads'] = [];
  for (const spec of req.bundles) {
    enter(spec.id);
    try {
      const log = (level: number, message: string) => { reply.logs.push([spec.id, level, message]); };
      const peer = spec.group === undefined ? undefined : groups.get(spec.group);
      const bundle = Bundle.instantiate(spec, log, { limits: spec.limits, containers: containers.table, eventHost, shareWith: peer });
      if (spec.group !== undefined && !peer) groups.set(spec.group, bundle);
      watch(bundle, spec.id);
      instances.set(spec.id, bundle);
      ids.set(bundle, spec.id);
      reads.push([spec.id, bundle.reads]);
    } catch (err) {
      failed.push([spec.id, (err as Error).message.replace(`bundle ${spec.name}: `, '')]);
    } finally {
      leave();
    }
  }
  return { failed, reads };
}

function activate(req: ActivateRequest): void {
  running = req.ids.map((id) => instances.get(id)).filter((b): b is Bundle => b !== undefined);
  const keep = new Set(req.ids);
  for (const [id, bundle] of instances) {
    if (!keep.has(id)) {
      instances.delete(id);
      ids.delete(bundle);
    }
  }
  const live = new Set([...instances.values()].map((b) => b.instanceKey));
  for (const [group, bundle] of groups) if (!live.has(bundle.instanceKey)) groups.delete(group);
  engine.setBundles(running);
}

function ensureOutput(size: number): void {
  if (size <= output.byteLength) return;
  if (size > OUTPUT_MAX) throw new BundleLimitError('findings', `the batch's findings need ${size} bytes, more than the sandbox's result buffer (${OUTPUT_MAX})`);
  output.grow(Math.min(OUTPUT_MAX, Math.max(size, output.byteLength * 2)));
  out = new Uint8Array(output);
  outView = new DataView(output);
}

/** Copies a finding's encoded data (validated by the bundle's decoding) to the output; encodes it when the bundle did not (Rego bundles). */
function collect(bundle: Bundle, offset: number, data: FindingData, raw?: Uint8Array): void {
  if (raw === undefined && !encodable(data)) {
    reply.findings.push([ids.get(bundle)!, offset, data]); // e.g. a Rego float: structured clone instead
    return;
  }
  const bytes = raw ?? encodeFindingData(data);
  const size = FINDING_HEADER + ((bytes.length + 3) & ~3);
  ensureOutput(outLen + size);
  outView.setUint32(outLen, ids.get(bundle)!, true);
  outView.setUint32(outLen + 4, offset, true);
  outView.setUint32(outLen + 8, bytes.length, true);
  out.set(bytes, outLen + FINDING_HEADER);
  outLen += size;
}

function batch(buffer: number, len: number): void {
  outLen = 0;
  engine.collect(inputs[buffer].subarray(0, len), collect);
  Atomics.store(ctrl, CTRL.OUT_LEN, outLen);
}

function send(message: unknown): void {
  port.postMessage(message);
  Atomics.store(ctrl, CTRL.REPLY, 1);
}

function serve(): void {
  let seen = Atomics.load(ctrl, CTRL.REQ); // before READY: the main thread sends its first request once it sees READY
  Atomics.store(ctrl, CTRL.CURRENT, -1);
  Atomics.store(ctrl, CTRL.READY, 1);
  Atomics.notify(ctrl, CTRL.READY);
  for (;;) {
    Atomics.wait(ctrl, CTRL.REQ, seen);
    const req = Atomics.load(ctrl, CTRL.REQ);
    if (req === seen) continue;
    seen = req;
    Atomics.store(ctrl, CTRL.REPLY, 0);
    const cmd = Atomics.load(ctrl, CTRL.CMD);
    if (cmd === CMD_EXIT) break;
    const payload = Atomics.load(ctrl, CTRL.PAYLOAD) ? receiveMessageOnPort(port)?.message : undefined;
    switch (cmd) {
      case CMD_BATCH: {
        executables.set((payload as BatchHost | undefined)?.executables);
        batch(Atomics.load(ctrl, CTRL.BUFFER), Atomics.load(ctrl, CTRL.ARG));
        if (reply.disabled.length || reply.logs.length || reply.findings.length) {
          send({ disabled: reply.disabled, logs: reply.logs, findings: reply.findings } satisfies BatchReply);
          reply.disabled = [];
          reply.logs = [];
          reply.findings = [];
        }
        break;
      }
      case CMD_LOAD:
        send({ ...load(payload as LoadRequest), logs: reply.logs.splice(0) });
        break;
      case CMD_ACTIVATE:
        activate(payload as ActivateRequest);
        break;
      case CMD_CONTAINERS:
        containers.apply((payload as ContainersRequest).entries);
        break;
      case CMD_POLICIES:
        eventHost.policyNames = (payload as PoliciesRequest).names;
        break;
    }
    Atomics.store(ctrl, CTRL.DONE, req);
    Atomics.notify(ctrl, CTRL.DONE);
  }
  port.close();
}

serve();
