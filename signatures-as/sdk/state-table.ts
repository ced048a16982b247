/**
 * StateTable: per-bundle state kept across events and batches, in the
 * bundle's own memory, bounded, and allocation-free after construction.
 *
 * A fixed-capacity hash table from u64 keys (a container ref, a pid, a cgroup
 * id, …) to fixed-size value slots that the signature lays out itself
 * (load/store at offsets, or copyBytes for text). It holds at most
 * `maxEntries`; putting a new key into a full table first evicts the entry
 * that was inserted longest ago, so state stays bounded however many keys
 * an attacker (or a busy host) produces. Create one at top level:
 *
 *   const apiServers = new StateTable(1024, 64);
 *   let slot = apiServers.put(e.containerRef);   // the value slot, zeroed if new
 *   store<u64>(slot, e.cgroupId);
 *
 * Slot addresses are valid until the next put() or remove() on the same
 * table (those may move entries). Single-threaded, like the whole bundle.
 *
 *   entry: | key u64 | seq u64 (0: free) | value (valueSize, 8-aligned) |
 */

import { Bytes } from "./bytes";

// @ts-ignore: decorator
@inline const ENTRY_HEADER: usize = 16;

@final
export class StateTable {
  private readonly base: usize;
  private readonly slots: u32;
  private readonly mask: u32;
  private readonly entrySize: usize;
  private readonly valueBytes: usize;
  private count: u32 = 0;
  private seq: u64 = 0;
  /** Most entries kept; a put beyond this evicts the oldest. */
  readonly maxEntries: u32;

  /** A table for up to `maxEntries` keys with `valueSize`-byte values. */
  constructor(maxEntries: u32, valueSize: u32) {
    // Keep the load factor at or below 1/2 so probes stay short.
    let slots: u32 = 8;
    while (slots < maxEntries * 2) slots <<= 1;
    this.slots = slots;
    this.mask = slots - 1;
    this.maxEntries = maxEntries;
    this.valueBytes = (<usize>valueSize + 7) & ~7;
    this.entrySize = ENTRY_HEADER + this.valueBytes;
    let bytes = <usize>slots * this.entrySize;
    this.base = heap.alloc(bytes);
    memory.fill(this.base, 0, bytes);
  }

  /** Entries currently held. */
  get size(): u32 { return this.count; }

  /** The value slot of `key`, or 0 if absent. */
  get(key: u64): usize {
    let i = this.find(key);
    return i < 0 ? 0 : this.entry(<u32>i) + ENTRY_HEADER;
  }

  /**
   * The value slot of `key`, inserting it (value zeroed) if absent. When the
   * table is full, the entry inserted longest ago is evicted first.
   */
  put(key: u64): usize {
    let i = this.find(key);
    if (i >= 0) return this.entry(<u32>i) + ENTRY_HEADER;
    if (this.count >= this.maxEntries) this.evictOldest();
    let at = this.home(key);
    while (load<u64>(this.entry(at), 8) != 0) at = (at + 1) & this.mask;
    let p = this.entry(at);
    store<u64>(p, key);
    store<u64>(p, ++this.seq, 8);
    memory.fill(p + ENTRY_HEADER, 0, this.valueBytes);
    this.count++;
    return p + ENTRY_HEADER;
  }

  /** Removes `key`; false if it was absent. */
  remove(key: u64): bool {
    let i = this.find(key);
    if (i < 0) return false;
    this.removeAt(<u32>i);
    return true;
  }

  /** Removes every entry whose u64 at `offset` in the value equals `value`; returns how many. */
  removeWhereU64(offset: usize, value: u64): u32 {
    let removed: u32 = 0;
    let i: u32 = 0;
    while (i < this.slots) {
      let p = this.entry(i);
      if (load<u64>(p, 8) != 0 && load<u64>(p + ENTRY_HEADER + offset) == value) {
        this.removeAt(i); // may shift a later entry into slot i: look at it again
        removed++;
      } else {
        i++;
      }
    }
    return removed;
  }

  /** Removes every entry. */
  clear(): void {
    memory.fill(this.base, 0, <usize>this.slots * this.entrySize);
    this.count = 0;
  }

  private entry(i: u32): usize {
    return this.base + <usize>i * this.entrySize;
  }

  private home(key: u64): u32 {
    // Fibonacci hashing: the high bits of key × 2^64/φ.
    return <u32>((key * 0x9e3779b97f4a7c15) >> 32) & this.mask;
  }

  private find(key: u64): i32 {
    let at = this.home(key);
    while (true) {
      let p = this.entry(at);
      if (load<u64>(p, 8) == 0) return -1;
      if (load<u64>(p) == key) return <i32>at;
      at = (at + 1) & this.mask;
    }
    return -1;
  }

  private evictOldest(): void {
    let oldest: u32 = 0;
    let oldestSeq = u64.MAX_VALUE;
    for (let i: u32 = 0; i < this.slots; i++) {
      let s = load<u64>(this.entry(i), 8);
      if (s != 0 && s < oldestSeq) { oldestSeq = s; oldest = i; }
    }
    if (oldestSeq != u64.MAX_VALUE) this.removeAt(oldest);
  }

  /** Linear-probing deletion by backward shift: no tombstones, probes stay short. */
  private removeAt(hole: u32): void {
    let i = hole;
    let j = hole;
    while (true) {
      j = (j + 1) & this.mask;
      let pj = this.entry(j);
      if (load<u64>(pj, 8) == 0) break;
      let k = this.home(load<u64>(pj));
      // Move j into the hole unless its home lies cyclically in (i, j].
      let stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        memory.copy(this.entry(i), pj, this.entrySize);
        i = j;
      }
    }
    memory.fill(this.entry(i), 0, this.entrySize);
    this.count--;
  }
}

/**
 * Copies up to `cap` bytes of `src` to `dst` (e.g. into a value slot, to keep
 * text past the handler); returns how many were copied. Read it back with
 * Bytes.wrap(dst, n).
 */
export function copyBytes(dst: usize, cap: u32, src: Bytes): u32 {
  let n = min(cap, <u32>src.length);
  memory.copy(dst, src.ptr, <usize>n);
  return n;
}
