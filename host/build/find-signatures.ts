/**
 * Finds the signature files `tracee-rules build <src>` compiles, and where
 * their SDK is.
 *
 * Layouts accepted for <src>:
 *  - a root holding `signatures/*.ts` and `sdk/` (signatures-as/): the signatures import "../sdk";
 *  - a `signatures/` directory itself (its parent is the root);
 *  - a directory of signatures importing "./sdk";
 *  - a single signature file.
 * Files named `_*.ts` are helpers shared by signatures, not signatures, and
 * `*.d.ts` files are ignored. When the root has no `sdk/` directory (an
 * out-of-tree signature directory), the SDK shipped with tracee-ts is served
 * at `<root>/sdk` by the compiler's file hook (compile.ts), so out-of-tree
 * signatures import it exactly as in-tree ones do.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.ts';
import { displayPath } from './build-error.ts';

/** The SDK shipped with tracee-ts. */
export const BUNDLED_SDK = fileURLToPath(new URL('../../signatures-as/sdk', import.meta.url));

export interface SignatureSources {
  /** asc's base directory; paths inside the bundle are relative to it. */
  readonly root: string;
  /** `<root>/sdk`: the directory the signatures import. */
  readonly sdkDir: string;
  /** Where the SDK files are really read from: sdkDir, or BUNDLED_SDK if sdkDir does not exist. */
  readonly sdkSource: string;
  /** Absolute paths of the signature files, sorted. */
  readonly files: readonly string[];
}

export async function findSignatures(src: string): Promise<SignatureSources> {
  const abs = path.resolve(src);
  if (!existsSync(abs)) throw new InvalidArgumentError(`build: signature source ${src} does not exist`);
  const isFile = statSync(abs).isFile();
  if (isFile && !isSignatureFile(path.basename(abs))) throw new InvalidArgumentError(`build: ${src} is not a signature (.ts) file`);
  const dir = isFile ? path.dirname(abs) : abs;

  let root = dir;
  if (!existsSync(path.join(dir, 'sdk')) && path.basename(dir) === 'signatures') root = path.dirname(dir);
  const nested = path.join(root, 'signatures');
  const listDir = !isFile && root === dir && existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;

  const files = isFile ? [abs] : (await readdir(listDir, { withFileTypes: true }))
    .filter((d) => d.isFile() && isSignatureFile(d.name))
    .map((d) => path.join(listDir, d.name))
    .sort();
  if (files.length === 0) throw new InvalidArgumentError(`build: no signature files (*.ts) in ${displayPath(listDir)}`);
  const sdkDir = path.join(root, 'sdk');
  return { root, sdkDir, sdkSource: existsSync(sdkDir) ? sdkDir : BUNDLED_SDK, files };
}

function isSignatureFile(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.startsWith('_');
}
