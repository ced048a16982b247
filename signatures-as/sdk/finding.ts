/**
 * Emitting findings and log lines.
 *
 *   emit(e);                                         // a finding without data
 *   finding(e).str("path", p).int("pid", e.processId).emit();
 *
 * The builder writes the ABI's finding-data encoding (docs/abi/bundle.md,
 * "Finding data encoding") into one reused scratch buffer, so a finding
 * allocates nothing once the buffer has grown to the largest finding:
 *
 *   entry: | kind u8 | key length u16 | key (UTF-8) | value |
 *   value: string/bytes: u32 length + bytes; int64/uint64: 8 bytes; bool: 1 byte
 */
import { Event } from "./event";
import { Bytes } from "./bytes";
import { Current } from "./state";
import { Scratch } from "./scratch";
import { hostEmitFinding, hostLog } from "./imports";
import { E_OUTSIDE_HANDLER, E_KEY_TOO_LONG } from "./errors";

// @ts-ignore: decorator
@inline const KIND_STRING: u8 = 1;
// @ts-ignore: decorator
@inline const KIND_INT64: u8 = 2;
// @ts-ignore: decorator
@inline const KIND_BOOL: u8 = 3;
// @ts-ignore: decorator
@inline const KIND_BYTES: u8 = 4;
// @ts-ignore: decorator
@inline const KIND_UINT64: u8 = 5;

function checkCurrent(e: Event): void {
  if (Current.record == 0 || changetype<usize>(e) != Current.record) throw new Error(E_OUTSIDE_HANDLER);
}

/** Emits a finding without data for the event being handled. */
export function emit(e: Event): void {
  checkCurrent(e);
  hostEmitFinding(Current.index, 0, 0);
  Current.findings++;
}

/** Builder of a finding with data; obtained from finding(e), ended by emit(). */
@final
export class Finding {
  private data: Scratch = new Scratch(1024);

  /** @internal Starts a new finding. */
  begin(): Finding {
    this.data.len = 0;
    return this;
  }

  /** A string entry; `value` is a string literal/string or a Bytes view (copied as is). */
  str<T>(key: string, value: T): Finding {
    this.key(KIND_STRING, key);
    if (isString<T>()) {
      let at = this.data.len;
      this.data.u32(0);
      let n = this.data.utf8(changetype<string>(value));
      store<u32>(this.data.ptr + at, <u32>n);
    } else if (value instanceof Bytes) {
      this.data.u32(<u32>value.length);
      this.data.raw(value.ptr, <usize>value.length);
    } else {
      ERROR("Finding.str takes a string or a Bytes");
    }
    return this;
  }

  /** Raw bytes (the host renders them as base64). */
  bytes(key: string, value: Bytes): Finding {
    this.key(KIND_BYTES, key);
    this.data.u32(<u32>value.length);
    this.data.raw(value.ptr, <usize>value.length);
    return this;
  }

  int(key: string, value: i64): Finding {
    this.key(KIND_INT64, key);
    this.data.u64(<u64>value);
    return this;
  }

  uint(key: string, value: u64): Finding {
    this.key(KIND_UINT64, key);
    this.data.u64(value);
    return this;
  }

  bool(key: string, value: bool): Finding {
    this.key(KIND_BOOL, key);
    this.data.u8(value ? 1 : 0);
    return this;
  }

  /** Sends the finding for the event given to finding(e). */
  emit(): void {
    if (Current.record == 0) throw new Error(E_OUTSIDE_HANDLER);
    hostEmitFinding(Current.index, this.data.ptr, <u32>this.data.len);
    Current.findings++;
  }

  private key(kind: u8, key: string): void {
    this.data.u8(kind);
    let at = this.data.len;
    this.data.u16(0);
    let n = this.data.utf8(key);
    if (n > 0xffff) throw new Error(E_KEY_TOO_LONG);
    store<u16>(this.data.ptr + at, <u16>n);
  }
}

// @ts-ignore: decorator
@lazy const builder: Finding = new Finding();

/** Starts a finding with data for the event being handled. */
export function finding(e: Event): Finding {
  checkCurrent(e);
  return builder.begin();
}

/** Log lines for the host's logger (`tracee.log`). Each call encodes into a reused buffer. */
export namespace Log {
  // @ts-ignore: decorator
  @lazy const line: Scratch = new Scratch(256);

  export function write(level: i32, message: string): void {
    line.len = 0;
    line.utf8(message);
    hostLog(level, line.ptr, <u32>line.len);
  }
  export function debug(message: string): void { write(0, message); }
  export function info(message: string): void { write(1, message); }
  export function warn(message: string): void { write(2, message); }
  export function error(message: string): void { write(3, message); }
}
