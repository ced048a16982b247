/**
 * Loads the bundles of a rules directory. A bundle that fails to load is
 * reported and skipped; the others load. Signatures shipped disabled by
 * default (Bundle.disabledByDefault, e.g. TRC-108) are loaded but left out
 * of `bundles` unless `rules` names them; they are listed in `disabled`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bundle, DISABLED_BY_DEFAULT_TAG, type LogSink } from './bundle.ts';
import type { SignatureMetadata } from './metadata.ts';
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

/** The `.wasm` file names of a rules directory, sorted. */
export async function listBundles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.wasm')).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`rules directory ${dir}: ${code === 'ENOENT' ? 'does not exist (build the bundles with: npm run build)' : (err as Error).message}`);
  }
}

export async function loadRulesDir(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const names = await listBundles(dir);
  const log = options.log ?? ((level, msg) => console.error(`bundle log[${level}]: ${msg}`));
  const bundles: Bundle[] = [];
  const errors: BundleLoadError[] = [];
  for (const name of names) {
    try {
      const bytes = await readFile(join(dir, name));
      if (options.trustedKeys) verifySignature(name, bytes, options.trustedKeys);
      bundles.push(...await Bundle.loadFile(name, bytes, (level, msg) => log(level, `${name}: ${msg}`)));
    } catch (err) {
      errors.push(err instanceof BundleLoadError ? err : new BundleLoadError(name, (err as Error).message, { cause: err }));
    }
  }
  const selected = selectRules(bundles, options.rules);
  return { bundles: selected, errors, disabled: bundles.filter((b) => b.disabledByDefault && !selected.includes(b)) };
}

/** Throws BundleLoadError unless the bundle is signed by one of the trusted keys. */
export function verifySignature(name: string, bytes: Uint8Array, trusted: readonly TrustedKey[]): void {
  let status;
  try {
    status = checkSignature(bytes, trusted);
  } catch (err) {
    throw new BundleLoadError(name, `refused: cannot read its signature: ${(err as Error).message}`);
  }
  if (status.state === 'unsigned') throw new BundleLoadError(name, 'refused: not signed, and --trusted-keys requires signed bundles');
  if (status.state === 'invalid') throw new BundleLoadError(name, `refused: ${status.reason}`);
}

/** `--rules` selection by ID or event name; without it, all but the disabled-by-default ones. */
export function selectRules<B extends { metadata: SignatureMetadata }>(bundles: B[], rules: readonly string[] | undefined): B[] {
  if (!rules || rules.length === 0) return bundles.filter((b) => !b.metadata.tags.includes(DISABLED_BY_DEFAULT_TAG));
  const unknown = rules.filter((r) => !bundles.some((b) => b.metadata.id === r || b.metadata.eventName === r));
  if (unknown.length) throw new InvalidArgumentError(`--rules: no loaded signature has ID or event name ${unknown.map((r) => `"${r}"`).join(', ')}`);
  return bundles.filter((b) => rules.includes(b.metadata.id) || rules.includes(b.metadata.eventName));
}
