/**
 * Compiles one signature file to a wasm module with asc's programmatic API,
 * in this process (no asc process per file).
 *
 * asc compiles a generated entry file placed next to the signature (it never
 * exists on disk): it imports the signature for its registration side effect
 * and re-exports the SDK's ABI exports, so signature files hold only
 * metadata and logic. Files are read through a hook that serves the entry and
 * maps `<root>/sdk` to the bundled SDK when the root has none; diagnostics are
 * mapped back to the real files, with line and column.
 *
 * Compiler options come from the project's asconfig.json (runtime, -O3; see
 * the comment there for why the incremental runtime), overridable per build.
 */
import asc from 'assemblyscript/asc';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError, displayPath, positionOf } from './build-error.ts';
import type { SignatureSources } from './find-signatures.ts';

export const ASCONFIG = fileURLToPath(new URL('../../asconfig.json', import.meta.url));

const ENTRY_NAME = '__tracee_bundle_entry__.ts';
const OUT_FILE = 'bundle.wasm';
/** DiagnosticCategory in assemblyscript: Pedantic 0, Info 1, Warning 2, Error 3. */
const WARNING = 2;
const ERROR = 3;

/** The ABI exports of signatures-as/sdk/abi.ts; tracee_metadata is removed after the build reads it. */
export const SDK_EXPORTS = ['tracee_abi_version', 'tracee_input', 'tracee_on_batch', 'tracee_metadata'] as const;

export interface CompileOptions {
  /** AssemblyScript runtime; default from asconfig.json (incremental). */
  readonly runtime?: 'incremental' | 'minimal' | 'stub';
  /** Binaryen levels; default from asconfig.json (-O3: 3 and 0). */
  readonly optimizeLevel?: number;
  readonly shrinkLevel?: number;
}

export interface CompileResult {
  /** The module, present when there were no errors. */
  readonly binary?: Uint8Array;
  readonly errors: BuildError[];
  readonly warnings: BuildError[];
}

/** The generated entry compiled in place of the signature file. */
export function entrySource(file: string, sdkDir: string): string {
  const dir = path.dirname(file);
  let sdk = path.relative(dir, sdkDir).split(path.sep).join('/');
  if (!sdk.startsWith('.')) sdk = `./${sdk}`;
  const signature = `./${path.basename(file, '.ts')}`;
  return `import ${JSON.stringify(signature)};\nexport { ${SDK_EXPORTS.join(', ')} } from ${JSON.stringify(`${sdk}/abi`)};\n`;
}

export async function compileSignature(file: string, sources: SignatureSources, options: CompileOptions = {}): Promise<CompileResult> {
  const { root, sdkDir, sdkSource } = sources;
  const entry = path.join(path.dirname(file), ENTRY_NAME);
  const entryText = entrySource(file, sdkDir);
  /** What each source path really is on disk, for diagnostics. */
  const realPath = (abs: string): string => {
    if (abs === entry) return file;
    if (sdkSource !== sdkDir && isInside(abs, sdkDir)) return path.join(sdkSource, path.relative(sdkDir, abs));
    return abs;
  };

  let binary: Uint8Array | undefined;
  const errors: BuildError[] = [];
  const warnings: BuildError[] = [];
  const stderr: string[] = [];
  /** Texts served to asc by absolute path: diagnostics carry only a path and an offset. */
  const texts = new Map<string, string>([[entry, entryText]]);
  const args = [toPosix(path.relative(root, entry)), '--config', ASCONFIG, '--baseDir', root, '--outFile', OUT_FILE, '--noColors'];
  if (options.runtime) args.push('--runtime', options.runtime);
  if (options.optimizeLevel !== undefined) args.push('--optimizeLevel', String(options.optimizeLevel));
  if (options.shrinkLevel !== undefined) args.push('--shrinkLevel', String(options.shrinkLevel));

  const result = await asc.main(args, {
    readFile: async (name, baseDir) => {
      const abs = path.resolve(baseDir, name);
      if (abs === entry) return entryText;
      try {
        const text = await readFile(realPath(abs), 'utf8');
        texts.set(abs, text);
        return text;
      } catch {
        return null; // asc tries several candidate paths per import
      }
    },
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    listFiles: async (dirname, baseDir) => {
      try {
        return (await readdir(realPath(path.resolve(baseDir, dirname)))).filter((f) => f.endsWith('.ts'));
      } catch {
        return null;
      }
    },
    stdout: { write: () => {} },
    stderr: { write: (chunk) => { stderr.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk)); } },
    reportDiagnostic: (d) => {
      if (d.category !== ERROR && d.category !== WARNING) return;
      const at = locate(d.range, root, entry, file, realPath, texts);
      // An error inside the SDK (e.g. a helper given a wrong type) does not say which signature caused it.
      const context = at.file === file ? '' : ` (building ${displayPath(file)})`;
      const message = `${d.code < 1000 ? 'AS' : 'TS'}${d.code}: ${d.message}${context}`;
      (d.category === ERROR ? errors : warnings).push(new BuildError(at.file, at.line, at.column, message));
    },
  });

  if (result.error && errors.length === 0) {
    const detail = stderr.join('').trim() || result.error.message;
    errors.push(new BuildError(file, 1, 1, `compile failed: ${detail}`));
  }
  if (errors.length === 0 && !binary) errors.push(new BuildError(file, 1, 1, 'compile failed: asc wrote no module'));
  return { binary: errors.length ? undefined : binary, errors, warnings };
}

/** The real file, line and column of a diagnostic range (asc paths are relative to the base directory). */
function locate(
  range: { start: number; source: { normalizedPath: string } } | null,
  root: string, entry: string, file: string, realPath: (abs: string) => string, texts: Map<string, string>,
) {
  if (!range) return { file, line: 1, column: 1 };
  const p = range.source.normalizedPath;
  // Standard library sources are not served by the hook: keep asc's name, no position.
  if (p.startsWith('~lib/')) return { file: p, line: 1, column: 1 };
  const abs = path.resolve(root, p);
  // A problem in the generated entry (e.g. a missing import) belongs to the signature.
  if (abs === entry) return { file, line: 1, column: 1 };
  const { line, column } = positionOf(texts.get(abs) ?? '', range.start);
  return { file: realPath(abs), line, column };
}

function isInside(abs: string, dir: string): boolean {
  const rel = path.relative(dir, abs);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
