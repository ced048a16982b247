/**
 * The one typed boundary to the native capture addon (native/, built by
 * `npm run build`): loads the kernel programs of bpf/build/tracee.bpf.o,
 * attaches those of the enabled events and delivers their records as
 * flat-encoding batches (docs/abi/flat-encoding.md).
 *
 * Requires Linux 5.8+ with BTF (/sys/kernel/btf/vmlinux), ring buffers,
 * raw_tracepoint and tp_btf programs, and root. `probeKernel()` says which of
 * these is missing.
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
  stats(): KernelCaptureStats;
  stop(): void;
  programs(): string[];
}
interface ProbeResult { feature: string; ok: boolean; detail: string }
interface AddonExports {
  Capture: new (options: KernelCaptureOptions) => NativeCapture;
  probeKernel(): ProbeResult[];
  flatVersion: number;
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

  private constructor(native: NativeCapture) {
    this.#native = native;
  }

  /** Opens, loads and attaches the programs of `eventIds`. Throws CaptureError. */
  static open(options: KernelCaptureOptions): KernelCapture {
    const exports = addon();
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

  stats(): KernelCaptureStats {
    return this.#native.stats();
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

/**
 * Kernel features the capture needs that this machine lacks, one line each
 * ("tp_btf: BTF tracepoint programs (Linux 5.5+): ..."); empty when all are
 * there. Probes load trivial programs, so they need root too.
 */
export function probeKernel(): string[] {
  const missing: string[] = [];
  if (process.geteuid?.() !== 0) missing.push('root: eBPF capture needs root (effective uid is not 0)');
  for (const r of addon().probeKernel()) if (!r.ok) missing.push(`${r.feature}: ${r.detail}`);
  return missing;
}
