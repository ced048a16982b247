/**
 * A detection re-emitted as an event, as unified Tracee (v0.10+) prints it
 * (pkg/events/findings FindingToEvent): the triggering event's context, with
 *
 * - eventId in the detection range (6000–6999) and eventName = the
 *   signature's event name;
 * - args = the finding's Data, then `detectedFrom` {id, name, args,
 *   returnValue} of the triggering event (left out if that event had no args);
 * - metadata {Version, Description, Tags, Properties} from the signature,
 *   with `signatureID` and `signatureName` added to the properties (and
 *   Severity, Category, Technique, id, external_id always present, null when
 *   the signature has none, as in Tracee).
 *
 * Event ids are stable whatever set of signatures is loaded: TRC-1nn and
 * TRC-10nn (Tracee's built-in numbering) get 6000 + nn; any other ID gets a
 * slot in 6100–6999 from a hash of the ID.
 */
import { SIGNATURE_EVENT_ID_BASE } from '../events/catalogue.ts';
import { stringifyJson, type EventArg, type TraceeEvent } from '../events/event-json.ts';
import type { DecodeOptions } from '../events/batch-reader.ts';
import type { Finding } from '../engine/finding.ts';
import type { FindingValue } from '../engine/finding-data.ts';
import type { SignatureMetadata } from '../engine/metadata.ts';
import { findingContext } from './finding-json.ts';

const OTHER_IDS_BASE = SIGNATURE_EVENT_ID_BASE + 100;
const OTHER_IDS = 900;

/** The event id a signature's detections get (see above). */
export function signatureEventId(signature: Pick<SignatureMetadata, 'id'>): number {
  const m = /^TRC-10?(\d\d)$/.exec(signature.id);
  if (m && Number(m[1]) >= 1) return SIGNATURE_EVENT_ID_BASE + Number(m[1]);
  // FNV-1a of the ID: stable, spread over the rest of the range.
  let h = 0x811c9dc5;
  for (const c of Buffer.from(signature.id, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return OTHER_IDS_BASE + (h % OTHER_IDS);
}

/** Tracee's getCType for a Data value. */
function cType(v: FindingValue): string {
  if (typeof v === 'string') return 'const char *';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff ? 'int' : 'long';
  if (typeof v === 'bigint') return 'long';
  return 'unknown';
}

const THREAT_PROPERTIES = ['Severity', 'Category', 'Technique', 'id', 'external_id'] as const;

export function findingToEvent(f: Finding, options: DecodeOptions = {}): TraceeEvent {
  const source = findingContext(f, options);
  const m = f.signature;
  const args: EventArg[] = Object.entries(f.data).map(([name, value]) => ({ name, type: cType(value), value }));
  if (source.args.length > 0) {
    args.push({
      name: 'detectedFrom',
      type: 'unknown',
      value: { id: Number(source.eventId), name: source.eventName, args: source.args, returnValue: source.returnValue },
    });
  }
  const properties: Record<string, unknown> = { ...m.properties, signatureID: m.id, signatureName: m.name };
  for (const key of THREAT_PROPERTIES) properties[key] = m.properties[key] ?? null;
  return {
    ...source,
    eventId: String(signatureEventId(m)),
    eventName: m.eventName,
    argsNum: args.length,
    args,
    metadata: { Version: m.version, Description: m.description, Tags: m.tags.length ? m.tags : null, Properties: properties },
  };
}

/** One line of JSON per finding, as unified Tracee's `--output json` prints detections. */
export function findingEventLine(f: Finding, options: DecodeOptions = {}): string {
  return stringifyJson(findingToEvent(f, options)) + '\n';
}
