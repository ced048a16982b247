/**
 * Error classes shared by every stage. Each carries a stable `code`
 * (TRC_ERR_*) that callers match on, and the offending input in its message.
 */
export class TraceeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An event (JSON or flat) that cannot be encoded or decoded. */
export class EventFormatError extends TraceeError {
  constructor(message: string) {
    super('TRC_ERR_EVENT_FORMAT', message);
  }
}

/** A bundle that cannot be loaded: not wasm, bad metadata, forbidden import, ABI mismatch. */
export class BundleLoadError extends TraceeError {
  constructor(readonly bundle: string, message: string, options?: { cause?: unknown }) {
    super('TRC_ERR_BUNDLE_LOAD', `bundle ${bundle}: ${message}`, options);
  }
}

/** A bad command-line value. */
export class InvalidArgumentError extends TraceeError {
  constructor(message: string) {
    super('TRC_ERR_INVALID_ARGUMENT', message);
  }
}
