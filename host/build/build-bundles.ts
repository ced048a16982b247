/**
 * `tracee-rules build`: compiles AssemblyScript signatures into signature
 * bundles (docs/abi/bundle.md), one `<out>/<file>.wasm` per signature file.
 *
 * Per signature, in this one process:
 *  1. compile with asc's API through a generated entry (compile.ts);
 *  2. refuse imports the host would refuse;
 *  3. run registration once and read the metadata it reports (metadata.ts);
 *  4. check it and map selected event ids to catalogue names;
 *  5. strip the metadata code, re-optimise, add the `tracee.signature`
 *     section (finalize.ts), and write the bundle.
 * The same sources give byte-identical bundles. Problems are returned as
 * BuildError (`file:line:col message`), one bad signature not stopping the rest.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { BuildError, positionOf } from './build-error.ts';
import { compileSignature, type CompileOptions } from './compile.ts';
import { exposeStart, finalizeBundle, START_EXPORT } from './finalize.ts';
import { findSignatures, type SignatureSources } from './find-signatures.ts';
import { ALLOWED_IMPORTS, METADATA_SECTION, ModuleAbort, forbiddenImports, runMetadataExport, toBundleMetadata, type BundleMetadata } from './metadata.ts';
import { buildRegoBundles, findRegoBundleSources } from './rego/bundle-abi.ts';
import { InvalidArgumentError } from '../errors.ts';

export { BuildError } from './build-error.ts';
export type { BundleMetadata } from './metadata.ts';

const METADATA_EXPORT = 'tracee_metadata';

export interface BuildOptions extends CompileOptions {
  /** Called with a line per built bundle and per error, as they happen (e.g. console.error). */
  readonly report?: (line: string) => void;
  /** Skip signatures whose bundle is newer than the signature, the SDK, the build tool and the catalogue. */
  readonly ifChanged?: boolean;
  /** Rego files that do not import rego.v1 are parsed as this version (default v0, as Tracee's signatures). */
  readonly regoVersion?: 'v0' | 'v1';
  /** Write every Rego signature into one all-in-one module with this file name, instead of one bundle each. */
  readonly regoAllInOne?: string;
}

export interface BundleInfo {
  /** The signature source file (absolute). */
  readonly source: string;
  /** The bundle written (absolute). */
  readonly path: string;
  /** Its size in bytes. */
  readonly size: number;
  /** The contents of its `tracee.signature` section. */
  readonly metadata: BundleMetadata;
}

export interface BuildResult {
  readonly built: BundleInfo[];
  readonly errors: BuildError[];
  /** Compiler warnings; they do not stop a bundle from being written. */
  readonly warnings: BuildError[];
  /** Bundles left as they were (ifChanged). */
  readonly upToDate: string[];
}

/** Builds run one at a time: asc and binaryen keep process-wide state. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Builds every signature found under `srcDir` (see find-signatures.ts for the
 * layouts) into `outDir`. Throws InvalidArgumentError if `srcDir` does not
 * exist or holds no signature; everything else is reported in the result.
 */
/** The build tool and the catalogue: every bundle depends on them too. */
const BUILD_TOOL_DIR = fileURLToPath(new URL('.', import.meta.url));
const CATALOGUE_DIR = fileURLToPath(new URL('../events', import.meta.url));

async function mtime(file: string): Promise<number> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

/** The newest modification time of the files under `dirs`. */
async function newestInput(dirs: string[]): Promise<number> {
  let newest = 0;
  for (const dir of dirs) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, await mtime(path.join(entry.parentPath ?? entry.path, entry.name)));
    }
  }
  return newest;
}

export function buildBundles(srcDir: string, outDir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const run = queue.then(() => build(srcDir, outDir, options));
  queue = run.catch(() => {});
  return run;
}

async function build(srcDir: string, outDir: string, options: BuildOptions): Promise<BuildResult> {
  // .rego signatures (a Rego directory, or a mixed one) build through host/build/rego.
  const regoFiles = existsSync(srcDir) ? await findRegoBundleSources(srcDir) : [];
  let sources: SignatureSources;
  try {
    sources = await findSignatures(srcDir);
  } catch (err) {
    if (!regoFiles.length || !(err instanceof InvalidArgumentError)) throw err;
    return buildRego(srcDir, outDir, options, { built: [], errors: [], warnings: [], upToDate: [] });
  }
  const result: BuildResult = { built: [], errors: [], warnings: [], upToDate: [] };
  await mkdir(outDir, { recursive: true });
  if (regoFiles.length) await buildRego(srcDir, outDir, options, result);
  const shared = options.ifChanged ? await newestInput([sources.sdkSource, BUILD_TOOL_DIR, CATALOGUE_DIR]) : 0;
  for (const file of sources.files) {
    const out = path.join(path.resolve(outDir), `${path.basename(file, '.ts')}.wasm`);
    if (options.ifChanged && (await mtime(out)) > Math.max(shared, await mtime(file))) {
      result.upToDate.push(out);
      continue;
    }
    const outcome = await buildOne(file, sources, out, options);
    result.warnings.push(...outcome.warnings);
    if ('errors' in outcome) {
      result.errors.push(...outcome.errors);
      outcome.errors.forEach((e) => options.report?.(e.text));
    } else {
      result.built.push(outcome.bundle);
      options.report?.(`built ${outcome.bundle.path} (${outcome.bundle.metadata.id}, ${outcome.bundle.size} bytes)`);
    }
  }
  return result;
}

async function buildRego(srcDir: string, outDir: string, options: BuildOptions, result: BuildResult): Promise<BuildResult> {
  const rego = await buildRegoBundles(srcDir, outDir, { regoVersion: options.regoVersion, allInOne: options.regoAllInOne, perSignature: !options.regoAllInOne, report: options.report });
  result.built.push(...rego.built);
  result.errors.push(...rego.errors);
  return result;
}

type Outcome = { bundle: BundleInfo; warnings: BuildError[] } | { errors: BuildError[]; warnings: BuildError[] };

async function buildOne(file: string, sources: SignatureSources, out: string, options: CompileOptions): Promise<Outcome> {
  const compiled = await compileSignature(file, sources, options);
  const { warnings } = compiled;
  if (!compiled.binary) return { errors: compiled.errors, warnings };
  const binary = compiled.binary;
  const at = await registerPosition(file);
  const fail = (detail: string): Outcome => ({ errors: [new BuildError(file, at.line, at.column, detail)], warnings });

  const forbidden = forbiddenImports(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>));
  if (forbidden.length) {
    return fail(`the signature imports ${forbidden.join(', ')}; a bundle may import only ${[...ALLOWED_IMPORTS].join(', ')}`);
  }

  let reported: unknown;
  try {
    reported = await runMetadataExport(exposeStart(binary), START_EXPORT);
  } catch (err) {
    if (err instanceof ModuleAbort) return { errors: [abortError(err, file, sources, at)], warnings };
    return fail(`reading the signature's metadata: ${(err as Error).message}`);
  }
  const { metadata, problems } = toBundleMetadata(reported);
  if (!metadata) return { errors: problems.map((p) => new BuildError(file, at.line, at.column, p)), warnings };

  const wasm = finalizeBundle(binary, METADATA_EXPORT, METADATA_SECTION, JSON.stringify(metadata));
  await writeFile(out, wasm);
  return { bundle: { source: file, path: out, size: wasm.length, metadata }, warnings };
}

/** Where the signature calls register() (errors about the signature as a whole point there), else 1:1. */
async function registerPosition(file: string): Promise<{ line: number; column: number }> {
  const text = await readFile(file, 'utf8');
  const match = /\bregister\s*\(/.exec(text);
  return match ? positionOf(text, match.index) : { line: 1, column: 1 };
}

/** An abort while registering: at its own position if it is in the signature, else at register(). */
function abortError(err: ModuleAbort, file: string, sources: SignatureSources, at: { line: number; column: number }): BuildError {
  const abs = err.file.startsWith('~lib/') ? err.file : path.resolve(sources.root, err.file);
  if (abs === file) return new BuildError(file, err.line, err.column, `aborted while registering: ${err.detail}`);
  return new BuildError(file, at.line, at.column, `aborted while registering: ${err.detail} (at ${err.file}:${err.line}:${err.column})`);
}
