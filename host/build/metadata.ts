/**
 * Reads a compiled signature's metadata at build time by running it once:
 * instantiating the module runs the signature's top-level register(), and
 * the build-only `tracee_metadata` export returns the metadata as JSON
 * (signatures-as/sdk/metadata-json.ts). The JSON is then checked and turned
 * into the `tracee.signature` section of docs/abi/bundle.md, with selected
 * event ids mapped to catalogue names.
 */
import { ALLOWED_IMPORTS as HOST_IMPORTS } from '../engine/bundle.ts';
import { SUPPORTED_ABI, type Origin, type SignatureMetadata as BundleMetadata } from '../engine/metadata.ts';
import { eventById } from '../events/catalogue.ts';

export { METADATA_SECTION } from '../engine/metadata.ts';
export const BUNDLE_ABI = SUPPORTED_ABI;

/** The imports the host allows (its list is the one source: host/engine/bundle.ts). */
export const ALLOWED_IMPORTS: ReadonlySet<string> = new Set(Object.keys(HOST_IMPORTS));

/** The metadata section's contents, as the host reads them (host/engine/metadata.ts). */
export type { SignatureMetadata as BundleMetadata, Origin } from '../engine/metadata.ts';

/** What the module reported, as written by metadata-json.ts. */
interface RawMetadata {
  id: string;
  version: string;
  name: string;
  eventName: string;
  description: string;
  tags: string[];
  properties: [string, string | number | boolean | null][];
  selectedEvents: { id: number; origin: Origin }[];
}

/** An abort raised by the module while it ran at build time; file is as AssemblyScript names it. */
export class ModuleAbort extends Error {
  constructor(readonly detail: string, readonly file: string, readonly line: number, readonly column: number) {
    super(`${detail} (${file}:${line}:${column})`);
  }
}

/** Imports of the module that the host would refuse, as "module.name". */
export function forbiddenImports(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.imports(module)
    .map((i) => `${i.module}.${i.name}`)
    .filter((name) => !ALLOWED_IMPORTS.has(name));
}

/**
 * Runs registration and returns the metadata JSON the module reports. `probe`
 * is the module with its start function exported as `startExport`
 * (finalize.ts), so that an abort during registration can be decoded from
 * memory. Throws ModuleAbort, or Error when the module is not an SDK module.
 */
export async function runMetadataExport(probe: Uint8Array, startExport: string): Promise<unknown> {
  let memory: WebAssembly.Memory | undefined;
  const asString = (ptr: number): string => {
    if (!memory || ptr < 4 || ptr > memory.buffer.byteLength) return '?';
    const bytes = new DataView(memory.buffer).getUint32(ptr - 4, true);
    return Buffer.from(memory.buffer, ptr, bytes).toString('utf16le');
  };
  const imports = {
    env: {
      abort: (msg: number, file: number, line: number, column: number) => {
        throw new ModuleAbort(asString(msg), asString(file), line, column);
      },
    },
    tracee: {
      emit_finding: () => { throw new Error('emit_finding called outside tracee_on_batch'); },
      log: () => {},
      container_get: () => -1,
    },
  };
  const { instance } = await WebAssembly.instantiate(probe as Uint8Array<ArrayBuffer>, imports);
  const exports = instance.exports as Record<string, unknown>;
  memory = exports.memory as WebAssembly.Memory;
  const start = exports[startExport] as (() => void) | undefined;
  start?.();
  const metadata = exports.tracee_metadata as (() => number) | undefined;
  if (typeof metadata !== 'function') throw new Error('the module has no tracee_metadata export (was it built from the SDK?)');
  const ptr = metadata();
  const len = new DataView(memory.buffer).getUint32(ptr, true);
  return JSON.parse(Buffer.from(memory.buffer, ptr + 4, len).toString('utf8'));
}

/** Checks the reported metadata; returns the section contents or the list of problems. */
export function toBundleMetadata(reported: unknown): { metadata?: BundleMetadata; problems: string[] } {
  const raw = reported as RawMetadata;
  const problems: string[] = [];
  for (const key of ['id', 'version', 'name', 'eventName'] as const) {
    if (raw[key] === '') problems.push(`metadata ${key} is empty`);
  }

  const properties: Record<string, string | number | boolean> = {};
  for (const [key, value] of raw.properties) {
    if (Object.hasOwn(properties, key)) problems.push(`metadata property "${key}" is set twice`);
    else if (value === null) problems.push(`metadata property "${key}" has no JSON value`);
    else properties[key] = value;
  }

  const selectedEvents: BundleMetadata['selectedEvents'] = [];
  const seen = new Set<string>();
  for (const { id, origin } of raw.selectedEvents) {
    const def = eventById(id);
    if (!def) {
      problems.push(`selected event id ${id} is not in the event catalogue (host/events/catalogue.ts)`);
      continue;
    }
    const key = `${def.name}@${origin}`;
    if (seen.has(key)) problems.push(`event ${def.name} with origin ${origin} is selected twice`);
    seen.add(key);
    selectedEvents.push({ source: 'tracee', name: def.name, origin });
  }

  if (problems.length) return { problems };
  return {
    problems,
    metadata: {
      abi: BUNDLE_ABI, id: raw.id, version: raw.version, name: raw.name, eventName: raw.eventName,
      description: raw.description, tags: raw.tags, properties, selectedEvents,
    },
  };
}
