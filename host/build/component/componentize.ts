/**
 * `tracee-rules build --component`: wraps a built signature bundle as a
 * WebAssembly component of the `tracee:signature/signature` world
 * (docs/wit/signature.wit), so other component hosts can run it. The core
 * module is adapted to the canonical ABI (adapt.ts), then jco embeds the WIT
 * and makes the component.
 *
 * jco (@bytecodealliance/jco, pinned to 1.34.0: 1.35.0's CLI cannot read WIT
 * paths) is a devDependency, loaded only here, only when asked: it is not on
 * the detection path and not a runtime dependency.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adaptCoreModule, WIT_WORLD } from './adapt.ts';

export const WIT_FILE = fileURLToPath(new URL('../../../docs/wit/signature.wit', import.meta.url));

/** The directory components are written to by default: beside the bundles, not among them (a rules directory loads every *.wasm). */
export const COMPONENTS_DIR = 'components';

type Jco = typeof import('@bytecodealliance/jco');

export async function loadJco(): Promise<Jco> {
  try {
    return await import('@bytecodealliance/jco');
  } catch (err) {
    throw new Error(`building components needs @bytecodealliance/jco 1.34.0 (a devDependency; run npm install): ${(err as Error).message}`, { cause: err });
  }
}

/** The component for a bundle's bytes. */
export async function componentize(bundle: Uint8Array): Promise<Uint8Array> {
  const jco = await loadJco();
  const core = adaptCoreModule(bundle);
  const embedded = await jco.componentEmbed({ binary: core, witSource: await readFile(WIT_FILE, 'utf8'), world: WIT_WORLD, stringEncoding: 'utf8' });
  return jco.componentNew(embedded);
}

/**
 * Writes the component of the bundle at `wasmPath` to
 * `<outDir>/<name>.wasm` (default: a `components` directory next to the
 * bundle) and returns its path.
 */
export async function componentizeBundle(wasmPath: string, outDir = path.join(path.dirname(wasmPath), COMPONENTS_DIR)): Promise<string> {
  const component = await componentize(new Uint8Array(await readFile(wasmPath)));
  await mkdir(outDir, { recursive: true });
  const out = path.join(outDir, path.basename(wasmPath));
  await writeFile(out, component);
  return out;
}
