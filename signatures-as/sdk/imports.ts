/**
 * The host functions a bundle may import (docs/abi/bundle.md, "Imports").
 * env.abort is AssemblyScript's own and is not declared here. Internal to the
 * SDK: signatures call emit()/finding()/Log instead.
 */

/** A finding for record `eventIndex` of the current batch; data as in the ABI (len 0: none). */
// @ts-ignore: decorator
@external("tracee", "emit_finding")
export declare function hostEmitFinding(eventIndex: u32, dataPtr: usize, dataLen: u32): void;

/** A UTF-8 log line: level 0 debug, 1 info, 2 warn, 3 error. */
// @ts-ignore: decorator
@external("tracee", "log")
export declare function hostLog(level: i32, ptr: usize, len: u32): void;

/**
 * A field of the container `containerRef` (docs/abi/bundle.md, "Imports"):
 * writes its UTF-8 value at outPtr when it fits in outCap bytes and returns
 * its length (also when it does not fit, without writing); -1 when the host
 * knows no such container, -2 for an unknown field. Optional for bundles:
 * only those that read container fields import it.
 */
// @ts-ignore: decorator
@external("tracee", "container_get")
export declare function hostContainerGet(containerRef: u32, field: u32, outPtr: usize, outCap: u32): i32;
