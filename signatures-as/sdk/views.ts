/**
 * The view arena: where Bytes, StringList and StringIter views live.
 *
 * Views are tiny @unmanaged records (a pointer and a length). Allocating them
 * from the runtime heap on every argument access would allocate per event, so
 * they are bump-allocated from an arena that the dispatcher rewinds before
 * each event. That is the lifetime rule of every view the SDK returns: it is
 * valid until the handler returns. The first chunk is static; more chunks are
 * heap-allocated only if one event needs more views than fit, and are kept
 * for reuse, so the steady state allocates nothing. The arena also holds
 * short-lived text the SDK writes for a handler (an IP address, a port, a
 * container's name): a request larger than a chunk gets a chunk of its own
 * size, likewise kept. Internal to the SDK.
 *
 *   chunk: | next chunk (usize) | capacity (u32) | view | view | ... |
 *   (the first chunk is static, CHUNK_SIZE bytes; its capacity field is 0)
 */

// @ts-ignore: decorator
@inline const CHUNK_SIZE: usize = 8192;
// @ts-ignore: decorator
@inline const CHUNK_HEADER: usize = 8;

// @ts-ignore: decorator
@lazy const firstChunk: usize = memory.data(8192, 16);
// @ts-ignore: decorator
@lazy let chunk: usize = firstChunk;
// @ts-ignore: decorator
@lazy let cursor: usize = firstChunk + CHUNK_HEADER;
// @ts-ignore: decorator
@lazy let limit: usize = firstChunk + CHUNK_SIZE;

/** Rewinds the arena: every view handed out so far becomes invalid. */
export function resetViews(): void {
  chunk = firstChunk;
  cursor = firstChunk + CHUNK_HEADER;
  limit = firstChunk + CHUNK_SIZE;
}

/** Returns `size` bytes (8-aligned) of view storage, valid until the next reset. */
export function allocView(size: usize): usize {
  size = (size + 7) & ~7;
  while (cursor + size > limit) nextChunk(size);
  let p = cursor;
  cursor += size;
  return p;
}

/** Moves to the next chunk, inserting a new one able to hold `size` bytes if the next is missing or too small. */
function nextChunk(size: usize): void {
  let next = load<usize>(chunk);
  if (next == 0 || chunkBytes(next) - CHUNK_HEADER < size) {
    let bytes = max(CHUNK_SIZE, size + CHUNK_HEADER);
    let fresh = heap.alloc(bytes);
    store<usize>(fresh, next);
    store<u32>(fresh + sizeof<usize>(), <u32>bytes);
    store<usize>(chunk, fresh);
    next = fresh;
  }
  chunk = next;
  cursor = next + CHUNK_HEADER;
  limit = next + chunkBytes(next);
}

function chunkBytes(c: usize): usize {
  let n = <usize>load<u32>(c + sizeof<usize>());
  return n == 0 ? CHUNK_SIZE : n;
}
