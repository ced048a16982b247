/**
 * A growable byte buffer outside the GC heap, reused across calls: the
 * finding builder and the logger encode into one of these instead of
 * allocating per finding. It only grows (rarely) and is never freed.
 * Internal to the SDK.
 */
import { utf8Length, utf8Write } from "./utf8";

@final
export class Scratch {
  ptr: usize;
  cap: usize;
  len: usize = 0;

  constructor(initial: usize) {
    this.ptr = heap.alloc(initial);
    this.cap = initial;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: usize): void {
    let need = this.len + n;
    if (need <= this.cap) return;
    let cap = this.cap << 1;
    while (cap < need) cap <<= 1;
    this.ptr = heap.realloc(this.ptr, cap);
    this.cap = cap;
  }

  u8(v: u8): void { this.reserve(1); store<u8>(this.ptr + this.len, v); this.len += 1; }
  u16(v: u16): void { this.reserve(2); store<u16>(this.ptr + this.len, v); this.len += 2; }
  u32(v: u32): void { this.reserve(4); store<u32>(this.ptr + this.len, v); this.len += 4; }
  u64(v: u64): void { this.reserve(8); store<u64>(this.ptr + this.len, v); this.len += 8; }

  raw(src: usize, n: usize): void {
    this.reserve(n);
    memory.copy(this.ptr + this.len, src, n);
    this.len += n;
  }

  /** Appends the UTF-8 encoding of `s`; returns its byte length. */
  utf8(s: string): usize {
    let n = utf8Length(changetype<usize>(s));
    this.reserve(n);
    utf8Write(s, this.ptr + this.len);
    this.len += n;
    return n;
  }
}
