/**
 * Reads and rewrites the section list of a WebAssembly binary, just enough to
 * add, find and remove custom sections (the signing section must be removed
 * before a signature is checked). WebAssembly.Module only reads custom
 * sections, so this walk is hand-written; it is ~50 lines of the binary
 * format's framing (magic, version, then id + LEB128 size + payload).
 */
export interface Section {
  id: number;
  /** Custom sections (id 0) only. */
  name?: string;
  /** The whole section: id, size and payload. */
  start: number;
  end: number;
}

const HEADER = 8;

export function readSections(wasm: Uint8Array): Section[] {
  if (wasm.length < HEADER || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error('not a WebAssembly binary (bad magic)');
  }
  const sections: Section[] = [];
  let at = HEADER;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at++];
    const [size, sizeLen] = leb(wasm, at);
    at += sizeLen;
    const end = at + size;
    if (end > wasm.length) throw new Error(`section ${id} at byte ${start} runs past the end of the binary`);
    let name: string | undefined;
    if (id === 0) {
      const [nameLen, n] = leb(wasm, at);
      name = new TextDecoder().decode(wasm.subarray(at + n, at + n + nameLen));
    }
    sections.push({ id, name, start, end });
    at = end;
  }
  return sections;
}

/** The binary without the custom sections named `name`. */
export function withoutCustomSection(wasm: Uint8Array, name: string): Uint8Array {
  const keep = readSections(wasm).filter((s) => !(s.id === 0 && s.name === name));
  const parts = [wasm.subarray(0, HEADER), ...keep.map((s) => wasm.subarray(s.start, s.end))];
  return concat(parts);
}

/** The binary with a custom section appended. */
export function withCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const body = concat([encodeLeb(nameBytes.length), nameBytes, payload]);
  return concat([wasm, Uint8Array.of(0), encodeLeb(body.length), body]);
}

function leb(bytes: Uint8Array, at: number): [value: number, length: number] {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (at + i >= bytes.length) break;
    const b = bytes[at + i];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new Error(`bad LEB128 number at byte ${at}`);
}

function encodeLeb(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
