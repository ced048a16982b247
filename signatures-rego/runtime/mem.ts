// Bump allocator with OPA's heap-pointer semantics.
//
// The heap starts at `rt_heap_base` (the code generator moves it above the
// policy's data segment) and only grows; `opa_heap_ptr_set` rewinds it, which
// is how the SDK discards everything an evaluation allocated. Running out of
// memory aborts with exactly "opa_malloc: failed" (the SDK's tests expect it).

@external("env", "opa_abort")
declare function host_abort(addr: usize): void;

@external("env", "opa_println")
declare function host_println(addr: usize): void;

/** First heap address; rewritten by the code generator. 0 means `__heap_base`. */
export let rt_heap_base: usize = 0;

let top: usize = 0;

@inline function ensureTop(): void {
  if (top == 0) top = rt_heap_base != 0 ? rt_heap_base : ((__heap_base + 15) & ~15);
}

/** Allocates `size` bytes, 8-byte aligned. Never returns 0. */
export function malloc(size: usize): usize {
  ensureTop();
  let p = (top + 7) & ~<usize>7;
  let end = p + size;
  if (end < p) fail("opa_malloc: failed");
  let cap = (<u64>memory.size()) << 16;
  if (<u64>end > cap) {
    let pages = <i32>((<u64>end - cap + 0xffff) >>> 16);
    if (memory.grow(pages) < 0) fail("opa_malloc: failed");
  }
  top = end;
  return p;
}

/** Allocates zeroed memory. */
export function calloc(size: usize): usize {
  let p = malloc(size);
  memory.fill(p, 0, size);
  return p;
}

export function heapGet(): usize {
  ensureTop();
  return top;
}

export function heapSet(p: usize): void {
  top = p;
}

/** Copies an ASCII AS string literal into the heap as a NUL-terminated C string. */
export function cstr(msg: string): usize {
  let n = <usize>msg.length;
  let p = malloc(n + 1);
  let s = changetype<usize>(msg);
  for (let i: usize = 0; i < n; i++) store<u8>(p + i, <u8>load<u16>(s + (i << 1)));
  store<u8>(p + n, 0);
  return p;
}

/** Aborts evaluation with `msg` (ASCII). */
export function fail(msg: string): void {
  // Do not allocate through malloc here: it may be the one failing.
  let n = <usize>msg.length;
  let cap = (<u64>memory.size()) << 16;
  if (n > 120) n = 120;
  // Prefer free heap; as a last resort overwrite the end of memory (we are aborting).
  let p: usize = top != 0 && <u64>(top + n + 1) <= cap && top + n + 1 > top ? top : <usize>(cap - 128);
  let s = changetype<usize>(msg);
  for (let i: usize = 0; i < n; i++) store<u8>(p + i, <u8>load<u16>(s + (i << 1)));
  store<u8>(p + n, 0);
  host_abort(p);
  unreachable();
}

/** Aborts with a message already in memory as UTF-8 bytes (non-ASCII replaced). */
export function failBytes(ptr: usize, len: usize): void {
  let p = malloc(len + 1);
  for (let i: usize = 0; i < len; i++) {
    let c = load<u8>(ptr + i);
    store<u8>(p + i, c < 0x80 ? c : 0x3f);
  }
  store<u8>(p + len, 0);
  host_abort(p);
  unreachable();
}

export function println(ptr: usize): void {
  host_println(ptr);
}
