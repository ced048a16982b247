/**
 * Hostile and misbehaving bundles for the sandbox, limits and reload tests,
 * written as WebAssembly text over the echo bundle of wat-bundle.ts (which
 * emits {"n": index} for every record it receives). Each replaces the echo
 * bundle's first statement (reading the record count) with its misdeed.
 */
import { echoBundleWat, metadata, watModule } from './wat-bundle.ts';
import { CTX } from '../../host/events/layout.ts';

const FIRST = '(local.set $n (i32.load offset=8 (local.get $ptr)))';

function replaceFirst(body: string, wat = echoBundleWat()): string {
  if (!wat.includes(FIRST)) throw new Error('echo bundle changed: cannot find its first statement');
  return wat.replace(FIRST, body);
}

export const HOSTILE = {
  /** tracee_on_batch never returns. */
  infiniteLoop: () => replaceFirst('(loop $spin (br $spin))'),
  /** Grows its memory a page at a time until memory.grow fails, then traps (what AssemblyScript's allocator does). */
  memoryGrowth: () => replaceFirst('(block $full (loop $grow (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1))) (br $grow))) unreachable'),
  /** Emits a finding claiming 16 MiB of data. */
  hugeFinding: () => replaceFirst(`(call $emit (i32.const 0) (i32.const 0) (i32.const ${16 << 20})) ${FIRST}`),
  /** Emits `count` findings for its first record, then echoes. */
  manyFindings: (count: number) => replaceFirst(`(loop $more (call $emit (i32.const 0) (i32.const 64) (i32.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $more (i32.lt_u (local.get $i) (i32.const ${count}))))
    (local.set $i (i32.const 0)) ${FIRST}`),
  /** Its start function never returns: instantiating it hangs. */
  startLoop: () => echoBundleWat().replace('(memory (export "memory") 1)', '(memory (export "memory") 1) (func $start (loop $spin (br $spin))) (start $start)'),
  /** Traps after its first finding of each batch. */
  trapMidBatch: () => echoBundleWat(1),
  /** Imports something outside the SDK. */
  wasiImport: () => echoBundleWat(-1, '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))'),
};

/**
 * For each record: asks tracee.container_get for field `field` of its
 * container (up to 64 bytes at 256) and emits {"c": value} (string), or
 * {"c": ""} for an unknown container.
 */
export function containerFieldWat(field: number): string {
  return `(module
  (import "tracee" "emit_finding" (func $emit (param i32 i32 i32)))
  (import "tracee" "container_get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "tracee_abi_version") i32 (i32.const 1))
  (func (export "tracee_input") (param $size i32) (result i32)
    (local $need i32)
    (local.set $need (i32.sub (i32.shr_u (i32.add (local.get $size) (i32.const 66559)) (i32.const 16)) (memory.size)))
    (if (i32.gt_s (local.get $need) (i32.const 0)) (then (drop (memory.grow (local.get $need)))))
    (i32.const 1024))
  (func (export "tracee_on_batch") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $n i32) (local $rec i32) (local $got i32) (local $k i32)
    (local.set $n (i32.load offset=8 (local.get $ptr)))
    (local.set $rec (i32.add (local.get $ptr) (i32.load16_u offset=6 (local.get $ptr))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $got (call $get (i32.load offset=${CTX.containerRef} (local.get $rec)) (i32.const ${field}) (i32.const 256) (i32.const 64)))
      (if (i32.lt_s (local.get $got) (i32.const 0)) (then (local.set $got (i32.const 0))))
      ;; data at 128: kind 1 (string), key "c", u32 length, then the value copied from 256
      (i32.store8 (i32.const 128) (i32.const 1))
      (i32.store16 (i32.const 129) (i32.const 1))
      (i32.store8 (i32.const 131) (i32.const 99))
      (i32.store (i32.const 132) (local.get $got))
      (local.set $k (i32.const 0))
      (block $copied (loop $copy
        (br_if $copied (i32.ge_u (local.get $k) (local.get $got)))
        (i32.store8 (i32.add (i32.const 136) (local.get $k)) (i32.load8_u (i32.add (i32.const 256) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $copy)))
      (call $emit (local.get $i) (i32.const 128) (i32.add (i32.const 8) (local.get $got)))
      (local.set $rec (i32.add (local.get $rec) (i32.load (local.get $rec))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $n)))`;
}

/** A bundle file's bytes: `wat` with metadata for signature `id` selecting `events`. */
export function bundleBytes(wat: string, id: string, events: string[] = ['ptrace']): Uint8Array {
  return watModule(wat, metadata(id, events.map((name) => ({ name }))));
}
