/**
 * Signature metadata: the `tracee.signature` custom section of a bundle
 * (docs/abi/bundle.md), read and validated without running bundle code.
 */
import { eventByName } from '../events/catalogue.ts';

export const METADATA_SECTION = 'tracee.signature';
export const SUPPORTED_ABI = 1;

export type Origin = '*' | 'container' | 'host';
const ORIGINS: readonly string[] = ['*', 'container', 'host'];

export interface SelectedEvent {
  source: string;
  name: string;
  origin: Origin;
}

export interface SignatureMetadata {
  abi: number;
  id: string;
  version: string;
  name: string;
  eventName: string;
  description: string;
  tags: string[];
  properties: Record<string, string | number | boolean>;
  selectedEvents: SelectedEvent[];
}

/** Returns the metadata, or throws an Error whose message says what is wrong. */
export function readMetadata(module: WebAssembly.Module): SignatureMetadata {
  return validateMetadata(sectionJson(module, METADATA_SECTION));
}

/** The metadata of each signature of a multi-signature module (a JSON array in custom section `section`), in entrypoint order. */
export function readMetadataList(module: WebAssembly.Module, section: string): SignatureMetadata[] {
  const list = sectionJson(module, section);
  if (!Array.isArray(list) || list.length === 0) throw new Error(`"${section}" section must be a non-empty array of signature metadata`);
  return list.map((m, i) => {
    try {
      return validateMetadata(m);
    } catch (err) {
      throw new Error(`"${section}" signature ${i}: ${(err as Error).message}`);
    }
  });
}

function sectionJson(module: WebAssembly.Module, name: string): unknown {
  const sections = WebAssembly.Module.customSections(module, name);
  if (sections.length !== 1) throw new Error(`expected one "${name}" custom section, found ${sections.length}`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(sections[0]));
  } catch (err) {
    throw new Error(`"${name}" section is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
}

export function validateMetadata(json: unknown): SignatureMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('metadata is not a JSON object');
  const m = json as Record<string, unknown>;
  if (m.abi !== SUPPORTED_ABI) throw new Error(`metadata abi ${JSON.stringify(m.abi)} is not supported (this host supports ${SUPPORTED_ABI})`);
  for (const key of ['id', 'version', 'name', 'eventName', 'description']) {
    if (typeof m[key] !== 'string' || (key !== 'description' && m[key] === '')) throw new Error(`metadata field "${key}" must be a non-empty string`);
  }
  const tags = m.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new Error('metadata field "tags" must be an array of strings');
  const properties = m.properties ?? {};
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)
    || Object.values(properties).some((v) => !['string', 'number', 'boolean'].includes(typeof v))) {
    throw new Error('metadata field "properties" must be an object of strings, numbers and booleans');
  }
  if (!Array.isArray(m.selectedEvents) || m.selectedEvents.length === 0) throw new Error('metadata field "selectedEvents" must be a non-empty array');
  const selectedEvents = m.selectedEvents.map((s, i) => validateSelector(s, i));
  return {
    abi: SUPPORTED_ABI, id: m.id as string, version: m.version as string, name: m.name as string,
    eventName: m.eventName as string, description: m.description as string, tags: tags as string[],
    properties: properties as SignatureMetadata['properties'], selectedEvents,
  };
}

function validateSelector(s: unknown, i: number): SelectedEvent {
  const where = `selectedEvents[${i}]`;
  if (typeof s !== 'object' || s === null) throw new Error(`${where} is not an object`);
  const { source = 'tracee', name, origin = '*' } = s as Record<string, unknown>;
  if (source !== 'tracee') throw new Error(`${where}.source "${String(source)}" is not supported (only "tracee")`);
  if (typeof name !== 'string' || (name !== '*' && !eventByName(name))) throw new Error(`${where}.name ${JSON.stringify(name)} is not an event in the catalogue`);
  if (typeof origin !== 'string' || !ORIGINS.includes(origin)) throw new Error(`${where}.origin ${JSON.stringify(origin)} must be one of ${ORIGINS.join(', ')}`);
  return { source, name, origin: origin as Origin };
}
