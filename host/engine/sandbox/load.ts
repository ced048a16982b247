/**
 * Loads a rules directory without running any bundle code on this thread:
 * each `.wasm` is read, its signature checked (with trusted keys), compiled
 * with the memory limit and validated (Bundle.compile). The sandbox
 * instantiates the result in its workers; hot reload (reload.ts) uses the
 * same steps for one file. Selection by `--rules` and the
 * disabled-by-default tag follow load.ts.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bundle, DISABLED_BY_DEFAULT_TAG, type CompiledBundle } from '../bundle.ts';
import { checkSignature, type TrustedKey } from '../signing.ts';
import type { BundleLimits } from '../limits.ts';
import { BundleLoadError, InvalidArgumentError } from '../../errors.ts';

export interface CompileOptions {
  /** Keep only signatures whose ID or eventName is listed (Tracee's `--rules`). */
  rules?: readonly string[];
  /** When given, only bundles signed by one of these keys load. */
  trustedKeys?: readonly TrustedKey[];
  limits?: Partial<BundleLimits>;
}

/** A compiled bundle and the file it came from. */
export interface BundleFile {
  compiled: CompiledBundle;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
}

export interface CompileResult {
  /** Selected bundles, in file name order. */
  bundles: CompiledBundle[];
  /** Every bundle that compiled, selected or not, by file name. */
  files: Map<string, BundleFile>;
  errors: BundleLoadError[];
  /** Compiled, but not selected: disabled by default and not named by `rules`. */
  disabled: CompiledBundle[];
}

export async function compileRulesDir(dir: string, options: CompileOptions = {}): Promise<CompileResult> {
  const names = await listBundles(dir);
  const files = new Map<string, BundleFile>();
  const errors: BundleLoadError[] = [];
  for (const name of names) {
    try {
      files.set(name, await compileBundleFile(dir, name, options));
    } catch (err) {
      errors.push(asLoadError(name, err));
    }
  }
  const all = [...files.values()].map((f) => f.compiled);
  const bundles = selectCompiled(all, options.rules);
  return { bundles, files, errors, disabled: all.filter((b) => isDisabledByDefault(b) && !bundles.includes(b)) };
}

/** The `.wasm` file names of a rules directory, sorted. */
export async function listBundles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.wasm')).sort();
  } catch (err) {
    throw new InvalidArgumentError(`rules directory ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`);
  }
}

/** Reads, verifies and compiles one bundle; throws BundleLoadError. */
export async function compileBundleFile(dir: string, name: string, options: CompileOptions = {}, bytes?: Uint8Array): Promise<BundleFile> {
  try {
    bytes ??= await readFile(join(dir, name));
  } catch (err) {
    throw new BundleLoadError(name, `cannot read it: ${(err as Error).message}`, { cause: err });
  }
  if (options.trustedKeys) verify(name, bytes, options.trustedKeys);
  const compiled = await Bundle.compile(name, bytes, { limits: options.limits });
  return { compiled, sha256: sha256(bytes) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isDisabledByDefault(b: CompiledBundle): boolean {
  return b.metadata.tags.includes(DISABLED_BY_DEFAULT_TAG);
}

/** `--rules` selection (load.ts's, over compiled bundles); unknown names are an InvalidArgumentError. */
export function selectCompiled(bundles: CompiledBundle[], rules: readonly string[] | undefined): CompiledBundle[] {
  if (!rules || rules.length === 0) return bundles.filter((b) => !isDisabledByDefault(b));
  const unknown = rules.filter((r) => !bundles.some((b) => b.metadata.id === r || b.metadata.eventName === r));
  if (unknown.length) throw new InvalidArgumentError(`--rules: no loaded signature has ID or event name ${unknown.map((r) => `"${r}"`).join(', ')}`);
  return bundles.filter((b) => rules.includes(b.metadata.id) || rules.includes(b.metadata.eventName));
}

function verify(name: string, bytes: Uint8Array, trusted: readonly TrustedKey[]): void {
  let status;
  try {
    status = checkSignature(bytes, trusted);
  } catch (err) {
    throw new BundleLoadError(name, `refused: cannot read its signature: ${(err as Error).message}`);
  }
  if (status.state === 'unsigned') throw new BundleLoadError(name, 'refused: not signed, and --trusted-keys requires signed bundles');
  if (status.state === 'invalid') throw new BundleLoadError(name, `refused: ${status.reason}`);
}

function asLoadError(name: string, err: unknown): BundleLoadError {
  return err instanceof BundleLoadError ? err : new BundleLoadError(name, (err as Error).message, { cause: err });
}
