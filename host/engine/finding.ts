/**
 * A detection: the signature's metadata, the event that triggered it (its
 * flat record, decoded only when printed) and the signature's data.
 */
import type { SignatureMetadata } from './metadata.ts';
import type { FindingData } from './finding-data.ts';

export interface Finding {
  signature: SignatureMetadata;
  /** A copy of the triggering record (flat encoding, one record). */
  record: Uint8Array;
  /** The batch clock offset, to turn the record's timestamps into epoch ns. */
  clockOffsetNs: bigint;
  data: FindingData;
}
