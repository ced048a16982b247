/**
 * Bytes: a read-only view (pointer, length) over raw bytes in the batch.
 *
 * Event strings are never decoded on the detection path: the helpers below
 * compare bytes in place against string literals (encoded to UTF-8 on the fly,
 * see utf8.ts) or against other views. Nothing here allocates except
 * toString(). Like every SDK view, a Bytes is valid only until the handler
 * returns (views.ts); copy what you need to keep (toString, or your own buffer).
 *
 *   Bytes (8 bytes, @unmanaged): | ptr: usize | len: u32 |
 */
import { allocView } from "./views";
import { utf8Length, utf8PrefixAt } from "./utf8";

// @ts-ignore: decorator
@lazy const DOT: usize = memory.data<u8>([0x2e]);

@final @unmanaged
export class Bytes {
  private _ptr: usize;
  private _len: u32;

  /** A view over `len` bytes at `ptr`, valid until the current handler returns. */
  static wrap(ptr: usize, len: u32): Bytes {
    let v = changetype<Bytes>(allocView(offsetof<Bytes>()));
    v._ptr = ptr;
    v._len = len;
    return v;
  }

  /** An empty view (what absent arguments return). */
  // @ts-ignore: decorator
  @inline static empty(): Bytes {
    return Bytes.wrap(0, 0);
  }

  /** Address of the first byte (for code that reads memory directly). */
  get ptr(): usize { return this._ptr; }
  get length(): i32 { return <i32>this._len; }
  get isEmpty(): bool { return this._len == 0; }

  /** The byte at `i`, or 0 when `i` is out of range. */
  byteAt(i: i32): u8 {
    return <u32>i < this._len ? load<u8>(this._ptr + <usize>i) : 0;
  }

  /** Byte-wise equality with a string literal (as UTF-8) or another view. */
  equals<T>(other: T): bool {
    return Bytes.lengthOf<T>(other) == <usize>this._len && this.matchAt<T>(0, other);
  }

  startsWith<T>(prefix: T): bool {
    return this.matchAt<T>(0, prefix);
  }

  endsWith<T>(suffix: T): bool {
    let n = Bytes.lengthOf<T>(suffix);
    return n <= <usize>this._len && this.matchAt<T>(<usize>this._len - n, suffix);
  }

  contains<T>(needle: T): bool {
    return this.indexOf<T>(needle) >= 0;
  }

  /** Byte offset of the first occurrence of `needle` at or after `from`, or -1. */
  indexOf<T>(needle: T, from: i32 = 0): i32 {
    let n = Bytes.lengthOf<T>(needle);
    let len = <usize>this._len;
    if (n > len) return -1;
    for (let i = <usize>max(from, 0); i + n <= len; i++) {
      if (this.matchAt<T>(i, needle)) return <i32>i;
    }
    return -1;
  }

  /** Offset of the first `b` at or after `from`, or -1. */
  indexOfByte(b: u8, from: i32 = 0): i32 {
    for (let i = <u32>max(from, 0); i < this._len; i++) {
      if (load<u8>(this._ptr + i) == b) return <i32>i;
    }
    return -1;
  }

  /** Offset of the last `b`, or -1. */
  lastIndexOfByte(b: u8): i32 {
    for (let i = <i32>this._len - 1; i >= 0; i--) {
      if (load<u8>(this._ptr + <usize>i) == b) return i;
    }
    return -1;
  }

  /** A sub-view [start, end); negative indices count from the end, as in JS. */
  slice(start: i32 = 0, end: i32 = i32.MAX_VALUE): Bytes {
    let len = <i32>this._len;
    let s = start < 0 ? max(len + start, 0) : min(start, len);
    let e = end < 0 ? max(len + end, 0) : min(end, len);
    return Bytes.wrap(this._ptr + <usize>s, e > s ? <u32>(e - s) : 0);
  }

  /**
   * The last path element, as Go's filepath.Base (which Tracee's signatures
   * use): trailing slashes are ignored, "" gives ".", and all-slashes gives "/".
   */
  basename(): Bytes {
    let end = <i32>this._len;
    if (end == 0) return Bytes.wrap(DOT, 1);
    while (end > 0 && load<u8>(this._ptr + <usize>(end - 1)) == 0x2f) end--;
    if (end == 0) return Bytes.wrap(this._ptr, 1);
    let start = end;
    while (start > 0 && load<u8>(this._ptr + <usize>(start - 1)) != 0x2f) start--;
    return Bytes.wrap(this._ptr + <usize>start, <u32>(end - start));
  }

  /** Decodes the bytes as UTF-8 into a new string. Allocates: avoid per event. */
  toString(): string {
    return String.UTF8.decodeUnsafe(this._ptr, <usize>this._len);
  }

  private matchAt<T>(at: usize, other: T): bool {
    let p = this._ptr + at;
    let end = this._ptr + <usize>this._len;
    if (isString<T>()) {
      return utf8PrefixAt(p, end, changetype<string>(other));
    } else if (other instanceof Bytes) {
      let n = <usize>other._len;
      return end - p >= n && memory.compare(p, other._ptr, n) == 0;
    } else {
      ERROR("Bytes helpers take a string or a Bytes");
      return false;
    }
  }

  private static lengthOf<T>(other: T): usize {
    if (isString<T>()) {
      return utf8Length(changetype<string>(other));
    } else if (other instanceof Bytes) {
      return <usize>other._len;
    } else {
      ERROR("Bytes helpers take a string or a Bytes");
      return 0;
    }
  }
}
