/**
 * The shared-memory protocol between the sandbox's main thread (engine.ts)
 * and its workers (worker.ts). Each worker has:
 *
 *  - a control block (Int32Array over a SharedArrayBuffer), below;
 *  - two input buffers (growable SharedArrayBuffers, written by the main
 *    thread): the worker's sub-batches, flat batches of only the records its
 *    bundles selected. Two, so that the main thread can route the next batch
 *    while the worker runs the current one;
 *  - an output buffer (growable SharedArrayBuffer, written by the worker):
 *    the batch's findings as compact records, below;
 *  - a MessagePort for what is structured (bundles to load, log lines,
 *    errors, the host data some bundles read), read synchronously with
 *    receiveMessageOnPort.
 *
 * A request: the main thread writes CMD and ARG (and PAYLOAD: whether it
 * posted a payload on the port), increments REQ and notifies it. The worker
 * runs the command and stores REQ's value in DONE, notifying it. Neither
 * side blocks the other's event loop: both wait with Atomics.wait on a
 * single index.
 *
 * The watchdog: before each call into a bundle the worker stores the call's
 * start (CALL_START, ms since the worker's epoch) and then the bundle's id in
 * CURRENT; after the call, -1. The main thread, waiting for DONE, stops the
 * worker when one call has run longer than the budget.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SignatureMetadata } from '../metadata.ts';
import type { FindingData } from '../finding-data.ts';
import type { HostReads } from '../bundle.ts';
import type { ContainerInfo } from '../../events/containers.ts';

/** Control block indices (Int32). */
export const CTRL = {
  /** Request sequence number, incremented by the main thread. */
  REQ: 0,
  /** Sequence number of the last request the worker finished. */
  DONE: 1,
  CMD: 2,
  /** CMD_BATCH: byte length of the sub-batch in the input buffer. */
  ARG: 3,
  /** Id of the bundle being called, -1 between calls. */
  CURRENT: 4,
  /** When the current call started, ms since the epoch given to the worker. */
  CALL_START: 5,
  /** CMD_BATCH: bytes of compact findings in the output buffer. */
  OUT_LEN: 6,
  /** 1 when the worker posted a reply on the port for this request. */
  REPLY: 7,
  /** 0 starting, 1 ready, 2 failed to start (reason on the port). */
  READY: 8,
  /** CMD_BATCH: which of the two input buffers holds the sub-batch. */
  BUFFER: 9,
  /** 1 when the request's payload is on the port (CMD_BATCH: a BatchHost). */
  PAYLOAD: 10,
} as const;
export const CTRL_SIZE = 16;

export const CMD_BATCH = 1;
/** Port payload LoadRequest: instantiate bundles, not yet running. Reply LoadReply. */
export const CMD_LOAD = 2;
/** Port payload ActivateRequest: run exactly these bundles from now on; others are dropped. */
export const CMD_ACTIVATE = 3;
/** Port payload ContainersRequest: container table changes. */
export const CMD_CONTAINERS = 4;
/** Stop the worker's loop; it exits. */
export const CMD_EXIT = 5;
/** Port payload PoliciesRequest: the policy names, sent when they changed (a reload) to a worker whose bundles read them. */
export const CMD_POLICIES = 6;

/** Initial and maximum sizes of the growable shared buffers. */
export const INPUT_INITIAL = 1 << 20;
export const INPUT_MAX = 1 << 30;
export const OUTPUT_INITIAL = 1 << 20;
export const OUTPUT_MAX = 1 << 30;

/**
 * A compact finding in the output buffer: u32 bundle id, u32 record offset in
 * the sub-batch, u32 data length, the data (docs/abi/bundle.md encoding),
 * padded to 4 bytes.
 */
export const FINDING_HEADER = 12;

/** A growable SharedArrayBuffer (ES2024; Node 20 has it, this project's TypeScript lib does not describe it). */
export type GrowableShared = SharedArrayBuffer & { grow(byteLength: number): void; readonly maxByteLength: number };

export function growableShared(byteLength: number, maxByteLength: number): GrowableShared {
  const Ctor = SharedArrayBuffer as unknown as new (n: number, options: { maxByteLength: number }) => GrowableShared;
  return new Ctor(byteLength, { maxByteLength });
}

/** Atomics.waitAsync (ES2024), typed here for the same reason. */
export function waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> } {
  return (Atomics as unknown as { waitAsync: typeof waitAsync }).waitAsync(array, index, value, timeoutMs);
}

export interface WorkerData {
  ctrl: SharedArrayBuffer;
  inputs: [GrowableShared, GrowableShared];
  output: GrowableShared;
  port: MessagePort;
  /** Date.now() at which CALL_START is 0. */
  epoch: number;
}

export interface BundleSpec {
  id: number;
  name: string;
  module: WebAssembly.Module;
  metadata: SignatureMetadata;
  /** BundleLimits; the memory limit is already in the module. */
  limits: { maxMemoryBytes: number; maxFindingsPerBatch: number; maxFindingBytes: number };
  /** A signature of a multi-signature module: its index, and the group whose first-loaded member's instance it shares. */
  member?: number;
  group?: number;
}

export interface LoadRequest { bundles: BundleSpec[] }
export interface LoadReply {
  failed: Array<[id: number, message: string]>;
  /** What each bundle instantiated reads of the host (a Rego module's builtins() is known only once it runs). */
  reads: Array<[id: number, reads: HostReads]>;
}
export interface ActivateRequest { ids: number[] }
/**
 * Container table entries, new or changed, in ref order. ctimeNs: the
 * container's creation time when the host's container directory lists it as
 * live (0 when there is no directory: then every container the table knows
 * is listed), null when it does not.
 */
export interface ContainersRequest { entries: Array<[ref: number, info: ContainerInfo, ctimeNs: bigint | null]> }
export interface PoliciesRequest { names: readonly string[] }

/**
 * CMD_BATCH's payload, when the worker's bundles read executables: the
 * process tree's answers for the sub-batch's records, which the worker's
 * Rego bundles ask for by (host pid, record timestamp). Per pid, the
 * executable of its first record; the records whose executable differs
 * from it (an exec in the batch) by `${pid}@${timestamp}`.
 */
export interface BatchHost {
  executables: { byPid: Map<number, string>; others: Map<string, string> };
}

/** What the worker reports after a batch when anything besides findings happened. */
export interface BatchReply {
  /** Bundles its engine disabled: id, reason, whether a limit was exceeded. */
  disabled: Array<[id: number, reason: string, limit: boolean]>;
  /** Bundle log lines: id, level, message. */
  logs: Array<[id: number, level: number, message: string]>;
  /** Findings whose data has no exact encoding (non-integer numbers): id, sub-batch offset, data. */
  findings: Array<[id: number, offset: number, data: FindingData]>;
}
