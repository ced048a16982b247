/**
 * Builds hand-written bundles from WebAssembly text with binaryen (a
 * dependency of assemblyscript), for engine tests that need exact control:
 * a bundle that reports every record it receives, one that traps, one with a
 * forbidden import, broken metadata.
 */
import binaryen from 'binaryen';
import { METADATA_SECTION } from '../../host/engine/metadata.ts';

export function watModule(wat: string, metadata?: unknown): Uint8Array {
  const mod = binaryen.parseText(wat);
  try {
    if (!mod.validate()) throw new Error('invalid test module');
    if (metadata !== undefined) {
      const text = typeof metadata === 'string' ? metadata : JSON.stringify(metadata);
      mod.addCustomSection(METADATA_SECTION, new TextEncoder().encode(text));
    }
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

export function metadata(id: string, selectedEvents: Array<{ name: string; origin?: string }>, extra: Record<string, unknown> = {}) {
  return {
    abi: 1, id, version: '1', name: `test ${id}`, eventName: `test_${id.toLowerCase().replace(/-/g, '_')}`, description: 'test signature',
    tags: [], properties: { Severity: 1 }, selectedEvents: selectedEvents.map((s) => ({ source: 'tracee', origin: '*', ...s })), ...extra,
  };
}

/** Memory growth for tracee_input: the input buffer lives at 1024. */
const INPUT = `
  (func (export "tracee_input") (param $size i32) (result i32)
    (local $need i32)
    (local.set $need (i32.sub (i32.shr_u (i32.add (local.get $size) (i32.const 66559)) (i32.const 16)) (memory.size)))
    (if (i32.gt_s (local.get $need) (i32.const 0)) (then (drop (memory.grow (local.get $need)))))
    (i32.const 1024))`;

/**
 * Emits one finding per record it receives, with data {"n": <record index>}
 * built at address 64; `trapAfter` >= 0 traps after that many findings.
 */
export function echoBundleWat(trapAfter = -1, extraImports = ''): string {
  return `(module
  (import "tracee" "emit_finding" (func $emit (param i32 i32 i32)))
  ${extraImports}
  (memory (export "memory") 1)
  (global (export "tracee_abi_version") i32 (i32.const 1))
  ${INPUT}
  (func (export "tracee_on_batch") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $n i32)
    (local.set $n (i32.load offset=8 (local.get $ptr)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eq (local.get $i) (i32.const ${trapAfter})) (then unreachable))
      ;; data: kind 2 (int64), key "n", value i
      (i32.store8 (i32.const 64) (i32.const 2))
      (i32.store16 (i32.const 65) (i32.const 1))
      (i32.store8 (i32.const 67) (i32.const 110))
      (i64.store (i32.const 68) (i64.extend_i32_u (local.get $i)))
      (call $emit (local.get $i) (i32.const 64) (i32.const 12))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $n)))`;
}
