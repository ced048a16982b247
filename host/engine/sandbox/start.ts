/**
 * One interface over the two engines, so the CLI picks one with a flag:
 * SandboxEngine (bundles in worker threads under a watchdog) or
 * InThreadEngine (the plain Engine on this thread: fastest, but a bundle
 * stuck in a loop stops detection). Both start from compiled bundles
 * (sandbox/load.ts) and both support hot reload (reload.ts) through
 * prepare() and commit().
 */
import { Bundle, type BundleOptions, type CompiledBundle, type LogSink } from '../bundle.ts';
import { Engine, type BundleStatus, type EngineErrorSink, type EngineStats } from '../engine.ts';
import type { Finding } from '../finding.ts';
import type { BundleLimits } from '../limits.ts';
import type { ContainerTable } from '../../events/containers.ts';
import { BundleLoadError } from '../../errors.ts';
import { SandboxEngine, type FindingsCallback, type SandboxOptions } from './engine.ts';

/** What the CLI and the reload watcher need of an engine. */
export interface DetectionEngine {
  readonly stats: EngineStats;
  /** Bundles that could not be started (instantiation failed, or their start function overran). */
  readonly loadErrors: readonly BundleLoadError[];
  process(batch: Uint8Array): Finding[];
  /** Pipelined process(): `done` gets the batch's findings, in submission order (at once, for the in-thread engine). */
  submit(batch: Uint8Array, done: FindingsCallback): void;
  /** Delivers the findings of every batch submitted. */
  flush(): void;
  bundles(): BundleStatus[];
  selectedEventIds(): number[] | undefined;
  /** Hot reload: instantiate these (not running yet); returns those that failed, with why. */
  prepare(bundles: readonly CompiledBundle[]): Map<CompiledBundle, Error>;
  /** Hot reload: run exactly these (running or prepared) from the next batch on. */
  commit(bundles: readonly CompiledBundle[]): void;
  /** Policy names by matchedPolicies bit (Rego bundles' `matchedPolicies`) for the batches submitted from now on; replaces eventHost.policyNames. */
  setPolicyNames(names: readonly string[]): void;
  close(): Promise<void>;
}

/**
 * Both engines give Rego bundles the same input from `eventHost` (the
 * process tree, policy names and container directory; BundleOptions.eventHost):
 * in-thread directly, the sandbox by sending each worker what its bundles read.
 */
export interface EngineOptions extends SandboxOptions {
  /** Run bundles in worker threads under a watchdog (SandboxOptions apply); false: on this thread. */
  sandbox: boolean;
}

/** Starts the chosen engine with `bundles`; those that fail to start are in `loadErrors`. */
export async function startEngine(bundles: readonly CompiledBundle[], onError: EngineErrorSink, options: EngineOptions): Promise<DetectionEngine> {
  if (options.sandbox) return SandboxEngine.start(bundles, onError, options);
  return InThreadEngine.start(bundles, onError, options);
}

/** The in-thread Engine behind DetectionEngine, instantiating compiled bundles on this thread. */
export class InThreadEngine implements DetectionEngine {
  readonly loadErrors: BundleLoadError[] = [];
  readonly engine: Engine;
  private readonly instances = new Map<CompiledBundle, Bundle>();
  private readonly log: LogSink;
  /** The bundles' eventHost: one object, read at each call, so that setPolicyNames() reaches every bundle. */
  private readonly eventHost: NonNullable<BundleOptions['eventHost']>;

  private constructor(onError: EngineErrorSink, private readonly options: { limits?: Partial<BundleLimits>; log?: LogSink; containers?: ContainerTable; eventHost?: BundleOptions['eventHost'] }) {
    this.engine = new Engine([], onError);
    this.log = options.log ?? ((level, message) => console.error(`bundle log[${level}]: ${message}`));
    this.eventHost = { ...options.eventHost };
  }

  static start(bundles: readonly CompiledBundle[], onError: EngineErrorSink, options: Omit<EngineOptions, 'sandbox'> = {}): InThreadEngine {
    const engine = new InThreadEngine(onError, options);
    const failed = engine.prepare(bundles);
    for (const [b, err] of failed) engine.loadErrors.push(err instanceof BundleLoadError ? err : new BundleLoadError(b.name, err.message));
    engine.commit(bundles.filter((b) => !failed.has(b)));
    return engine;
  }

  get stats(): EngineStats {
    return this.engine.stats;
  }

  process(batch: Uint8Array): Finding[] {
    return this.engine.process(batch);
  }

  submit(batch: Uint8Array, done: FindingsCallback): void {
    done(this.engine.process(batch));
  }

  flush(): void {}

  bundles(): BundleStatus[] {
    return this.engine.bundles();
  }

  selectedEventIds(): number[] | undefined {
    return this.engine.selectedEventIds();
  }

  prepare(bundles: readonly CompiledBundle[]): Map<CompiledBundle, Error> {
    const failed = new Map<CompiledBundle, Error>();
    for (const b of bundles) {
      if (this.instances.has(b)) continue;
      // The signatures of one multi-signature module share its instance: the first one makes it.
      const peer = b.member === undefined ? undefined : [...this.instances].find(([c]) => c.module === b.module)?.[1];
      const peerFailed = b.member === undefined ? undefined : [...failed].find(([c]) => c.module === b.module)?.[1];
      if (peerFailed) {
        failed.set(b, peerFailed);
        continue;
      }
      try {
        const log: LogSink = (level, message) => this.log(level, `${b.name}: ${message}`);
        this.instances.set(b, Bundle.instantiate(b, log, { limits: this.options.limits, containers: this.options.containers, eventHost: this.eventHost, shareWith: peer }));
      } catch (err) {
        failed.set(b, err as Error);
      }
    }
    return failed;
  }

  commit(bundles: readonly CompiledBundle[]): void {
    const keep = new Set(bundles);
    for (const b of [...this.instances.keys()]) if (!keep.has(b)) this.instances.delete(b);
    this.engine.setBundles(bundles.map((b) => {
      const bundle = this.instances.get(b);
      if (!bundle) throw new Error(`engine: bundle ${b.name} was not prepared`);
      return bundle;
    }));
  }

  setPolicyNames(names: readonly string[]): void {
    this.eventHost.policyNames = names;
  }

  async close(): Promise<void> {}
}
