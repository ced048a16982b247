/**
 * Detection while `tracee` runs: the current plan (detection.ts) and the
 * policy filter built from it, replaced together when a hot reload of the
 * rules directory changes which signatures run.
 *
 * The reload watcher (host/engine/reload.ts) asks select() which of the
 * bundles in the directory run, then commits them between two batches; on
 * commit, when the plan changed, the kernel's policies (capture.applyScope)
 * and the policy filter are replaced in the same synchronous step as the
 * engine's bundles, and the engine is given the plan's policy names (Rego
 * bundles' matchedPolicies). A policy filter built anew keeps counting into the same
 * stats but starts its `follow` state afresh; an unchanged plan keeps it.
 */
import type { CompiledBundle } from '../engine/bundle.ts';
import type { SwapTarget } from '../engine/reload.ts';
import type { DetectionEngine } from '../engine/sandbox/start.ts';
import type { KernelCapture } from '../capture/addon.ts';
import { compileKernelScope } from '../capture/kernel-scope.ts';
import type { SignatureEvent } from '../policy/event-names.ts';
import { PolicyFilter, type PolicyFilterOptions, type PolicyFilterStats } from '../policy/filter-stage.ts';
import type { PolicyInputs } from '../policy/load.ts';
import { planDetection, signatureEvents, trimToOpened, type Detection, type KernelFacts } from './detection.ts';

export type FilterContext = Omit<PolicyFilterOptions, 'kernelScope' | 'stats'>;

export class LiveDetection {
  detection: Detection;
  filter: PolicyFilter;
  readonly filterStats: PolicyFilterStats = { events: 0, passed: 0, filtered: 0, internal: 0, malformed: 0 };
  /** Every signature event seen, so policies naming one whose bundle went away stay valid. */
  private known: SignatureEvent[];
  /** Planned by the last select(), applied by commit(). */
  private pending: Detection | undefined;
  private capture: KernelCapture | undefined;
  private opened = new Set<number>();

  /** Plans for `bundles`; throws PolicyError when the policies are invalid. */
  constructor(bundles: readonly CompiledBundle[], private readonly inputs: PolicyInputs, private readonly kernel: KernelFacts,
    private readonly context: FilterContext, private readonly report: (line: string) => void) {
    this.detection = planDetection(bundles, inputs, kernel);
    this.known = signatureEvents(bundles);
    this.filter = this.newFilter(this.detection);
  }

  /** The capture whose kernel policies follow the plan (opened with this.detection.split.eventIds). */
  attach(capture: KernelCapture): void {
    this.capture = capture;
    this.opened = new Set(this.detection.split.eventIds);
  }

  /** WatchOptions.select: the bundles that run with the policies, planned for the new set. */
  select(candidates: CompiledBundle[]): CompiledBundle[] {
    try {
      this.pending = planDetection(candidates, this.inputs, this.kernel, this.known);
      return this.pending.bundles;
    } catch (err) {
      this.pending = undefined;
      this.report(`rules: cannot plan the policies for the new bundles, keeping the running ones: ${(err as Error).message}`);
      return candidates.filter((b) => this.detection.bundles.includes(b));
    }
  }

  /** The engine's prepare/commit, with the plan applied in the commit's step. */
  swapTarget(engine: DetectionEngine): SwapTarget {
    return {
      prepare: (bundles) => engine.prepare(bundles),
      commit: (bundles) => {
        const next = this.pending;
        this.pending = undefined;
        if (next) {
          this.apply(next);
          engine.setPolicyNames(next.plan.names);
        }
        engine.commit(bundles);
      },
    };
  }

  private apply(next: Detection): void {
    for (const s of signatureEvents(next.bundles)) if (!this.known.some((k) => k.id === s.id)) this.known.push(s);
    if (next.key === this.detection.key) {
      this.detection = { ...next, split: this.detection.split };
      return;
    }
    const missing = trimToOpened(next, this.opened);
    if (missing.length) {
      const needing = next.bundles.filter((b) => b.metadata.selectedEvents.some((e) => missing.includes(e.name))).map((b) => b.metadata.id);
      this.report(`rules: not captured until tracee restarts (it started without them): ${missing.join(', ')}; ${needing.join(', ') || 'the new signatures'} will not see them until then`);
    }
    this.capture?.applyScope(compileKernelScope(next.split.policies, next.split.eventsByPolicy));
    this.detection = next;
    this.filter = this.newFilter(next);
  }

  private newFilter(d: Detection): PolicyFilter {
    return new PolicyFilter(d.plan, { ...this.context, kernelScope: d.split.kernelScoped, stats: this.filterStats });
  }
}
