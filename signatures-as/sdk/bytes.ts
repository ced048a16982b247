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
import { matchPattern } from "./path-pattern";

// @ts-ignore: decorator
@lazy const DOT: usize = memory.data<u8>([0x2e]);

// @ts-ignore: decorator
@inline function isSpace(b: u8): bool {
  return b == 0x20 || (b >= 0x09 && b <= 0x0d);
}

@final @unmanaged
export class Bytes {
  private _ptr!: usize;
  private _len!: u32;

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

  /*
   * The comparison helpers take a string (compared as its UTF-8 encoding) or
   * another Bytes. They are inlined so that a literal argument reaches the
   * matcher as a constant address rather than as a managed reference (see
   * utf8.ts); the work happens in the non-generic functions below.
   */

  /** Byte-wise equality with a string literal (as UTF-8) or another view. */
  // @ts-ignore: decorator
  @inline equals<T>(other: T): bool {
    if (isString<T>()) return this.equalsString(changetype<usize>(other));
    else return this.equalsBytes(Bytes.check<T>(other));
  }

  // @ts-ignore: decorator
  @inline startsWith<T>(prefix: T): bool {
    if (isString<T>()) return utf8PrefixAt(this._ptr, this._ptr + <usize>this._len, changetype<usize>(prefix));
    else return this.bytesAt(0, Bytes.check<T>(prefix));
  }

  // @ts-ignore: decorator
  @inline endsWith<T>(suffix: T): bool {
    if (isString<T>()) return this.endsWithString(changetype<usize>(suffix));
    else return this.endsWithBytes(Bytes.check<T>(suffix));
  }

  // @ts-ignore: decorator
  @inline contains<T>(needle: T): bool {
    return this.indexOf<T>(needle) >= 0;
  }

  /** Byte offset of the first occurrence of `needle` at or after `from`, or -1. */
  // @ts-ignore: decorator
  @inline indexOf<T>(needle: T, from: i32 = 0): i32 {
    if (isString<T>()) return this.indexOfString(changetype<usize>(needle), from);
    else return this.indexOfBytes(Bytes.check<T>(needle), from);
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

  /**
   * Everything before the last path element, as Go's filepath.Dir on a clean
   * path (kernel paths are): "/a/b" → "/a", "/a" → "/", "a" and "" → ".",
   * "/a/b/" → "/a/b". It does not resolve "." or ".." elements.
   */
  dirname(): Bytes {
    let slash = this.lastIndexOfByte(0x2f);
    if (slash < 0) return Bytes.wrap(DOT, 1);
    let end = slash;
    while (end > 0 && load<u8>(this._ptr + <usize>(end - 1)) == 0x2f) end--;
    return Bytes.wrap(this._ptr, end == 0 ? 1 : <u32>end);
  }

  /** The view without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r). */
  trim(): Bytes {
    let start: u32 = 0;
    let end = this._len;
    while (start < end && isSpace(load<u8>(this._ptr + <usize>start))) start++;
    while (end > start && isSpace(load<u8>(this._ptr + <usize>(end - 1)))) end--;
    return Bytes.wrap(this._ptr + <usize>start, end - start);
  }

  /**
   * True if the whole view matches a path pattern (path-pattern.ts): `*` any
   * run of bytes, `?` one byte, `#` one digit, `{a,b}` alternatives, `\`
   * escapes. The pattern must be an ASCII string.
   */
  // @ts-ignore: decorator
  @inline matches(pattern: string): bool {
    return matchPattern(changetype<usize>(pattern), this._ptr, this._len);
  }

  /** Decodes the bytes as UTF-8 into a new string. Allocates: avoid per event. */
  toString(): string {
    return String.UTF8.decodeUnsafe(this._ptr, <usize>this._len);
  }

  private equalsString(s: usize): bool {
    return utf8Length(s) == <usize>this._len && utf8PrefixAt(this._ptr, this._ptr + <usize>this._len, s);
  }

  private equalsBytes(b: Bytes): bool {
    return b._len == this._len && this.bytesAt(0, b);
  }

  private endsWithString(s: usize): bool {
    let n = utf8Length(s);
    let end = this._ptr + <usize>this._len;
    return n <= <usize>this._len && utf8PrefixAt(end - n, end, s);
  }

  private endsWithBytes(b: Bytes): bool {
    return b._len <= this._len && this.bytesAt(this._len - b._len, b);
  }

  private indexOfString(s: usize, from: i32): i32 {
    let n = utf8Length(s);
    let end = this._ptr + <usize>this._len;
    for (let i = <usize>max(from, 0); i + n <= <usize>this._len; i++) {
      if (utf8PrefixAt(this._ptr + i, end, s)) return <i32>i;
    }
    return -1;
  }

  private indexOfBytes(b: Bytes, from: i32): i32 {
    for (let i = <u32>max(from, 0); i + b._len <= this._len; i++) {
      if (this.bytesAt(i, b)) return <i32>i;
    }
    return -1;
  }

  /** True if `b` occurs at offset `at` (which must be <= length). */
  private bytesAt(at: u32, b: Bytes): bool {
    return this._len - at >= b._len && memory.compare(this._ptr + <usize>at, b._ptr, <usize>b._len) == 0;
  }

  /** `other` as a Bytes; a compile-time error for any type other than string or Bytes. */
  // @ts-ignore: decorator
  @inline private static check<T>(other: T): Bytes {
    if (!(other instanceof Bytes)) ERROR("Bytes helpers take a string or a Bytes");
    return changetype<Bytes>(other);
  }
}
