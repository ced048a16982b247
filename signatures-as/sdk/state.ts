/**
 * Dispatcher state shared by the SDK modules: which batch and record are
 * being processed. Set by abi.ts, read by Event and the finding builder.
 * Internal to the SDK.
 */
@final
export abstract class Current {
  /** Address of the record being handled; 0 outside a handler call. */
  static record: usize = 0;
  /** Index of that record in the batch (what emit_finding reports). */
  static index: u32 = 0;
  /** The batch header's clockOffsetNs. */
  static clockOffsetNs: u64 = 0;
  /** Findings emitted during the current tracee_on_batch call. */
  static findings: i32 = 0;
}
