/**
 * Loads the bundles of a rules directory. A bundle that fails to load is
 * reported and skipped; the others load. Signatures shipped disabled by
 * default (Bundle.disabledByDefault, e.g. TRC-108) are loaded but left out
 * of `bundles` unless `rules` names them; they are listed in `disabled`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bundle, type LogSink } from './bundle.ts';
import { checkSignature, type TrustedKey } from './signing.ts';
import { BundleLoadError, InvalidArgumentError } from '../errors.ts';

export interface LoadResult {
  bundles: Bundle[];
  errors: BundleLoadError[];
  /** Loaded, but not selected because they are disabled by default and `rules` did not name them. */
  disabled: Bundle[];
}

export interface LoadOptions {
  /** Keep only signatures whose ID or eventName is listed (Tracee's `--rules`). */
  rules?: readonly string[];
  log?: LogSink;
  /** When given, only bundles signed by one of these keys load. */
  trustedKeys?: readonly TrustedKey[];
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
      if (options.trustedKeys) verifySignature(name, bytes, options.trustedKeys);
      bundles.push(await Bundle.load(name, bytes, (level, msg) => log(level, `${name}: ${msg}`)));
    } catch (err) {
      errors.push(err instanceof BundleLoadError ? err : new BundleLoadError(name, (err as Error).message, { cause: err }));
    }
  }
  const selected = selectRules(bundles, options.rules);
  return { bundles: selected, errors, disabled: bundles.filter((b) => b.disabledByDefault && !selected.includes(b)) };
}

function verifySignature(name: string, bytes: Uint8Array, trusted: readonly TrustedKey[]): void {
  let status;
  try {
    status = checkSignature(bytes, trusted);
  } catch (err) {
    throw new BundleLoadError(name, `refused: cannot read its signature: ${(err as Error).message}`);
  }
  if (status.state === 'unsigned') throw new BundleLoadError(name, 'refused: not signed, and --trusted-keys requires signed bundles');
  if (status.state === 'invalid') throw new BundleLoadError(name, `refused: ${status.reason}`);
}

function selectRules(bundles: Bundle[], rules: readonly string[] | undefined): Bundle[] {
  if (!rules || rules.length === 0) return bundles.filter((b) => !b.disabledByDefault);
  const unknown = rules.filter((r) => !bundles.some((b) => b.metadata.id === r || b.metadata.eventName === r));
  if (unknown.length) throw new InvalidArgumentError(`--rules: no loaded signature has ID or event name ${unknown.map((r) => `"${r}"`).join(', ')}`);
  return bundles.filter((b) => rules.includes(b.metadata.id) || rules.includes(b.metadata.eventName));
}
