/**
 * Values and helpers signatures compare against. The host normalises named
 * argument values ("PTRACE_TRACEME", "O_WRONLY|O_CREAT") to integers before
 * encoding (host/events/arg-values.ts), so signatures compare integers only.
 */
import { Bytes } from "./bytes";

/** ptrace(2) requests (x86_64, <sys/ptrace.h>). */
export namespace PtraceRequest {
  // @ts-ignore: decorator
  @inline export const TRACEME: i64 = 0;
  // @ts-ignore: decorator
  @inline export const PEEKTEXT: i64 = 1;
  // @ts-ignore: decorator
  @inline export const PEEKDATA: i64 = 2;
  // @ts-ignore: decorator
  @inline export const PEEKUSER: i64 = 3;
  // @ts-ignore: decorator
  @inline export const POKETEXT: i64 = 4;
  // @ts-ignore: decorator
  @inline export const POKEDATA: i64 = 5;
  // @ts-ignore: decorator
  @inline export const POKEUSER: i64 = 6;
  // @ts-ignore: decorator
  @inline export const CONT: i64 = 7;
  // @ts-ignore: decorator
  @inline export const KILL: i64 = 8;
  // @ts-ignore: decorator
  @inline export const SINGLESTEP: i64 = 9;
  // @ts-ignore: decorator
  @inline export const ATTACH: i64 = 16;
  // @ts-ignore: decorator
  @inline export const DETACH: i64 = 17;
  // @ts-ignore: decorator
  @inline export const SYSCALL: i64 = 24;
  // @ts-ignore: decorator
  @inline export const SETOPTIONS: i64 = 0x4200;
  // @ts-ignore: decorator
  @inline export const SEIZE: i64 = 0x4206;
}

/** open(2) access modes (x86_64). */
export namespace OpenFlags {
  // @ts-ignore: decorator
  @inline export const O_ACCMODE: i64 = 3;
  // @ts-ignore: decorator
  @inline export const O_RDONLY: i64 = 0;
  // @ts-ignore: decorator
  @inline export const O_WRONLY: i64 = 1;
  // @ts-ignore: decorator
  @inline export const O_RDWR: i64 = 2;
}

/** The open flags allow writing (O_WRONLY or O_RDWR), as Tracee's IsFileWrite. */
// @ts-ignore: decorator
@inline
export function isFileWrite(flags: i64): bool {
  let mode = flags & OpenFlags.O_ACCMODE;
  return mode == OpenFlags.O_WRONLY || mode == OpenFlags.O_RDWR;
}

/** The open flags allow reading (O_RDONLY or O_RDWR), as Tracee's IsFileRead. */
// @ts-ignore: decorator
@inline
export function isFileRead(flags: i64): bool {
  let mode = flags & OpenFlags.O_ACCMODE;
  return mode == OpenFlags.O_RDONLY || mode == OpenFlags.O_RDWR;
}

/** A path backed by memory rather than a file system, as Tracee's IsMemoryPath. */
export function isMemoryPath(path: Bytes): bool {
  return path.startsWith("memfd:") || path.startsWith("/run/shm/") || path.startsWith("/dev/shm/");
}

/** mem_prot_alert's `alert` values (Tracee's trace.MemProtAlert). */
export namespace MemProtAlert {
  // @ts-ignore: decorator
  @inline export const MmapWX: u32 = 1;
  // @ts-ignore: decorator
  @inline export const MprotectToX: u32 = 2;
  // @ts-ignore: decorator
  @inline export const MprotectXToWX: u32 = 3;
  // @ts-ignore: decorator
  @inline export const MprotectWXToX: u32 = 4;
}

/** The bytes start with the ELF magic (0x7f 'E' 'L' 'F'), as Tracee's IsElf. */
export function isElf(bytes: Bytes): bool {
  return bytes.length >= 4 && load<u32>(bytes.ptr) == 0x464c457f;
}
