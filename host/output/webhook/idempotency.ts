/**
 * The Idempotency-Key sent with each finding: retries and re-deliveries of
 * the same finding carry the same key, so a receiver can drop duplicates.
 * A hash of the signature id, the event's timestamp, host pid/tid and event
 * id (read straight from the record, without decoding it) and the finding's
 * data.
 */
import { createHash } from 'node:crypto';
import { stringifyJson } from '../../events/event-json.ts';
import { CTX } from '../../events/layout.ts';
import type { Finding } from '../../engine/finding.ts';

export function idempotencyKey(f: Finding): string {
  const v = new DataView(f.record.buffer, f.record.byteOffset, f.record.byteLength);
  const timestamp = v.getBigUint64(CTX.timestamp, true) + f.clockOffsetNs;
  const pid = v.getUint32(CTX.hostProcessId, true);
  const tid = v.getUint32(CTX.hostThreadId, true);
  const eventId = v.getUint32(CTX.eventId, true);
  const data = Object.keys(f.data).length ? stringifyJson(f.data) : '';
  return createHash('sha256').update(`${f.signature.id}\0${timestamp}\0${pid}\0${tid}\0${eventId}\0${data}`).digest('hex').slice(0, 32);
}
