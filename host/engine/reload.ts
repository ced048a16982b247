/**
 * Hot reload of a rules directory (docs/sandbox.md, "Hot reload"): a new,
 * changed or removed bundle is loaded, swapped or unloaded while detection
 * runs. A rescan reads every `.wasm`, and those whose content changed are
 * verified (trusted keys) and compiled off the batch path; then, in one
 * synchronous step between two batches, the engine instantiates the new
 * versions (prepare) and switches to the new set (commit). A batch is thus
 * seen entirely by the old set or entirely by the new one: no event is lost
 * or seen twice. A bundle that fails to load keeps its previous version
 * running, and the report says why. Bundles that did not change keep running
 * untouched, with their state.
 *
 * The watcher rescans on changes in the directory (fs.watch, debounced) and
 * when asked (rescan(); the CLI calls it on SIGHUP, see onSighup).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompiledBundle } from './bundle.ts';
import type { DetectionEngine } from './sandbox/start.ts';
import { compileBundleFile, isDisabledByDefault, sha256, type BundleFile, type CompileOptions } from './sandbox/load.ts';
import { listBundles } from './load.ts';
import { BundleLoadError } from '../errors.ts';

export interface WatchOptions extends CompileOptions {
  /**
   * Which of the selected bundles run (e.g. the CLI plans its policies for
   * them); applied at every rescan, between prepare and commit. Default: all.
   */
  select?: (bundles: CompiledBundle[]) => CompiledBundle[];
  /** A line per bundle loaded, swapped, unloaded or refused. Default: stderr. */
  report?: (line: string) => void;
  /** Quiet time after a change in the directory before rescanning, ms; default 250. */
  debounceMs?: number;
}

export interface ReloadReport {
  added: string[];
  swapped: string[];
  removed: string[];
  /** File name and why; a changed bundle that failed keeps its previous version. */
  failed: Array<[name: string, reason: string]>;
}

/** The part of an engine a reload needs. */
export type SwapTarget = Pick<DetectionEngine, 'prepare' | 'commit'>;

export class RulesWatcher {
  private files: Map<string, BundleFile>;
  private running: CompiledBundle[];
  /** Content hashes of files refused, so the same refusal is not reported at every rescan. */
  private refused = new Map<string, string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<ReloadReport> | undefined;
  private readonly report: (line: string) => void;

  /**
   * `files` and `running` describe what the engine runs now: the `files` of
   * compileRulesDir() and the bundles the engine was started with.
   */
  constructor(readonly dir: string, private readonly engine: SwapTarget, files: ReadonlyMap<string, BundleFile>, running: readonly CompiledBundle[], private readonly options: WatchOptions = {}) {
    this.files = new Map(files);
    this.running = [...running];
    this.report = options.report ?? ((line) => console.error(line));
  }

  /** Watches the directory; changes trigger a rescan after `debounceMs` of quiet. */
  start(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, { persistent: false }, (_event, name) => {
      if (name !== null && !name.endsWith('.wasm')) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => { void this.rescan(); }, this.options.debounceMs ?? 250);
    });
    this.watcher.on('error', (err) => this.report(`rules: watching ${this.dir} failed: ${err.message}; reload with SIGHUP`));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The bundles running now. */
  bundles(): readonly CompiledBundle[] {
    return this.running;
  }

  /**
   * Rescans the directory and applies what changed. Rescans do not overlap:
   * one asked for during another runs after it.
   */
  rescan(): Promise<ReloadReport> {
    if (this.scanning) return this.scanning.then(() => this.rescan());
    this.scanning = this.scan().finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  private async scan(): Promise<ReloadReport> {
    const report: ReloadReport = { added: [], swapped: [], removed: [], failed: [] };
    let names: string[];
    try {
      names = await listBundles(this.dir);
    } catch (err) {
      report.failed.push(['', (err as Error).message]);
      this.report(`rules: rescan of ${this.dir} failed: ${(err as Error).message}`);
      return report;
    }
    const next = new Map<string, BundleFile>();
    const fresh = new Map<CompiledBundle, string>();
    for (const name of names) {
      const old = this.files.get(name);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(join(this.dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        this.refuse(report, name, old, (err as Error).message);
        if (old) next.set(name, old);
        continue;
      }
      const hash = sha256(bytes);
      if ((old && old.sha256 === hash) || this.refused.get(name) === hash) {
        if (old) next.set(name, old);
        continue;
      }
      try {
        const file = await compileBundleFile(this.dir, name, this.options, bytes);
        next.set(name, file);
        for (const b of file.compiled) fresh.set(b, name);
      } catch (err) {
        this.refuse(report, name, old, err instanceof BundleLoadError ? err.message.replace(`bundle ${name}: `, '') : (err as Error).message, hash);
        if (old) next.set(name, old);
      }
    }

    // From here to commit, synchronous: between two batches.
    let wanted = this.selection(next);
    const failed = this.engine.prepare(wanted);
    const refusedNow = new Set<string>();
    for (const [b, err] of failed) {
      const name = fresh.get(b) ?? b.name;
      fresh.delete(b);
      if (refusedNow.has(name)) continue; // another signature of the same module
      refusedNow.add(name);
      const old = this.files.get(name);
      this.refuse(report, name, old, err.message.replace(`bundle ${name}: `, ''), next.get(name)?.sha256);
      if (old && !old.compiled.includes(b)) next.set(name, old);
      else next.delete(name);
    }
    if (failed.size) wanted = this.selection(next, failed);
    this.engine.commit(wanted);

    const was = new Map([...this.files].filter(([, f]) => f.compiled.some((b) => this.running.includes(b))));
    const now = new Map([...next].filter(([, f]) => f.compiled.some((b) => wanted.includes(b))));
    for (const [name, file] of now) {
      const old = was.get(name);
      if (!old) {
        report.added.push(name);
        this.report(`rules: loaded ${name} (${describe(file.compiled)})`);
      } else if (old.compiled !== file.compiled) {
        report.swapped.push(name);
        this.report(`rules: swapped ${name} (${describe(old.compiled)} → ${describe(file.compiled)})`);
      }
    }
    for (const [name, old] of was) {
      if (now.has(name)) continue;
      report.removed.push(name);
      this.report(`rules: unloaded ${name} (${describe(old.compiled)})`);
    }
    this.files = next;
    this.running = wanted;
    for (const name of this.refused.keys()) if (!names.includes(name)) this.refused.delete(name);
    return report;
  }

  /** The bundles of `files` to run: --rules (without failing on names that went away), disabled-by-default, then select. */
  private selection(files: Map<string, BundleFile>, failed?: ReadonlyMap<CompiledBundle, Error>): CompiledBundle[] {
    const rules = this.options.rules ?? [];
    const all = [...files.values()].flatMap((f) => f.compiled).filter((b) => !failed?.has(b));
    const chosen = rules.length
      ? all.filter((b) => rules.includes(b.metadata.id) || rules.includes(b.metadata.eventName))
      : all.filter((b) => !isDisabledByDefault(b));
    return this.options.select ? this.options.select(chosen) : chosen;
  }

  private refuse(report: ReloadReport, name: string, old: BundleFile | undefined, reason: string, hash?: string): void {
    if (hash) this.refused.set(name, hash);
    report.failed.push([name, reason]);
    this.report(old
      ? `rules: ${name} not reloaded, keeping the previous version (${describe(old.compiled)}): ${reason}`
      : `rules: ${name} not loaded: ${reason}`);
  }
}

/** Rescans on SIGHUP; returns a function that removes the handler. */
export function onSighup(watcher: RulesWatcher): () => void {
  const handler = () => { void watcher.rescan(); };
  process.on('SIGHUP', handler);
  return () => { process.off('SIGHUP', handler); };
}

function describe(bundles: readonly CompiledBundle[]): string {
  return bundles.map((b) => `${b.metadata.id} v${b.metadata.version}`).join(', ');
}
