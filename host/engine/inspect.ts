/**
 * `tracee-rules inspect BUNDLE`: what a bundle is, read without running any
 * of its code — metadata, ABI version, imports (and whether the sandbox
 * allows each), exports, size, content hash, custom sections and signature
 * status. A bundle the host would refuse is still described, with the
 * reasons in `problems`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ALLOWED_IMPORTS, Bundle, BUNDLE_ABI_VERSION, readSignatures } from './bundle.ts';
import { isRegoBundle, REGO_ALLOWED_IMPORTS } from './rego-glue.ts';
import type { SignatureMetadata } from './metadata.ts';
import { checkSignature, type SignatureStatus, type TrustedKey } from './signing.ts';
import { readSections } from './wasm-sections.ts';

export interface BundleInspection {
  path: string;
  size: number;
  /** SHA-256 of the file, hex. */
  sha256: string;
  /** The `tracee.signature` section, when valid. */
  metadata: SignatureMetadata | null;
  /** A multi-signature module's (the Rego all-in-one's) signatures, in entrypoint order, when valid; else empty. */
  members: SignatureMetadata[];
  /** The value of the exported global `tracee_abi_version` (its initialiser), if it has one. */
  abiVersion: number | null;
  imports: Array<{ module: string; name: string; kind: string; allowed: boolean }>;
  exports: Array<{ name: string; kind: string }>;
  customSections: Array<{ name: string; size: number }>;
  signature: SignatureStatus;
  /** Whether trusted keys were given: without them a signature can be read but not verified. */
  verified: boolean;
  /** Why the host would refuse it; empty when it would load. */
  problems: string[];
}

export async function inspectBundle(path: string, trustedKeys?: readonly TrustedKey[]): Promise<BundleInspection> {
  const bytes = new Uint8Array(await readFile(path));
  const result: BundleInspection = {
    path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), metadata: null, members: [], abiVersion: null,
    imports: [], exports: [], customSections: [], signature: { state: 'unsigned' }, verified: trustedKeys !== undefined, problems: [],
  };
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (err) {
    result.problems.push(`not a valid WebAssembly module: ${(err as Error).message}`);
    return result;
  }
  const allowed = isRegoBundle(module) ? REGO_ALLOWED_IMPORTS : ALLOWED_IMPORTS;
  result.imports = WebAssembly.Module.imports(module).map((i) => ({ ...i, allowed: allowed[`${i.module}.${i.name}`] === i.kind }));
  result.exports = WebAssembly.Module.exports(module).map((e) => ({ name: e.name, kind: e.kind }));
  for (const s of readSections(bytes)) if (s.id === 0) result.customSections.push({ name: s.name!, size: s.end - s.start });
  try {
    const signatures = readSignatures(module);
    if (signatures[0].member === undefined) result.metadata = signatures[0].metadata;
    else result.members = signatures.map((x) => x.metadata);
  } catch {
    // reported by the host's own validation below
  }
  // What the host says when it loads it (imports, exports, metadata, memory limit), without running it.
  const name = basename(path);
  try {
    await Bundle.compileFile(name, bytes);
  } catch (err) {
    result.problems.push((err as Error).message.replace(`bundle ${name}: `, ''));
  }
  result.abiVersion = exportedI32Global(bytes, 'tracee_abi_version');
  if (result.abiVersion === null) result.problems.push('no exported i32 global tracee_abi_version with a constant value');
  else if (result.abiVersion !== BUNDLE_ABI_VERSION) result.problems.push(`ABI version ${result.abiVersion} is not supported (this host supports ${BUNDLE_ABI_VERSION})`);
  result.signature = checkSignature(bytes, trustedKeys ?? []);
  if (trustedKeys && result.signature.state !== 'valid') {
    result.problems.push(result.signature.state === 'unsigned' ? 'not signed' : `signature: ${result.signature.reason}`);
  }
  return result;
}

/** The inspection as text, one field per line (`tracee-rules inspect`). */
export function formatInspection(r: BundleInspection): string {
  const lines = [
    `bundle:     ${r.path}`,
    `size:       ${r.size} bytes`,
    `sha256:     ${r.sha256}`,
    `abi:        ${r.abiVersion ?? 'unknown'}`,
    `signature:  ${formatSignature(r)}`,
  ];
  if (r.metadata) {
    const m = r.metadata;
    lines.push('metadata:',
      `  id:             ${m.id}`,
      `  version:        ${m.version}`,
      `  name:           ${m.name}`,
      `  eventName:      ${m.eventName}`,
      `  description:    ${m.description}`,
      `  tags:           ${m.tags.join(', ') || '-'}`,
      `  properties:     ${Object.entries(m.properties).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}`,
      `  selectedEvents: ${m.selectedEvents.map((s) => `${s.name} (origin ${s.origin})`).join(', ')}`);
  }
  if (r.members.length) {
    lines.push(`signatures:  ${r.members.length} in one module (Rego all-in-one)`,
      ...r.members.map((m, i) => `  ${i}: ${m.id} v${m.version} ${m.eventName}: ${m.selectedEvents.map((s) => s.name).join(', ')}`));
  }
  lines.push('imports:', ...(r.imports.length ? r.imports.map((i) => `  ${i.module}.${i.name} (${i.kind})${i.allowed ? '' : '  NOT ALLOWED'}`) : ['  -']));
  lines.push('exports:', ...(r.exports.length ? r.exports.map((e) => `  ${e.name} (${e.kind})`) : ['  -']));
  if (r.customSections.length) lines.push('custom sections:', ...r.customSections.map((s) => `  ${s.name} (${s.size} bytes)`));
  lines.push(r.problems.length ? `problems:\n${r.problems.map((p) => `  ${p}`).join('\n')}` : 'problems:   none (the host would load it)');
  return `${lines.join('\n')}\n`;
}

function formatSignature(r: BundleInspection): string {
  const s = r.signature;
  if (s.state === 'unsigned') return 'unsigned';
  if (s.state === 'valid') return `valid, key ${s.keyId} (${s.file})`;
  if (!r.verified && s.keyId && /not among the trusted keys/.test(s.reason)) return `signed by key ${s.keyId}, not verified (no trusted keys given)`;
  return `INVALID: ${s.reason}`;
}

/**
 * The constant initialiser of an exported i32 global, read from the binary
 * (global and export sections; imported globals come first in the index
 * space). Null when there is no such export or it is not an i32.const.
 */
function exportedI32Global(wasm: Uint8Array, name: string): number | null {
  const sections = readSections(wasm);
  const payload = (id: number) => {
    const s = sections.find((x) => x.id === id);
    if (!s) return undefined;
    const r = new Reader(wasm, s.start + 1);
    r.u32(); // section size
    return r;
  };
  let index: number | undefined;
  const exp = payload(7);
  if (!exp) return null;
  for (let n = exp.u32(); n > 0; n--) {
    const field = exp.name();
    const kind = exp.byte();
    const i = exp.u32();
    if (field === name && kind === 3) index = i;
  }
  if (index === undefined) return null;
  let imported = 0;
  const imp = payload(2);
  if (imp) {
    for (let n = imp.u32(); n > 0; n--) {
      imp.name();
      imp.name();
      const kind = imp.byte();
      if (kind === 0) imp.u32();
      else if (kind === 1) { imp.byte(); imp.limits(); }
      else if (kind === 2) imp.limits();
      else if (kind === 3) { imp.byte(); imp.byte(); imported++; }
      else if (kind === 4) { imp.byte(); imp.u32(); }
      else return null;
    }
  }
  if (index < imported) return null;
  const glob = payload(6);
  if (!glob) return null;
  const count = glob.u32();
  for (let i = 0; i < count; i++) {
    const type = glob.byte();
    glob.byte(); // mutability
    const op = glob.byte();
    if (i + imported === index) return type === 0x7f && op === 0x41 ? glob.s32() : null;
    // Skip the rest of this constant expression (const instructions, global.get; ends with 0x0b).
    let b = op;
    while (b !== 0x0b) {
      if (b === 0x41 || b === 0x42) glob.s64();
      else if (b === 0x43) glob.skip(4);
      else if (b === 0x44) glob.skip(8);
      else if (b === 0x23 || b === 0xd2) glob.u32();
      else if (b === 0xd0) glob.byte();
      else if (b !== 0x6a && b !== 0x6b && b !== 0x6c && b !== 0x7c && b !== 0x7d && b !== 0x7e) return null;
      b = glob.byte();
    }
  }
  return null;
}

class Reader {
  constructor(private readonly bytes: Uint8Array, private at: number) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new Error('unexpected end of the binary');
    return this.bytes[this.at++];
  }

  skip(n: number): void {
    this.at += n;
  }

  u32(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  }

  s32(): number {
    return Number(this.s64());
  }

  s64(): bigint {
    let value = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.byte();
      value |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (b & 0x40) value -= 1n << shift;
    return value;
  }

  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }

  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}
