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
import { E_REGISTER_TWICE, E_EVENT_ID_RANGE, E_NO_SELECTION, E_BAD_PROPERTY } from "./errors";

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

export enum PropKind { String = 0, Int = 1, Float = 2, Bool = 3 }

/** One metadata property; only the field matching `kind` is meaningful. */
@final
export class Prop {
  constructor(
    public key: string,
    public kind: PropKind,
    public str: string = "",
    public int: i64 = 0,
    public float: f64 = 0,
  ) {}
}

@final
export class Selection {
  constructor(public eventId: u32, public origin: Origin) {}
}

/** Tracee's SignatureMetadata plus the selected events, built fluently. */
@final
export class Metadata {
  tags: string[] = [];
  props: Prop[] = [];
  selections: Selection[] = [];

  constructor(
    public id: string,
    public version: string,
    public name: string,
    public eventName: string,
    public description: string,
  ) {}

  tag(tag: string): Metadata {
    this.tags.push(tag);
    return this;
  }

  /** A property: a string, an integer, a float or a boolean (e.g. "Severity", 3). */
  prop<T>(key: string, value: T): Metadata {
    if (isString<T>()) {
      this.props.push(new Prop(key, PropKind.String, changetype<string>(value)));
    } else if (isBoolean<T>()) {
      this.props.push(new Prop(key, PropKind.Bool, "", value ? 1 : 0));
    } else if (isInteger<T>()) {
      this.props.push(new Prop(key, PropKind.Int, "", <i64>value));
    } else if (isFloat<T>()) {
      this.props.push(new Prop(key, PropKind.Float, "", 0, <f64>value));
    } else {
      ERROR(E_BAD_PROPERTY);
    }
    return this;
  }

  /** Selects an event by catalogue id (EventId.*) and origin. */
  select(eventId: u32, origin: Origin = Origin.Any): Metadata {
    this.selections.push(new Selection(eventId, origin));
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
  let selections = metadata.selections;
  if (selections.length == 0) throw new Error(E_NO_SELECTION);
  for (let i = 0; i < selections.length; i++) {
    let id = selections[i].eventId;
    if (id > MAX_EVENT_ID) throw new Error(E_EVENT_ID_RANGE);
    let byte = selectedIds + (id >> 3);
    store<u8>(byte, load<u8>(byte) | <u8>(<u32>1 << (id & 7)));
  }
  Registry.metadata = metadata;
  Registry.handler = handler;
}
