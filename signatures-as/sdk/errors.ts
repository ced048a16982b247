/** Abort messages of the SDK, shared so each string is stored once. */

export const E_REGISTER_TWICE: string = "register() called more than once: one signature per file";
export const E_NOT_REGISTERED: string = "the signature file did not call register()";
export const E_EVENT_ID_RANGE: string = "selected event id out of range (0..8191)";
export const E_NO_SELECTION: string = "the signature selects no event (Metadata.select)";
export const E_OUTSIDE_HANDLER: string = "findings can only be emitted for the event being handled";
export const E_KEY_TOO_LONG: string = "finding data key longer than 65535 bytes";
