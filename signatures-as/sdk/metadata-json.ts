/**
 * Serialises the registered Metadata to JSON for `tracee-rules build`.
 *
 * Build-time only: the build calls the `tracee_metadata` export once, then
 * removes the export, so this code never ships in a bundle. It writes bytes
 * straight into a Scratch buffer with its own number formatting, because the
 * standard library's formatting would leave lookup tables in the bundle's
 * data segments, which dead-code elimination cannot remove. The output is
 * pure ASCII: every non-ASCII UTF-16 unit is written as a \uXXXX escape.
 *
 *   {"id","version","name","eventName","description","tags":[…],
 *    "properties":[["Severity",1],…],"selectedEvents":[{"id":101,"origin":"*"}]}
 *
 * Selected events are given by id (the build maps them to catalogue names);
 * properties are [key, value] pairs so the build can reject duplicate keys.
 */
import { Metadata, Origin, PropKind } from "./signature";
import { Scratch } from "./scratch";

function hexDigit(v: u32): u8 {
  return <u8>(v < 10 ? 0x30 + v : 0x61 + v - 10);
}

function writeString(out: Scratch, s: string): void {
  out.u8(0x22);
  for (let i = 0; i < s.length; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) {
      out.u8(0x5c);
      out.u8(<u8>c);
    } else if (c >= 0x20 && c < 0x7f) {
      out.u8(<u8>c);
    } else {
      out.u8(0x5c);
      out.u8(0x75); // \uXXXX
      for (let shift = 12; shift >= 0; shift -= 4) out.u8(hexDigit((c >> shift) & 0xf));
    }
  }
  out.u8(0x22);
}

function writeInt(out: Scratch, v: i64): void {
  // Digits of |v| as a u64 so i64.MIN_VALUE works, written backwards into 20 bytes.
  let magnitude: u64 = v < 0 ? <u64>(-v) : <u64>v;
  if (v < 0) out.u8(0x2d);
  let digits = memory.data(20);
  let n = 0;
  do {
    store<u8>(digits + n++, <u8>(0x30 + magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  while (n > 0) out.u8(load<u8>(digits + --n));
}

function originName(origin: Origin): string {
  if (origin == Origin.Container) return "container";
  if (origin == Origin.Host) return "host";
  return "*";
}

/** Writes `m` as JSON after a u32 byte-length prefix; returns the buffer address. */
export function metadataJson(m: Metadata): usize {
  let out = new Scratch(1024);
  out.u32(0);
  out.utf8("{\"id\":"); writeString(out, m.id);
  out.utf8(",\"version\":"); writeString(out, m.version);
  out.utf8(",\"name\":"); writeString(out, m.name);
  out.utf8(",\"eventName\":"); writeString(out, m.eventName);
  out.utf8(",\"description\":"); writeString(out, m.description);

  out.utf8(",\"tags\":[");
  let t = m.tags;
  while (t != null) {
    if (t != m.tags) out.u8(0x2c);
    writeString(out, t.value);
    t = t.next;
  }

  out.utf8("],\"properties\":[");
  let p = m.props;
  while (p != null) {
    if (p != m.props) out.u8(0x2c);
    out.u8(0x5b);
    writeString(out, p.key);
    out.u8(0x2c);
    if (p.kind == PropKind.String) writeString(out, p.str);
    else if (p.kind == PropKind.Bool) out.utf8(p.int != 0 ? "true" : "false");
    else writeInt(out, p.int);
    out.u8(0x5d);
    p = p.next;
  }

  out.utf8("],\"selectedEvents\":[");
  let s = m.selections;
  while (s != null) {
    if (s != m.selections) out.u8(0x2c);
    out.utf8("{\"id\":");
    writeInt(out, s.eventId);
    out.utf8(",\"origin\":");
    writeString(out, originName(s.origin));
    out.u8(0x7d);
    s = s.next;
  }
  out.utf8("]}");
  store<u32>(out.ptr, <u32>(out.len - 4));
  return out.ptr;
}
