/**
 * A finding as tracee-rules' rawjson prints it:
 * {"Data": …, "Context": <trace.Event>, "SigMetadata": {…}}.
 */
import { decodeEvent, type DecodeOptions } from '../events/batch-reader.ts';
import { BATCH_HEADER_SIZE } from '../events/layout.ts';
import type { TraceeEvent } from '../events/event-json.ts';
import type { Finding } from '../engine/finding.ts';

export interface FindingJson {
  Data: Finding['data'] | null;
  Context: TraceeEvent;
  SigMetadata: {
    ID: string; Version: string; Name: string; EventName: string; Description: string;
    Tags: string[]; Properties: Record<string, string | number | boolean>;
  };
}

export function findingContext(f: Finding, options: DecodeOptions = {}): TraceeEvent {
  return decodeEvent(f.record, 0, { count: 1, byteLength: f.record.byteLength, headerSize: BATCH_HEADER_SIZE, clockOffsetNs: f.clockOffsetNs }, options);
}

export function findingToJson(f: Finding, options: DecodeOptions = {}): FindingJson {
  const m = f.signature;
  return {
    // Tracee prints a finding without data as null (a nil Go map).
    Data: Object.keys(f.data).length ? f.data : null,
    Context: findingContext(f, options),
    SigMetadata: { ID: m.id, Version: m.version, Name: m.name, EventName: m.eventName, Description: m.description, Tags: m.tags, Properties: m.properties },
  };
}
