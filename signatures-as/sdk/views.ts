/**
 * The view arena: where Bytes, StringList and StringIter views live.
 *
 * Views are tiny @unmanaged records (a pointer and a length). Allocating them
 * from the runtime heap on every argument access would allocate per event, so
 * they are bump-allocated from an arena that the dispatcher rewinds before
 * each event. That is the lifetime rule of every view the SDK returns: it is
 * valid until the handler returns. The first chunk is static; more chunks are
 * heap-allocated only if one event needs more views than fit, and are kept
 * for reuse, so the steady state allocates nothing. Internal to the SDK.
 *
 *   chunk: | next chunk (usize) | pad | view | view | ... |  CHUNK_SIZE bytes
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
  if (cursor + size > limit) nextChunk();
  let p = cursor;
  cursor += size;
  return p;
}

function nextChunk(): void {
  let next = load<usize>(chunk);
  if (next == 0) {
    next = heap.alloc(CHUNK_SIZE);
    store<usize>(next, 0);
    store<usize>(chunk, next);
  }
  chunk = next;
  cursor = next + CHUNK_HEADER;
  limit = next + CHUNK_SIZE;
}
