/**
 * Event: a zero-copy view of one record of the current batch
 * (docs/abi/flat-encoding.md). An Event *is* the record's address
 * (changetype), so handing one to a handler allocates nothing; its accessors
 * load fields at the generated Ctx offsets. Arguments are read by catalogue
 * index (the generated namespaces in gen/events.ts name them); an absent or
 * malformed argument reads as 0 / false / empty.
 *
 * Lifetime: an Event and every view obtained from it (Bytes, StringList,
 * StringIter) are valid only until the handler returns: the batch buffer is
 * overwritten by the next batch and the view arena is rewound per event.
 */
import { Ctx, CONTEXT_SIZE, FLAG_CONTAINER_STARTED, FLAG_IS_COMPAT } from "./gen/events";
import { Current } from "./state";
import { allocView } from "./views";
import { Bytes } from "./bytes";

export { Bytes } from "./bytes";

// @ts-ignore: decorator
@inline const NAME_SIZE: u32 = 16;

@final @unmanaged
export class Event {
  /** Index of this record in the batch (what findings refer to). */
  get index(): u32 { return Current.index; }

  get size(): u32 { return load<u32>(changetype<usize>(this), Ctx.size); }
  get eventId(): u32 { return load<u32>(changetype<usize>(this), Ctx.eventId); }
  /** ns since the Unix epoch (record timestamp + the batch's clock offset). */
  get timestamp(): u64 { return load<u64>(changetype<usize>(this), Ctx.timestamp) + Current.clockOffsetNs; }
  /** ns since the Unix epoch, like timestamp. */
  get threadStartTime(): u64 { return load<u64>(changetype<usize>(this), Ctx.threadStartTime) + Current.clockOffsetNs; }
  get cgroupId(): u64 { return load<u64>(changetype<usize>(this), Ctx.cgroupId); }
  get returnValue(): i64 { return load<i64>(changetype<usize>(this), Ctx.returnValue); }
  get matchedPolicies(): u64 { return load<u64>(changetype<usize>(this), Ctx.matchedPolicies); }
  get processorId(): u32 { return load<u32>(changetype<usize>(this), Ctx.processorId); }
  get processId(): u32 { return load<u32>(changetype<usize>(this), Ctx.processId); }
  get threadId(): u32 { return load<u32>(changetype<usize>(this), Ctx.threadId); }
  get parentProcessId(): u32 { return load<u32>(changetype<usize>(this), Ctx.parentProcessId); }
  get hostProcessId(): u32 { return load<u32>(changetype<usize>(this), Ctx.hostProcessId); }
  get hostThreadId(): u32 { return load<u32>(changetype<usize>(this), Ctx.hostThreadId); }
  get hostParentProcessId(): u32 { return load<u32>(changetype<usize>(this), Ctx.hostParentProcessId); }
  get userId(): u32 { return load<u32>(changetype<usize>(this), Ctx.userId); }
  get mountNamespace(): u32 { return load<u32>(changetype<usize>(this), Ctx.mountNamespace); }
  get pidNamespace(): u32 { return load<u32>(changetype<usize>(this), Ctx.pidNamespace); }
  /** Syscall that produced the event, -1 if none. */
  get syscall(): i32 { return load<i32>(changetype<usize>(this), Ctx.syscall); }
  get flags(): u32 { return load<u32>(changetype<usize>(this), Ctx.flags); }
  /** contextFlags.containerStarted: the event comes from a started container. */
  get isContainer(): bool { return (this.flags & FLAG_CONTAINER_STARTED) != 0; }
  get isCompat(): bool { return (this.flags & FLAG_IS_COMPAT) != 0; }
  /** Index in the host's container table; 0 = not in a container. */
  get containerRef(): u32 { return load<u32>(changetype<usize>(this), Ctx.containerRef); }
  get threadEntityId(): u32 { return load<u32>(changetype<usize>(this), Ctx.threadEntityId); }
  get processEntityId(): u32 { return load<u32>(changetype<usize>(this), Ctx.processEntityId); }
  get parentEntityId(): u32 { return load<u32>(changetype<usize>(this), Ctx.parentEntityId); }
  /** comm, up to the first NUL. */
  get processName(): Bytes { return this.nulTrimmed(Ctx.processName); }
  /** UTS nodename, up to the first NUL. */
  get hostName(): Bytes { return this.nulTrimmed(Ctx.hostName); }
  get argsNum(): u32 { return <u32>load<u16>(changetype<usize>(this), Ctx.argsNum); }

  /** True if argument `i` is present (and lies inside the record). */
  hasArg(i: i32): bool { return this.argData(i, 0) != 0; }
  /** Byte length of argument `i` (0 if absent). */
  argLength(i: i32): u32 { return this.argData(i, 0) != 0 ? load<u32>(this.entry(i), 4) : 0; }

  argI32(i: i32): i32 { let p = this.argData(i, 4); return p ? load<i32>(p) : 0; }
  argU32(i: i32): u32 { let p = this.argData(i, 4); return p ? load<u32>(p) : 0; }
  argI64(i: i32): i64 { let p = this.argData(i, 8); return p ? load<i64>(p) : 0; }
  argU64(i: i32): u64 { let p = this.argData(i, 8); return p ? load<u64>(p) : 0; }
  argU16(i: i32): u16 { let p = this.argData(i, 2); return p ? load<u16>(p) : 0; }
  argBool(i: i32): bool { let p = this.argData(i, 1); return p ? load<u8>(p) != 0 : false; }

  /** A string or []byte argument (raw bytes); empty if absent. */
  argBytes(i: i32): Bytes {
    let p = this.argData(i, 0);
    return p ? Bytes.wrap(p, load<u32>(this.entry(i), 4)) : Bytes.empty();
  }

  /** A []string argument; empty if absent. */
  argStrings(i: i32): StringList {
    let p = this.argData(i, 0);
    return StringList.wrap(p, p ? load<u32>(this.entry(i), 4) : 0);
  }

  /** Address of argument table entry `i`, or 0 if `i` is past argsNum. */
  private entry(i: i32): usize {
    if (<u32>i >= this.argsNum) return 0;
    return changetype<usize>(this) + <usize>CONTEXT_SIZE + (<usize>i << 3);
  }

  /** Address of argument `i`'s data if present, in bounds and at least `minLen` long; else 0. */
  private argData(i: i32, minLen: u32): usize {
    let e = this.entry(i);
    if (e == 0) return 0;
    let offset = load<u32>(e);
    let len = load<u32>(e, 4);
    // The dispatcher validated the table; this guards the data itself.
    if (offset == 0 || len < minLen || <u64>offset + <u64>len > <u64>this.size) return 0;
    return changetype<usize>(this) + <usize>offset;
  }

  private nulTrimmed(offset: usize): Bytes {
    let p = changetype<usize>(this) + offset;
    let n: u32 = 0;
    while (n < NAME_SIZE && load<u8>(p + n) != 0) n++;
    return Bytes.wrap(p, n);
  }
}

/**
 * A []string argument: u32 count, then count × {u32 length, bytes}. Iterate
 * with iter() (linear) rather than at(i) in a loop (each at() walks from the
 * start). Malformed data ends the iteration early.
 *
 *   StringList (8 bytes, @unmanaged): | ptr: usize | len: u32 |
 */
@final @unmanaged
export class StringList {
  private _ptr!: usize;
  private _len!: u32;

  static wrap(ptr: usize, len: u32): StringList {
    let v = changetype<StringList>(allocView(offsetof<StringList>()));
    v._ptr = ptr;
    v._len = len;
    return v;
  }

  /** The declared number of strings (0 if absent). */
  get count(): i32 { return this._len >= 4 ? <i32>load<u32>(this._ptr) : 0; }

  /** A cursor over the strings; see StringIter. */
  iter(): StringIter {
    return StringIter.over(this._ptr, this._len);
  }

  /** The `i`-th string, or an empty view when out of range. */
  at(i: i32): Bytes {
    let it = this.iter();
    for (let k = 0; it.next(); k++) {
      if (k == i) return it.value;
    }
    return Bytes.empty();
  }

  /** True if some string equals `s` (a string literal or a Bytes). */
  includes<T>(s: T): bool {
    let it = this.iter();
    while (it.next()) if (it.value.equals<T>(s)) return true;
    return false;
  }

  /** The first string that starts with `prefix` (e.g. "LD_PRELOAD="), or an empty view if none does. */
  findPrefix<T>(prefix: T): Bytes {
    let it = this.iter();
    while (it.next()) if (it.value.startsWith<T>(prefix)) return it.value;
    return Bytes.empty();
  }
}

/**
 * Cursor over a StringList: `let it = list.iter(); while (it.next()) use(it.value);`
 * Each `value` is a fresh view, valid (like all views) until the handler returns.
 *
 *   StringIter (16 bytes, @unmanaged): | cur: usize | end: usize | left: u32 | value: Bytes |
 */
@final @unmanaged
export class StringIter {
  private cur!: usize;
  private end!: usize;
  private left!: u32;
  private _value!: Bytes;

  static over(ptr: usize, len: u32): StringIter {
    let it = changetype<StringIter>(allocView(offsetof<StringIter>()));
    let ok = len >= 4;
    it.cur = ok ? ptr + 4 : 0;
    it.end = ok ? ptr + <usize>len : 0;
    it.left = ok ? load<u32>(ptr) : 0;
    it._value = Bytes.empty();
    return it;
  }

  /** Moves to the next string; false when done (or the data is malformed). */
  next(): bool {
    if (this.left == 0 || this.end - this.cur < 4) return false;
    let n = load<u32>(this.cur);
    let data = this.cur + 4;
    if (<u64>(this.end - data) < <u64>n) {
      this.left = 0;
      return false;
    }
    this._value = Bytes.wrap(data, n);
    this.cur = data + <usize>n;
    this.left--;
    return true;
  }

  /** The current string (empty before the first next()). */
  get value(): Bytes { return this._value; }
}
