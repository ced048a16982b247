/**
 * Loads a rules directory without running any bundle code on this thread:
 * each `.wasm` is read, its signature checked (with trusted keys), compiled
 * with the memory limit and validated (Bundle.compile). The sandbox
 * instantiates the result in its workers; hot reload (reload.ts) uses the
 * same steps for one file. Selection by `--rules` and the
 * disabled-by-default tag follow load.ts.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bundle, DISABLED_BY_DEFAULT_TAG, type CompiledBundle } from '../bundle.ts';
import type { TrustedKey } from '../signing.ts';
import { listBundles, selectRules, verifySignature } from '../load.ts';
import type { BundleLimits } from '../limits.ts';
import { BundleLoadError } from '../../errors.ts';

export interface CompileOptions {
  /** Keep only signatures whose ID or eventName is listed (Tracee's `--rules`). */
  rules?: readonly string[];
  /** When given, only bundles signed by one of these keys load. */
  trustedKeys?: readonly TrustedKey[];
  limits?: Partial<BundleLimits>;
}

/** A file's compiled signatures (several for a multi-signature module) and the file's hash. */
export interface BundleFile {
  compiled: CompiledBundle[];
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
  const all = [...files.values()].flatMap((f) => f.compiled);
  const bundles = selectRules(all, options.rules);
  return { bundles, files, errors, disabled: all.filter((b) => isDisabledByDefault(b) && !bundles.includes(b)) };
}

export async function compileBundleFile(dir: string, name: string, options: CompileOptions = {}, bytes?: Uint8Array): Promise<BundleFile> {
  try {
    bytes ??= await readFile(join(dir, name));
  } catch (err) {
    throw new BundleLoadError(name, `cannot read it: ${(err as Error).message}`, { cause: err });
  }
  if (options.trustedKeys) verifySignature(name, bytes, options.trustedKeys);
  const compiled = await Bundle.compileFile(name, bytes, { limits: options.limits });
  return { compiled, sha256: sha256(bytes) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isDisabledByDefault(b: CompiledBundle): boolean {
  return b.metadata.tags.includes(DISABLED_BY_DEFAULT_TAG);
}

function asLoadError(name: string, err: unknown): BundleLoadError {
  return err instanceof BundleLoadError ? err : new BundleLoadError(name, (err as Error).message, { cause: err });
}
