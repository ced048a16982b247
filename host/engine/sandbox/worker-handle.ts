/**
 * The main thread's side of one sandbox worker (protocol.ts): starting it,
 * sending requests, and waiting for them under the watchdog. Waits are
 * synchronous (Atomics.wait): the engine's process() is, and a worker never
 * needs the main thread's event loop to answer.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CTRL, CTRL_SIZE, OUTPUT_INITIAL, OUTPUT_MAX, growableShared, waitAsync, type GrowableShared, type WorkerData } from './protocol.ts';

const BOOT = new URL('./boot.cjs', import.meta.url);

export type WaitResult =
  | { state: 'done' }
  /** A call into bundle `id` ran longer than the budget. */
  | { state: 'overrun'; id: number; ms: number }
  /** The worker failed outside bundle code, or stopped answering. */
  | { state: 'failed'; reason: string };

export class WorkerHandle {
  readonly ctrl: Int32Array;
  readonly output: GrowableShared;
  readonly outBytes: Uint8Array;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private seq = 0;
  private readonly epoch = Date.now();
  private stopped = false;

  /** Starts the thread; wait for it with ready() before the first request. */
  constructor(readonly inputs: [GrowableShared, GrowableShared]) {
    const ctrl = new SharedArrayBuffer(CTRL_SIZE * 4);
    this.ctrl = new Int32Array(ctrl);
    this.output = growableShared(OUTPUT_INITIAL, OUTPUT_MAX);
    this.outBytes = new Uint8Array(this.output);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: WorkerData = { ctrl, inputs, output: this.output, port: port2, epoch: this.epoch };
    // No inherited flags (--import tsx, --test): the worker loads its code through boot.cjs.
    this.worker = new Worker(BOOT, { workerData: data, transferList: [port2], execArgv: [], stdout: false, stderr: false });
    this.worker.on('error', () => {}); // reported through the control block
  }

  /** Waits (blocking) until the worker serves requests; throws with its reason if it cannot start. */
  ready(timeoutMs: number): void {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.ctrl, CTRL.READY) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`sandbox worker did not start within ${timeoutMs} ms`);
      Atomics.wait(this.ctrl, CTRL.READY, 0, left);
    }
    if (Atomics.load(this.ctrl, CTRL.READY) !== 1) throw new Error(`sandbox worker failed to start: ${this.fatal()}`);
    this.worker.unref(); // referenced while starting (Atomics.waitAsync alone does not keep the event loop alive)
  }

  /** Like ready(), without blocking the event loop (startup of many workers at once). */
  async readyAsync(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.ctrl, CTRL.READY) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const r = waitAsync(this.ctrl, CTRL.READY, 0, left);
      if (r.async) await r.value;
    }
    this.ready(0);
  }

  /** Sends a request; `payload` goes on the port first. Returns its sequence number. */
  send(cmd: number, payload?: unknown, arg = 0, buffer = 0): number {
    if (payload !== undefined) this.port.postMessage(payload);
    Atomics.store(this.ctrl, CTRL.CMD, cmd);
    Atomics.store(this.ctrl, CTRL.ARG, arg);
    Atomics.store(this.ctrl, CTRL.BUFFER, buffer);
    Atomics.store(this.ctrl, CTRL.PAYLOAD, payload === undefined ? 0 : 1);
    this.seq = (this.seq + 1) | 0;
    Atomics.store(this.ctrl, CTRL.REQ, this.seq);
    Atomics.notify(this.ctrl, CTRL.REQ);
    return this.seq;
  }

  /**
   * Waits (blocking) for request `seq`. A call into one bundle that runs
   * longer than `budgetMs` ends the wait with 'overrun' (the caller stops the
   * worker). `hangMs` bounds a wait with no bundle call running (a worker
   * that died without a word).
   */
  wait(seq: number, budgetMs: number, hangMs: number): WaitResult {
    const ctrl = this.ctrl;
    if (Atomics.load(ctrl, CTRL.DONE) === seq) return { state: 'done' };
    let idleSince = Date.now();
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done === seq) return { state: 'done' };
      if (Atomics.load(ctrl, CTRL.READY) === 2) return { state: 'failed', reason: this.fatal() };
      const now = Date.now();
      const current = Atomics.load(ctrl, CTRL.CURRENT);
      let timeout: number;
      if (current >= 0) {
        const ran = now - this.epoch - Atomics.load(ctrl, CTRL.CALL_START);
        if (ran >= budgetMs) return { state: 'overrun', id: current, ms: ran };
        timeout = budgetMs - ran;
        idleSince = now;
      } else {
        if (now - idleSince >= hangMs) return { state: 'failed', reason: `it stopped answering (no reply in ${hangMs} ms)` };
        timeout = Math.min(budgetMs, hangMs - (now - idleSince));
      }
      Atomics.wait(ctrl, CTRL.DONE, done, Math.max(1, timeout));
    }
  }

  /** Whether request `seq` is done, without waiting. */
  isDone(seq: number): boolean {
    return Atomics.load(this.ctrl, CTRL.DONE) === seq;
  }

  /** Resolves when request `seq` is done or after `timeoutMs`, without blocking. */
  async whenDone(seq: number, timeoutMs: number): Promise<void> {
    const done = Atomics.load(this.ctrl, CTRL.DONE);
    if (done === seq) return;
    const r = waitAsync(this.ctrl, CTRL.DONE, done, timeoutMs);
    if (r.async) await r.value;
  }

  /** The worker's reply to the last request, if it posted one. */
  reply<T>(): T | undefined {
    if (Atomics.load(this.ctrl, CTRL.REPLY) !== 1) return undefined;
    return receiveMessageOnPort(this.port)?.message as T | undefined;
  }

  private fatal(): string {
    const m = receiveMessageOnPort(this.port)?.message as { fatal?: string } | undefined;
    return m?.fatal ?? 'no reason given';
  }

  /** Stops the thread now (a bundle in an endless loop included). */
  terminate(): Promise<number> {
    this.stopped = true;
    this.port.close();
    return this.worker.terminate();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}
