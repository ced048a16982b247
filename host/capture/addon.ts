/**
 * The one typed boundary to the native capture addon (native/, built by
 * `npm run build`): loads the kernel programs of bpf/build/tracee.bpf.o,
 * attaches those of the enabled events and delivers their records as
 * flat-encoding batches (docs/abi/flat-encoding.md).
 *
 * Requires Linux 5.17+ with BTF (/sys/kernel/btf/vmlinux), ring buffers,
 * raw_tracepoint and tp_btf programs, task storage and bpf_find_vma, and
 * root. `probeKernel()` says which of these is missing and which events that
 * disables; `unavailableEvents()` lists the events this kernel cannot give.
 * Policies and scope filters run in the kernel (kernel-scope.ts builds the
 * maps; open({scope}) and applyScope() write them). docs/kernel.md has the
 * whole picture.
 *
 * Concurrency: one poll thread per capture drains the kernel ring buffer; JS
 * sees batches only on the main thread, through a bounded queue. When JS
 * falls behind by more than `queueBatches` batches, whole batches are dropped
 * and counted in `lostQueueFull`; the kernel side never waits for JS.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraceeError } from '../errors.ts';
import { FLAT_VERSION } from '../events/layout.ts';
import { eventById } from '../events/catalogue.ts';
import type { KernelScopeImage } from './kernel-scope.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where `npm run build:native` puts the addon. */
export const ADDON_PATH = join(ROOT, 'native', 'build', 'Release', 'tracee_capture.node');
/** Where `npm run build:bpf` puts the kernel object. */
export const DEFAULT_OBJECT_PATH = join(ROOT, 'bpf', 'build', 'tracee.bpf.o');

export interface KernelCaptureOptions {
  /** bpf/build/tracee.bpf.o (DEFAULT_OBJECT_PATH). */
  objectPath: string;
  /** Catalogue ids of the kernel events to emit; programs of other events are not loaded. */
  eventIds: readonly number[];
  /** Kernel ring buffer size: a power of two, at least a page. Default 8 MiB. */
  ringBufferBytes?: number;
  /** A batch is handed to JS when it reaches this size... Default 256 KiB. */
  batchBytes?: number;
  /** ...or when its oldest record has waited this long. Default 10 ms. */
  flushMs?: number;
  /** Batches waiting for the JS thread before new ones are dropped. Default 64. */
  queueBatches?: number;
  /** Host tgid never traced (tracee itself, to avoid feedback). Default process.pid; 0 traces everything. */
  ignorePid?: number;
  /**
   * Policies and scope filters applied in the kernel (compileKernelScope in
   * kernel-scope.ts). Default: one policy (bit 0 of matchedPolicies) with no
   * scope filter, wanting every event of `eventIds`.
   */
  scope?: KernelScopeImage;
  /** Record sched_process_exec's env and execve(at)'s envp (Tracee's exec-env option). Default false. */
  execEnv?: boolean;
}

export interface KernelCaptureStats {
  /** Records taken from the kernel ring buffer. */
  eventsReceived: number;
  /** Batches handed to the onBatch callback. */
  batchesDelivered: number;
  /** Records the kernel dropped because the ring buffer was full. */
  lostRingBuffer: number;
  /** Records dropped (in whole batches) because the JS queue was full. */
  lostQueueFull: number;
  /** lostRingBuffer by CPU (index = CPU). */
  lostRingBufferByCpu: number[];
  /** lostRingBuffer by event id: [eventId, count] for ids that lost any. */
  lostRingBufferByEvent: Array<[number, number]>;
  /** Arguments cut at a limit (string > 4 KiB, argv > 20 entries, env > 64, path > 64 components, record > 16 KiB of data). */
  truncated: number;
  /** Syscalls not followed because the kernel could not allocate the thread's task storage. */
  noTaskStorage: number;
  /** Runs of attached programs the kernel skipped (recursion on a CPU; bpf_prog_info.recursion_misses). */
  kernelMissedRuns: number;
  /** Records the host could not decode, as reported through countDecodeFailures(). */
  decodeFailures: number;
}

/** A capture step failed. Match on `code`; `step` is the loader step, `errno` the kernel's answer. */
export class CaptureError extends TraceeError {
  readonly step: string;
  readonly errno?: number;
  constructor(code: string, step: string, message: string, errno?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.step = step;
    if (errno !== undefined) this.errno = errno;
  }
}

/** What the addon exports (native/capture.cc). */
interface NativeCapture {
  start(onBatch: (batch: Buffer) => void): void;
  stats(): Omit<KernelCaptureStats, 'decodeFailures'>;
  applyScope(scope: KernelScopeImage): void;
  stop(): void;
  programs(): string[];
}
/** One kernel feature probe (native/probe.cc). */
export interface ProbeResult {
  feature: string;
  ok: boolean;
  /** Why not, when !ok. */
  detail: string;
  /** Event ids the feature serves; empty: every event. */
  events: number[];
  /** True: without it those events only lose some arguments. */
  degrades: boolean;
}
interface AddonExports {
  Capture: new (options: KernelCaptureOptions) => NativeCapture;
  probeKernel(): ProbeResult[];
  flatVersion: number;
  scopeConfigSize: number;
}

let loaded: AddonExports | undefined;

function addon(): AddonExports {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    throw new CaptureError('TRC_ERR_ADDON_MISSING', 'load-addon',
      `capture: native addon not built (${ADDON_PATH} missing): run npm run build`);
  }
  let exports: AddonExports;
  try {
    exports = createRequire(import.meta.url)(ADDON_PATH) as AddonExports;
  } catch (err) {
    throw new CaptureError('TRC_ERR_ADDON_LOAD', 'load-addon',
      `capture: loading ${ADDON_PATH}: ${(err as Error).message} (rebuild with npm run build)`, undefined, { cause: err });
  }
  if (exports.flatVersion !== FLAT_VERSION) {
    throw new CaptureError('TRC_ERR_ADDON_LOAD', 'load-addon',
      `capture: addon writes flat encoding v${exports.flatVersion}, host reads v${FLAT_VERSION}: rebuild with npm run build`);
  }
  loaded = exports;
  return exports;
}

/** Native errors carry code/step/errno as properties; give them our class. */
function wrap(err: unknown): CaptureError {
  if (err instanceof CaptureError) return err;
  const e = err as { code?: unknown; step?: unknown; errno?: unknown; message?: string };
  const code = typeof e.code === 'string' && e.code.startsWith('TRC_ERR_') ? e.code : 'TRC_ERR_CAPTURE';
  return new CaptureError(code, typeof e.step === 'string' ? e.step : 'unknown', e.message ?? String(err),
    typeof e.errno === 'number' ? e.errno : undefined, { cause: err });
}

export class KernelCapture {
  readonly #native: NativeCapture;
  #decodeFailures = 0;

  private constructor(native: NativeCapture) {
    this.#native = native;
  }

  /**
   * Opens, loads and attaches the programs of `eventIds`, and writes the
   * policy/scope maps. Throws CaptureError (code TRC_ERR_UNAVAILABLE_EVENT
   * for an event this kernel cannot give; see unavailableEvents()).
   */
  static open(options: KernelCaptureOptions): KernelCapture {
    const exports = addon();
    for (const id of options.eventIds) {
      const def = eventById(id);
      if (!def || def.source === 'signature') {
        throw new CaptureError('TRC_ERR_INVALID_ARG', 'options', `capture: event id ${id} is not a kernel event of the catalogue`);
      }
    }
    const unavailable = unavailableEvents();
    const refused = options.eventIds.filter((id) => unavailable.has(id));
    if (refused.length) {
      throw new CaptureError('TRC_ERR_UNAVAILABLE_EVENT', 'options',
        `capture: unavailable on this kernel: ${refused.map((id) => `${eventById(id)!.name} (${unavailable.get(id)})`).join('; ')}`);
    }
    if (options.scope) checkScope(exports, options.scope);
    try {
      return new KernelCapture(new exports.Capture({ ...options, ignorePid: options.ignorePid ?? process.pid }));
    } catch (err) {
      throw wrap(err);
    }
  }

  /**
   * Starts delivering batches. `onBatch` runs on the JS thread; the batch is
   * a fresh buffer the callback may keep. Batches queued when stop() runs are
   * still delivered afterwards.
   */
  start(onBatch: (batch: Uint8Array) => void): void {
    try {
      this.#native.start(onBatch);
    } catch (err) {
      throw wrap(err);
    }
  }

  /** Counters by cause; nothing the kernel or the addon drops goes uncounted. */
  stats(): KernelCaptureStats {
    return { ...this.#native.stats(), decodeFailures: this.#decodeFailures };
  }

  /** The host reports records it could not decode, so stats() counts every loss. */
  countDecodeFailures(n: number): void {
    this.#decodeFailures += n;
  }

  /**
   * Replaces the policies and scope filters in the kernel while capturing
   * (new generation; per-task caches recompute). Events must be among those
   * opened. Throws CaptureError.
   */
  applyScope(scope: KernelScopeImage): void {
    checkScope(addon(), scope);
    try {
      this.#native.applyScope(scope);
    } catch (err) {
      throw wrap(err);
    }
  }

  /** Names of the attached kernel programs (empty after stop). */
  programs(): string[] {
    return this.#native.programs();
  }

  /** Detaches the programs, drains the ring buffer, joins the poll thread. Idempotent. */
  stop(): void {
    this.#native.stop();
  }
}

function checkScope(exports: AddonExports, scope: KernelScopeImage): void {
  if (scope.config.byteLength !== exports.scopeConfigSize) {
    throw new CaptureError('TRC_ERR_ADDON_LOAD', 'scope',
      `capture: scope config of ${scope.config.byteLength} bytes, the addon expects ${exports.scopeConfigSize}: rebuild with npm run build`);
  }
}

let probed: ProbeResult[] | undefined;

/** The raw probe results (cached: the kernel does not change under us). */
export function probeResults(): ProbeResult[] {
  probed ??= addon().probeKernel();
  return probed;
}

const names = (ids: number[]) => ids.map((id) => eventById(id)?.name ?? String(id)).join(', ');

/**
 * Kernel features the capture needs that this machine lacks, one line each,
 * saying which events it disables or degrades ("module_load_tracepoint: ...
 * (disables: module_load)"); empty when all are there. Probes load trivial
 * programs, so they need root too.
 */
export function probeKernel(): string[] {
  const missing: string[] = [];
  if (process.geteuid?.() !== 0) missing.push('root: eBPF capture needs root (effective uid is not 0) (disables: every event)');
  for (const r of probeResults()) {
    if (r.ok) continue;
    const what = r.events.length === 0 ? 'every event' : names(r.events);
    missing.push(`${r.feature}: ${r.detail} (${r.degrades ? 'degrades' : 'disables'}: ${what})`);
  }
  return missing;
}

/**
 * Missing features that would stop `eventIds` from being captured whole
 * (every-event features, and those that disable or degrade one of them), one
 * line each as probeKernel() prints them; empty when the capture can run.
 */
export function missingFeaturesFor(eventIds: readonly number[]): string[] {
  const ids = new Set(eventIds);
  const missing: string[] = [];
  if (process.geteuid?.() !== 0) missing.push('root: eBPF capture needs root (effective uid is not 0)');
  for (const r of probeResults()) {
    if (r.ok || (r.events.length > 0 && !r.events.some((id) => ids.has(id)))) continue;
    const what = r.events.length === 0 ? 'every event' : names(r.events.filter((id) => ids.has(id)));
    missing.push(`${r.feature}: ${r.detail} (${r.degrades ? 'degrades' : 'disables'}: ${what})`);
  }
  return missing;
}

/**
 * Events this kernel cannot give, with the reason (for `tracee list`,
 * `tracee-rules --list` and open()). Features that only degrade an event
 * (some arguments absent) do not make it unavailable; probeKernel() lists them.
 */
export function unavailableEvents(): Map<number, string> {
  const out = new Map<number, string>();
  for (const r of probeResults()) {
    if (r.ok || r.degrades || r.events.length === 0) continue;
    for (const id of r.events) if (!out.has(id)) out.set(id, `${r.feature}: ${r.detail}`);
  }
  return out;
}
