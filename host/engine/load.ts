/**
 * Loads the bundles of a rules directory. A bundle that fails to load is
 * reported and skipped; the others load.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bundle, type LogSink } from './bundle.ts';
import { BundleLoadError, InvalidArgumentError } from '../errors.ts';

export interface LoadResult {
  bundles: Bundle[];
  errors: BundleLoadError[];
}

export interface LoadOptions {
  /** Keep only signatures whose ID or eventName is listed (Tracee's `--rules`). */
  rules?: readonly string[];
  log?: LogSink;
}

export async function loadRulesDir(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.wasm')).sort();
  } catch (err) {
    throw new InvalidArgumentError(`rules directory ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`);
  }
  const log = options.log ?? ((level, msg) => console.error(`bundle log[${level}]: ${msg}`));
  const bundles: Bundle[] = [];
  const errors: BundleLoadError[] = [];
  for (const name of names) {
    try {
      const bytes = await readFile(join(dir, name));
      bundles.push(await Bundle.load(name, bytes, (level, msg) => log(level, `${name}: ${msg}`)));
    } catch (err) {
      errors.push(err instanceof BundleLoadError ? err : new BundleLoadError(name, (err as Error).message, { cause: err }));
    }
  }
  return { bundles: selectRules(bundles, options.rules), errors };
}

function selectRules(bundles: Bundle[], rules: readonly string[] | undefined): Bundle[] {
  if (!rules || rules.length === 0) return bundles;
  const unknown = rules.filter((r) => !bundles.some((b) => b.metadata.id === r || b.metadata.eventName === r));
  if (unknown.length) throw new InvalidArgumentError(`--rules: no loaded signature has ID or event name ${unknown.map((r) => `"${r}"`).join(', ')}`);
  return bundles.filter((b) => rules.includes(b.metadata.id) || rules.includes(b.metadata.eventName));
}
