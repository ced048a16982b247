/**
 * A bounded FIFO between detection and delivery. `push` never blocks: when
 * the queue is full the oldest item is dropped to make room and returned, so
 * a slow receiver loses old findings rather than stalling new ones.
 * Not thread-safe (one JS thread owns it).
 */
export class BoundedQueue<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends `item`; returns the item dropped to make room, if the queue was full. */
  push(item: T): { dropped: boolean; item?: T } {
    if (this.size < this.capacity) {
      this.items[(this.head + this.size) % this.capacity] = item;
      this.size++;
      return { dropped: false };
    }
    const oldest = this.items[this.head] as T;
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    return { dropped: true, item: oldest };
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return item;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const n = this.size;
    this.items.fill(undefined);
    this.head = 0;
    this.size = 0;
    return n;
  }
}
