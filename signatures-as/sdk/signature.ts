/**
 * Signature metadata and registration. A signature file declares its
 * metadata once, at top level, and registers one handler:
 *
 *   register(new Metadata("TRC-102", "1", "Anti-Debugging detected", "anti_debugging", "…")
 *     .prop("Severity", 1).prop("Category", "defense-evasion")
 *     .select(EventId.ptrace, Origin.Any), onEvent);
 *
 * `tracee-rules build` runs the module once to read the metadata
 * (metadata-json.ts), writes it to the bundle's `tracee.signature` custom
 * section and strips the code that serialised it; at run time only the
 * handler and the selected event ids are used.
 */
import { Event } from "./event";
import { E_REGISTER_TWICE, E_EVENT_ID_RANGE, E_NO_SELECTION } from "./errors";

/** Where a selected event may come from (the ABI's `origin`). */
export enum Origin {
  /** "*": host and containers */
  Any = 0,
  /** "container": contextFlags.containerStarted */
  Container = 1,
  /** "host": not in a container */
  Host = 2,
}

export type Handler = (e: Event) => void;

/** The tag that marks a signature disabled by default (see Metadata.disabledByDefault). */
export const DISABLED_BY_DEFAULT_TAG = "disabled-by-default";

export enum PropKind { String = 0, Int = 1, Bool = 2 }

/*
 * Metadata is kept in linked lists rather than Arrays: it is built once at
 * start-up and only read by the build, and lists keep Array's growth code
 * out of the bundle.
 */

/** One metadata property; `str` holds strings, `int` integers and booleans. */
@final
export class Prop {
  next: Prop | null = null;
  constructor(public key: string, public kind: PropKind, public str: string, public int: i64) {}
}

@final
export class Tag {
  next: Tag | null = null;
  constructor(public value: string) {}
}

@final
export class Selection {
  next: Selection | null = null;
  constructor(public eventId: u32, public origin: Origin) {}
}

/** Tracee's SignatureMetadata plus the selected events, built fluently (in declaration order). */
@final
export class Metadata {
  tags: Tag | null = null;
  props: Prop | null = null;
  selections: Selection | null = null;
  private lastTag: Tag | null = null;
  private lastProp: Prop | null = null;
  private lastSelection: Selection | null = null;

  constructor(
    public id: string,
    public version: string,
    public name: string,
    public eventName: string,
    public description: string,
  ) {}

  tag(value: string): Metadata {
    let t = new Tag(value);
    let last = this.lastTag;
    if (last) last.next = t; else this.tags = t;
    this.lastTag = t;
    return this;
  }

  /** A property: a string, an integer or a boolean (e.g. "Severity", 3). */
  prop<T>(key: string, value: T): Metadata {
    let p: Prop;
    if (isString<T>()) {
      p = new Prop(key, PropKind.String, changetype<string>(value), 0);
    } else if (isBoolean<T>()) {
      p = new Prop(key, PropKind.Bool, "", value ? 1 : 0);
    } else if (isInteger<T>()) {
      p = new Prop(key, PropKind.Int, "", <i64>value);
    } else {
      ERROR("metadata property values must be strings, integers or booleans");
      return this;
    }
    let last = this.lastProp;
    if (last) last.next = p; else this.props = p;
    this.lastProp = p;
    return this;
  }

  /**
   * Ships the signature disabled: the host loads it but runs it only when
   * selected by ID or event name (`--rules`), as Tracee ships its noisy
   * TRC-108. Recorded as the tag DISABLED_BY_DEFAULT_TAG (docs/abi/bundle.md).
   */
  disabledByDefault(): Metadata {
    return this.tag(DISABLED_BY_DEFAULT_TAG);
  }

  /** Selects an event by catalogue id (EventId.*) and origin. */
  select(eventId: u32, origin: Origin = Origin.Any): Metadata {
    let s = new Selection(eventId, origin);
    let last = this.lastSelection;
    if (last) last.next = s; else this.selections = s;
    this.lastSelection = s;
    return this;
  }
}

// @ts-ignore: decorator
@inline const MAX_EVENT_ID: u32 = 8191;
/** Bitmap of selected event ids, for the dispatcher's defensive check. */
// @ts-ignore: decorator
@lazy const selectedIds: usize = memory.data(1024);

function ignoreEvent(e: Event): void {}

@final
export abstract class Registry {
  static metadata: Metadata | null = null;
  static handler: Handler = ignoreEvent;

  /** True if the registered signature selected `eventId`. */
  // @ts-ignore: decorator
  @inline static selects(eventId: u32): bool {
    return eventId <= MAX_EVENT_ID && (load<u8>(selectedIds + (eventId >> 3)) & (1 << (eventId & 7))) != 0;
  }
}

/** Registers this file's signature: its metadata and the handler called per selected event. */
export function register(metadata: Metadata, handler: Handler): void {
  if (Registry.metadata != null) throw new Error(E_REGISTER_TWICE);
  let s = metadata.selections;
  if (s == null) throw new Error(E_NO_SELECTION);
  while (s != null) {
    let id = s.eventId;
    if (id > MAX_EVENT_ID) throw new Error(E_EVENT_ID_RANGE);
    let byte = selectedIds + (id >> 3);
    store<u8>(byte, load<u8>(byte) | <u8>(<u32>1 << (id & 7)));
    s = s.next;
  }
  Registry.metadata = metadata;
  Registry.handler = handler;
}
