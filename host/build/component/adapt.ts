/**
 * Turns a signature bundle's core module into the core module of a
 * `tracee:signature/signature` component (docs/wit/signature.wit), with
 * binaryen, in place: the canonical ABI wants other names and a few functions
 * the bundle ABI does not have.
 *
 *  imports   tracee.emit_finding, tracee.log: renamed to the `host` interface
 *            (their lowered signatures are the same);
 *            env.abort: a function that measures AssemblyScript's UTF-16
 *            strings and calls `host.abort`, then traps;
 *            tracee.container_get: a function that calls `host.container-get`
 *            and copies the value into the caller's buffer.
 *  exports   `detector#on-batch` calls tracee_on_batch; `detector#metadata`
 *            writes the metadata JSON (stored as constants, from the
 *            bundle's `tracee.signature` section) into fresh memory;
 *            `cabi_realloc` allocates for the canonical ABI; the bundle
 *            ABI's own exports are removed.
 *
 * Memory for the canonical ABI (a lowered batch, a container value, the
 * metadata string) comes from a bump region the adapter takes with
 * memory.grow and reuses from one call to the next. AssemblyScript's
 * incremental and minimal runtimes (TLSF) only claim memory they grew
 * themselves, so the region stays the adapter's; the stub runtime would not.
 *
 * Deterministic: the same bundle gives the same module.
 */
import binaryen from 'binaryen';
import { METADATA_SECTION } from '../../engine/metadata.ts';

export const WIT_PACKAGE = 'tracee:signature@1.0.0';
export const WIT_WORLD = 'signature';
const HOST = 'tracee:signature/host@1.0.0';
const DETECTOR = 'tracee:signature/detector@1.0.0';

/** The features asc enables (as in finalize.ts); binaryen needs them to read and write the module. */
const FEATURES = binaryen.Features.MutableGlobals | binaryen.Features.SignExt
  | binaryen.Features.NontrappingFPToInt | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt;

const BUNDLE_EXPORTS = ['tracee_abi_version', 'tracee_input', 'tracee_on_batch'];

export function adaptCoreModule(core: Uint8Array): Uint8Array {
  const metadata = WebAssembly.Module.customSections(new WebAssembly.Module(core as Uint8Array<ArrayBuffer>), METADATA_SECTION);
  if (metadata.length !== 1) throw new Error(`the bundle has ${metadata.length} "${METADATA_SECTION}" sections, not one`);
  const m = binaryen.readBinary(core);
  try {
    m.setFeatures(FEATURES);
    new Adapter(m).build(new Uint8Array(metadata[0]));
    if (!m.validate()) throw new Error('the adapted module does not validate');
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

const { i32, none } = binaryen;
const i32s = (n: number) => binaryen.createType(Array<binaryen.Type>(n).fill(i32));

class Adapter {
  constructor(private readonly m: binaryen.Module) {}

  build(metadataJson: Uint8Array): void {
    const m = this.m;
    const onBatch = this.exportedFunction('tracee_on_batch');
    this.adaptImports();
    for (const name of BUNDLE_EXPORTS) m.removeExport(name);

    m.addGlobal('adapter_bump', i32, true, m.i32.const(0));
    m.addGlobal('adapter_base', i32, true, m.i32.const(0));
    m.addGlobal('adapter_end', i32, true, m.i32.const(0));
    this.addAlloc();
    this.addRealloc();

    // detector#on-batch: the batch was lowered into the bump region; run, then free the region.
    m.addFunction('adapter_on_batch', i32s(2), i32, [i32], m.block(null, [
      m.local.set(2, m.call(onBatch, [m.local.get(0, i32), m.local.get(1, i32)], i32)),
      m.global.set('adapter_bump', m.global.get('adapter_base', i32)),
      m.local.get(2, i32),
    ], i32));
    m.addFunctionExport('adapter_on_batch', `${DETECTOR}#on-batch`);

    // detector#metadata: (ptr, len) of the JSON, in a return area; post-return frees the region.
    const len = metadataJson.length;
    const stores: binaryen.ExpressionRef[] = [];
    const data = () => m.local.get(1, i32);
    for (let at = 0; at < len; at += 8) {
      const chunk = new Uint8Array(8);
      chunk.set(metadataJson.subarray(at, at + 8));
      const v = new DataView(chunk.buffer);
      stores.push(m.i64.store(at, 1, data(), m.i64.const(v.getBigInt64(0, true) as unknown as number)));
    }
    m.addFunction('adapter_metadata', none, i32, [i32, i32], m.block(null, [
      m.local.set(0, m.call('adapter_alloc', [m.i32.const(8)], i32)),
      m.local.set(1, m.call('adapter_alloc', [m.i32.const((len + 7) & ~7)], i32)),
      ...stores,
      m.i32.store(0, 4, m.local.get(0, i32), data()),
      m.i32.store(4, 4, m.local.get(0, i32), m.i32.const(len)),
      m.local.get(0, i32),
    ], i32));
    m.addFunctionExport('adapter_metadata', `${DETECTOR}#metadata`);
    m.addFunction('adapter_post_metadata', i32, none, [], m.global.set('adapter_bump', m.global.get('adapter_base', i32)));
    m.addFunctionExport('adapter_post_metadata', `cabi_post_${DETECTOR}#metadata`);
  }

  private exportedFunction(name: string): string {
    const ref = this.m.getExport(name);
    if (!ref) throw new Error(`the bundle does not export ${name}`);
    return binaryen.getExportInfo(ref).value;
  }

  /** Renames or wraps each import (see the file comment); any other import is refused. */
  private adaptImports(): void {
    const m = this.m;
    const imports: binaryen.FunctionInfo[] = [];
    for (let i = 0; i < m.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
      if (info.module) imports.push(info);
    }
    for (const f of imports) {
      m.removeFunction(f.name);
      switch (`${f.module}.${f.base}`) {
        case 'tracee.emit_finding':
          m.addFunctionImport(f.name, HOST, 'emit-finding', f.params, f.results);
          break;
        case 'tracee.log':
          m.addFunctionImport(f.name, HOST, 'log', f.params, f.results);
          break;
        case 'env.abort':
          this.addAbort(f.name);
          break;
        case 'tracee.container_get':
          this.addContainerGet(f.name);
          break;
        default:
          throw new Error(`import ${f.module}.${f.base} has no component equivalent`);
      }
    }
  }

  /** env.abort(msg, file, line, col) → host.abort(msg bytes, file bytes, line, col); unreachable. */
  private addAbort(name: string): void {
    const m = this.m;
    m.addFunctionImport('adapter_host_abort', HOST, 'abort', i32s(6), none);
    // An AssemblyScript string's byte length is the u32 before it; 0 for a null pointer.
    const bytes = (local: number) => m.if(m.local.get(local, i32), m.i32.load(0, 4, m.i32.sub(m.local.get(local, i32), m.i32.const(4))), m.i32.const(0));
    m.addFunction(name, i32s(4), none, [], m.block(null, [
      m.call('adapter_host_abort', [m.local.get(0, i32), bytes(0), m.local.get(1, i32), bytes(1), m.local.get(2, i32), m.local.get(3, i32)], none),
      m.unreachable(),
    ]));
  }

  /**
   * tracee.container_get(ref, field, out, cap) → i32 over host.container-get:
   * the variant comes back in a return area (u8 case at 0; for `value`, the
   * list's pointer at 4 and length at 8).
   */
  private addContainerGet(name: string): void {
    const m = this.m;
    m.addFunctionImport('adapter_host_container_get', HOST, 'container-get', i32s(3), none);
    const ret = () => m.local.get(4, i32);
    const len = () => m.local.get(5, i32);
    m.addFunction(name, i32s(4), i32, [i32, i32], m.block(null, [
      m.local.set(4, m.call('adapter_alloc', [m.i32.const(12)], i32)),
      m.call('adapter_host_container_get', [m.local.get(0, i32), m.local.get(1, i32), ret()], none),
      m.if(m.i32.eq(m.i32.load8_u(0, 1, ret()), m.i32.const(0)), m.return(m.i32.const(-1))),
      m.if(m.i32.eq(m.i32.load8_u(0, 1, ret()), m.i32.const(1)), m.return(m.i32.const(-2))),
      m.local.set(5, m.i32.load(8, 4, ret())),
      m.if(m.i32.le_u(len(), m.local.get(3, i32)), m.memory.copy(m.local.get(2, i32), m.i32.load(4, 4, ret()), len())),
      len(),
    ], i32));
  }

  /** adapter_alloc(size) → 8-aligned bytes from the bump region, growing memory for a new region when it is full. */
  private addAlloc(): void {
    const m = this.m;
    const size = () => m.local.get(0, i32);
    const p = () => m.local.get(1, i32);
    const pages = () => m.local.get(2, i32);
    m.addFunction('adapter_alloc', i32, i32, [i32, i32, i32], m.block(null, [
      m.local.set(1, m.i32.and(m.i32.add(m.global.get('adapter_bump', i32), m.i32.const(7)), m.i32.const(~7))),
      m.if(m.i32.gt_u(m.i32.add(p(), size()), m.global.get('adapter_end', i32)), m.block(null, [
        m.local.set(2, m.i32.shr_u(m.i32.add(size(), m.i32.const(0xffff)), m.i32.const(16))),
        m.local.set(1, m.memory.grow(m.if(pages(), pages(), m.i32.const(1)))),
        m.if(m.i32.eq(p(), m.i32.const(-1)), m.unreachable()),
        m.local.set(1, m.i32.shl(p(), m.i32.const(16))),
        m.global.set('adapter_base', p()),
        m.global.set('adapter_end', m.i32.add(p(), m.i32.shl(m.if(pages(), pages(), m.i32.const(1)), m.i32.const(16)))),
      ])),
      m.global.set('adapter_bump', m.i32.add(p(), size())),
      p(),
    ], i32));
  }

  /** cabi_realloc(old, oldSize, align, newSize): from the bump region (alignment up to 8), old contents copied. */
  private addRealloc(): void {
    const m = this.m;
    m.addFunction('adapter_realloc', i32s(4), i32, [i32], m.block(null, [
      m.if(m.i32.and(m.i32.ne(m.local.get(0, i32), m.i32.const(0)), m.i32.le_u(m.local.get(3, i32), m.local.get(1, i32))), m.return(m.local.get(0, i32))),
      m.local.set(4, m.call('adapter_alloc', [m.local.get(3, i32)], i32)),
      m.if(m.local.get(1, i32), m.memory.copy(m.local.get(4, i32), m.local.get(0, i32), m.local.get(1, i32))),
      m.local.get(4, i32),
    ], i32));
    m.addFunctionExport('adapter_realloc', 'cabi_realloc');
  }
}
