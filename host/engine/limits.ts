/**
 * Per-bundle limits (docs/sandbox.md): the most linear memory a bundle may
 * have, the most findings it may emit in one batch, the largest finding it
 * may emit, and (sandbox only) how long one call into it may run. Exceeding
 * one disables that bundle with a BundleLimitError, counted in
 * EngineStats.limitsExceeded; the other bundles are unaffected.
 *
 * The memory limit is enforced by WebAssembly itself: before compiling, the
 * bundle's memory declaration gets a maximum of at most the limit
 * (`limitMemory`), so `memory.grow` beyond it fails inside the bundle.
 */
import { TraceeError } from '../errors.ts';
import { readSections } from './wasm-sections.ts';

export interface BundleLimits {
  /** Bytes of linear memory (a multiple of 64 KiB is exact; others round down). */
  maxMemoryBytes: number;
  /** Findings one bundle may emit for one batch. */
  maxFindingsPerBatch: number;
  /** Bytes of one finding's encoded data (docs/abi/bundle.md, "Finding data encoding"). */
  maxFindingBytes: number;
}

export const WASM_PAGE = 65536;
export const MIB = 1 << 20;

export const DEFAULT_LIMITS: Readonly<BundleLimits> = Object.freeze({
  maxMemoryBytes: 64 * MIB,
  maxFindingsPerBatch: 65_536,
  maxFindingBytes: 256 * 1024,
});

/** Default time budget of one call into a bundle under the sandbox (sandbox/engine.ts). */
export const DEFAULT_BATCH_BUDGET_MS = 1000;

export type LimitKind = 'memory' | 'findings' | 'finding-size' | 'time';

/** A bundle went past one of its limits; the engine disables it. */
export class BundleLimitError extends TraceeError {
  constructor(readonly limit: LimitKind, message: string) {
    super('TRC_ERR_BUNDLE_LIMIT', message);
  }
}

/** `limits` over the defaults, each checked to be a positive integer (InvalidArgument-style message). */
export function resolveLimits(limits: Partial<BundleLimits> = {}): BundleLimits {
  const out = { ...DEFAULT_LIMITS, ...stripUndefined(limits) };
  for (const [key, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`limit ${key} must be a positive integer, got ${value}`);
  }
  if (out.maxMemoryBytes < WASM_PAGE) throw new RangeError(`limit maxMemoryBytes must be at least one 64 KiB page, got ${out.maxMemoryBytes}`);
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function formatBytes(n: number): string {
  if (n >= MIB) return `${n % MIB === 0 ? n / MIB : (n / MIB).toFixed(1)} MiB`;
  if (n >= 1024) return `${n % 1024 === 0 ? n / 1024 : (n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * The module with each memory it defines capped at `maxBytes` (rounded down
 * to pages): a missing or larger maximum is replaced. Returns the input
 * itself when nothing needs to change. Throws an Error (the caller adds the
 * bundle's name) when a memory's initial size is already above the limit or
 * it is a 64-bit memory. Imported memories are left alone (the host refuses
 * them).
 */
export function limitMemory(wasm: Uint8Array, maxBytes: number): Uint8Array {
  const maxPages = Math.floor(maxBytes / WASM_PAGE);
  const section = readSections(wasm).find((s) => s.id === MEMORY_SECTION);
  if (!section) return wasm;
  let at = section.start + 1;
  const [size, sizeLen] = readLeb(wasm, at);
  at += sizeLen;
  const end = at + size;
  const [count, countLen] = readLeb(wasm, at);
  at += countLen;
  const out: number[] = [...encodeLeb(count)];
  let changed = false;
  for (let i = 0; i < count; i++) {
    const flags = wasm[at++];
    if (flags & FLAG_MEMORY64) throw new Error('64-bit memories are not supported');
    const [min, minLen] = readLeb(wasm, at);
    at += minLen;
    let max = Infinity;
    if (flags & FLAG_HAS_MAX) {
      const [m, maxLen] = readLeb(wasm, at);
      at += maxLen;
      max = m;
    }
    if (min > maxPages) {
      throw new BundleLimitError('memory', `its memory starts at ${formatBytes(min * WASM_PAGE)}, above the memory limit of ${formatBytes(maxPages * WASM_PAGE)}`);
    }
    if (max > maxPages) changed = true;
    out.push(flags | FLAG_HAS_MAX, ...encodeLeb(min), ...encodeLeb(Math.min(max, maxPages)));
  }
  if (at !== end) throw new Error(`memory section: ${end - at} unexpected trailing bytes`);
  if (!changed) return wasm;
  const payload = Uint8Array.from(out);
  const header = [MEMORY_SECTION, ...encodeLeb(payload.length)];
  const result = new Uint8Array(wasm.length - (section.end - section.start) + header.length + payload.length);
  result.set(wasm.subarray(0, section.start));
  result.set(header, section.start);
  result.set(payload, section.start + header.length);
  result.set(wasm.subarray(section.end), section.start + header.length + payload.length);
  return result;
}

const MEMORY_SECTION = 5;
const FLAG_HAS_MAX = 0x01;
const FLAG_MEMORY64 = 0x04;

function readLeb(bytes: Uint8Array, at: number): [value: number, length: number] {
  let value = 0;
  for (let i = 0; i < 5 && at + i < bytes.length; i++) {
    const b = bytes[at + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [value, i + 1];
  }
  throw new Error(`bad LEB128 number at byte ${at}`);
}

function encodeLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
