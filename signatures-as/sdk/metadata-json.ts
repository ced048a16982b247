/**
 * Serialises the registered Metadata to JSON for `tracee-rules build`.
 *
 * Build-time only: the build calls the `tracee_metadata` export once, then
 * removes the export, so this code (and its allocations) never ships in a
 * bundle. Selected events are given by id; the build maps ids to catalogue
 * names. Properties are a list of [key, value] pairs so the build can
 * reject duplicate keys:
 *
 *   {"id","version","name","eventName","description","tags":[…],
 *    "properties":[["Severity",1],…],"selectedEvents":[{"id":101,"origin":"*"}]}
 */
import { Metadata, Origin, PropKind } from "./signature";

function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

function originName(origin: Origin): string {
  if (origin == Origin.Container) return "container";
  if (origin == Origin.Host) return "host";
  return "*";
}

export function metadataJson(m: Metadata): string {
  let tags = new Array<string>();
  for (let i = 0; i < m.tags.length; i++) tags.push(quote(m.tags[i]));

  let props = new Array<string>();
  for (let i = 0; i < m.props.length; i++) {
    let p = m.props[i];
    let value: string;
    if (p.kind == PropKind.String) value = quote(p.str);
    else if (p.kind == PropKind.Bool) value = p.int != 0 ? "true" : "false";
    else if (p.kind == PropKind.Int) value = p.int.toString();
    // NaN/Infinity have no JSON form: null, which the build rejects.
    else value = isFinite(p.float) ? p.float.toString() : "null";
    props.push("[" + quote(p.key) + "," + value + "]");
  }

  let events = new Array<string>();
  for (let i = 0; i < m.selections.length; i++) {
    let s = m.selections[i];
    events.push("{\"id\":" + s.eventId.toString() + ",\"origin\":" + quote(originName(s.origin)) + "}");
  }

  return "{\"id\":" + quote(m.id)
    + ",\"version\":" + quote(m.version)
    + ",\"name\":" + quote(m.name)
    + ",\"eventName\":" + quote(m.eventName)
    + ",\"description\":" + quote(m.description)
    + ",\"tags\":[" + tags.join(",") + "]"
    + ",\"properties\":[" + props.join(",") + "]"
    + ",\"selectedEvents\":[" + events.join(",") + "]}";
}
