/**
 * Argument helpers that need to know whether an argument is there at all.
 *
 * The generated accessors read an absent argument as 0, which for some
 * arguments is a meaningful value (O_RDONLY, PTRACE_TRACEME, fd 0). Tracee's
 * signatures return without a finding when an argument is missing; these
 * helpers let ours do the same. The indices are the catalogue's
 * (host/events/catalogue.ts); test/unit/sdk-runtime.test.ts checks them.
 */
import { Event } from "./event";
import { isFileRead, isFileWrite } from "./constants";

/** Catalogue argument indices the helpers below rely on. */
export namespace ArgIndex {
  // @ts-ignore: decorator
  @inline export const ptrace_request: i32 = 0;
  // @ts-ignore: decorator
  @inline export const security_file_open_flags: i32 = 1;
  // @ts-ignore: decorator
  @inline export const security_socket_connect_sockfd: i32 = 0;
  // @ts-ignore: decorator
  @inline export const socket_dup_newfd: i32 = 1;
  // @ts-ignore: decorator
  @inline export const process_vm_writev_pid: i32 = 0;
}

/** A security_file_open event whose flags are present and allow writing (Tracee's IsFileWrite). */
export function openedForWrite(e: Event): bool {
  let i = ArgIndex.security_file_open_flags;
  return e.hasArg(i) && isFileWrite(<i64>e.argI32(i));
}

/** A security_file_open event whose flags are present and allow reading (Tracee's IsFileRead). */
export function openedForRead(e: Event): bool {
  let i = ArgIndex.security_file_open_flags;
  return e.hasArg(i) && isFileRead(<i64>e.argI32(i));
}
