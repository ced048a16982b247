/**
 * The one boundary between the host and a signature bundle
 * (docs/abi/bundle.md): validation at load (metadata, imports, exports, ABI
 * version), the import object, and the two calls the engine makes.
 */
import { BundleLoadError } from '../errors.ts';
import { readMetadata, type SignatureMetadata } from './metadata.ts';
import { decodeFindingData, type FindingData } from './finding-data.ts';
import type { ContainerInfo, ContainerTable } from '../events/containers.ts';
import { BundleLimitError, formatBytes, limitMemory, resolveLimits, type BundleLimits } from './limits.ts';
import { isRegoBundle, RegoBundleGlue, REGO_ALLOWED_IMPORTS, regoFindingData } from './rego-glue.ts';

export const BUNDLE_ABI_VERSION = 1;

interface BundleExports {
  memory: WebAssembly.Memory;
  tracee_abi_version: WebAssembly.Global;
  tracee_input(size: number): number;
  tracee_on_batch(ptr: number, len: number): number;
}

/** The only imports a bundle may have: its whole view of the world. All are optional. */
export const ALLOWED_IMPORTS: Record<string, string> = {
  'tracee.emit_finding': 'function',
  'tracee.log': 'function',
  'tracee.container_get': 'function',
  'env.abort': 'function',
};

/** The tag that ships a signature disabled: loaded, but run only when selected by `--rules`. */
export const DISABLED_BY_DEFAULT_TAG = 'disabled-by-default';

/** tracee.container_get's field numbers (docs/abi/bundle.md), in ABI order. */
const CONTAINER_FIELDS: ReadonlyArray<keyof ContainerInfo> = ['id', 'name', 'image', 'imageDigest', 'podName', 'podNamespace', 'podUID', 'podSandbox'];
const CONTAINER_UNKNOWN = -1;
const CONTAINER_BAD_FIELD = -2;

export interface BundleOptions {
  /**
   * What tracee.container_get answers from (the capture's or replay's
   * container table). Without one, every container is unknown. It can also
   * be set later through `Bundle.containers`.
   */
  containers?: ContainerTable;
  /** Memory, findings per batch and finding size (limits.ts); defaults DEFAULT_LIMITS. */
  limits?: Partial<BundleLimits>;
}

/** A bundle compiled and validated (imports, exports, metadata, memory limit) but not instantiated: none of its code has run. */
export interface CompiledBundle {
  readonly name: string;
  readonly module: WebAssembly.Module;
  readonly metadata: SignatureMetadata;
}

const REQUIRED_EXPORTS: Record<string, string> = {
  memory: 'memory',
  tracee_abi_version: 'global',
  tracee_input: 'function',
  tracee_on_batch: 'function',
};

/** Thrown through wasm frames by the abort import. */
export class BundleAbort extends Error {}

/** `raw`: the data as the bundle encoded it (when it did), a view of its memory valid only during the call. */
export type FindingSink = (eventIndex: number, data: FindingData, raw?: Uint8Array) => void;
export type LogSink = (level: number, message: string) => void;

export class Bundle {
  private readonly exports: BundleExports;
  private inputPtr = 0;
  private inputSize = 0;
  /** Set by the engine around each call. */
  onFinding: FindingSink = () => {};
  /** Answers tracee.container_get; undefined: no container is known. */
  containers: ContainerTable | undefined;
  /** Rego bundles (OPA-ABI modules, host/engine/rego-glue.ts): their imports, and findings read back after each call. */
  private rego: RegoBundleGlue | undefined;

  private constructor(readonly name: string, readonly metadata: SignatureMetadata, instance: WebAssembly.Instance, readonly limits: BundleLimits) {
    this.exports = instance.exports as unknown as BundleExports;
  }

  /** Current size of the bundle's linear memory. */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** The signature ships disabled (Tracee's noisy ones): run it only when selected by ID or event name. */
  get disabledByDefault(): boolean {
    return this.metadata.tags.includes(DISABLED_BY_DEFAULT_TAG);
  }

  /** Compiles, validates and instantiates a bundle; throws BundleLoadError naming the problem. */
  static async load(name: string, bytes: Uint8Array, log: LogSink, options: BundleOptions = {}): Promise<Bundle> {
    return Bundle.instantiate(await Bundle.compile(name, bytes, options), log, options);
  }

  /**
   * The first half of load: compiles the bytes with the memory limit applied
   * and validates imports, exports and metadata, running no bundle code.
   * The module can be instantiated here or in a worker (sandbox/).
   */
  static async compile(name: string, bytes: Uint8Array, options: BundleOptions = {}): Promise<CompiledBundle> {
    const limits = resolveLimits(options.limits);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(limitMemory(bytes, limits.maxMemoryBytes) as Uint8Array<ArrayBuffer>);
    } catch (err) {
      if (err instanceof BundleLimitError) throw new BundleLoadError(name, err.message, { cause: err });
      throw new BundleLoadError(name, `not a valid WebAssembly module: ${(err as Error).message}`);
    }
    checkImports(name, module);
    checkExports(name, module);
    let metadata: SignatureMetadata;
    try {
      metadata = readMetadata(module);
    } catch (err) {
      throw new BundleLoadError(name, (err as Error).message);
    }
    return { name, module, metadata };
  }

  /** The second half of load: instantiates (running the bundle's start function) and checks the ABI version. Synchronous. */
  static instantiate(compiled: CompiledBundle, log: LogSink, options: BundleOptions = {}): Bundle {
    const { name, module, metadata } = compiled;
    const limits = resolveLimits(options.limits);
    let bundle: Bundle | undefined;
    const memory = () => bundle?.exports.memory.buffer ?? new ArrayBuffer(0);
    const imports = {
      tracee: {
        emit_finding: (index: number, ptr: number, len: number) => {
          if (len >>> 0 > limits.maxFindingBytes) {
            throw new BundleLimitError('finding-size', `a finding of ${formatBytes(len >>> 0)} is over the finding size limit of ${formatBytes(limits.maxFindingBytes)}`);
          }
          const mem = new Uint8Array(memory());
          const data = decodeFindingData(mem, ptr >>> 0, len >>> 0);
          bundle!.onFinding(index >>> 0, data, mem.subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0)));
        },
        log: (level: number, ptr: number, len: number) => log(level, utf8Slice(memory(), ptr >>> 0, len >>> 0)),
        container_get: (ref: number, field: number, ptr: number, cap: number) =>
          containerGet(bundle!.containers, new Uint8Array(memory()), ref >>> 0, field >>> 0, ptr >>> 0, cap >>> 0),
      },
      env: {
        abort: (msg: number, file: number, line: number, col: number) => {
          throw new BundleAbort(`abort: ${asString(memory(), msg)} at ${asString(memory(), file)}:${line}:${col}`);
        },
      },
    };
    const rego = isRegoBundle(module) ? new RegoBundleGlue((m) => new BundleAbort(m), limits.maxMemoryBytes) : undefined;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, rego ? rego.imports() : imports);
    } catch (err) {
      throw new BundleLoadError(name, `instantiation failed: ${(err as Error).message}`, { cause: err });
    }
    bundle = new Bundle(name, metadata, instance, limits);
    if (rego) {
      rego.attach(instance);
      bundle.rego = rego;
    }
    bundle.containers = options.containers;
    const version = bundle.exports.tracee_abi_version.value;
    if (version !== BUNDLE_ABI_VERSION) throw new BundleLoadError(name, `ABI version ${version} is not supported (this host supports ${BUNDLE_ABI_VERSION})`);
    return bundle;
  }

  /** Bytes of the bundle's input buffer, grown to at least `size`. Valid until the next call into the bundle. */
  input(size: number): { ptr: number; bytes: Uint8Array } {
    if (size > this.inputSize) {
      this.inputPtr = this.exports.tracee_input(size) >>> 0;
      this.inputSize = size;
    }
    const buffer = this.exports.memory.buffer;
    if (this.inputPtr + size > buffer.byteLength) throw new Error(`tracee_input returned ${this.inputPtr}, beyond memory for ${size} bytes`);
    return { ptr: this.inputPtr, bytes: new Uint8Array(buffer) };
  }

  /** Runs the bundle on the batch in its input buffer; returns its finding count. */
  run(len: number): number {
    const n = this.exports.tracee_on_batch(this.inputPtr, len);
    if (this.rego && n > 0) for (const f of this.rego.findings(n)) this.onFinding(f.index, regoFindingData(f.data));
    return n;
  }
}

function checkImports(name: string, module: WebAssembly.Module): void {
  const allowed = isRegoBundle(module) ? REGO_ALLOWED_IMPORTS : ALLOWED_IMPORTS;
  for (const imp of WebAssembly.Module.imports(module)) {
    const key = `${imp.module}.${imp.name}`;
    if (allowed[key] !== imp.kind) {
      throw new BundleLoadError(name, `import ${key} (${imp.kind}) is not part of the signature SDK; allowed: ${Object.keys(allowed).join(', ')}`);
    }
  }
}

function checkExports(name: string, module: WebAssembly.Module): void {
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  for (const [exp, kind] of Object.entries(REQUIRED_EXPORTS)) {
    if (exports.get(exp) !== kind) throw new BundleLoadError(name, `missing export ${exp} (${kind}); is it built with the tracee-ts SDK?`);
  }
}

/**
 * tracee.container_get: writes the field's UTF-8 value at `ptr` if it fits in
 * `cap` bytes and returns its length either way; -1 for an unknown container,
 * -2 for an unknown field. podSandbox is one byte, 1 or 0.
 */
function containerGet(table: ContainerTable | undefined, memory: Uint8Array, ref: number, field: number, ptr: number, cap: number): number {
  if (field >= CONTAINER_FIELDS.length) return CONTAINER_BAD_FIELD;
  const info = ref === 0 ? undefined : table?.get(ref);
  if (!info) return CONTAINER_UNKNOWN;
  const value = info[CONTAINER_FIELDS[field]];
  const bytes = typeof value === 'boolean' ? Uint8Array.of(value ? 1 : 0) : utf8.encode(value);
  if (bytes.length <= cap) {
    if (ptr + bytes.length > memory.byteLength) throw new BundleAbort(`container_get: buffer ${ptr}+${bytes.length} is outside the bundle's memory`);
    memory.set(bytes, ptr);
  }
  return bytes.length;
}

const utf8 = new TextEncoder();

function utf8Slice(buffer: ArrayBuffer, ptr: number, len: number): string {
  if (ptr + len > buffer.byteLength) return `<log message out of bounds: ${ptr}+${len}>`;
  return new TextDecoder().decode(new Uint8Array(buffer, ptr, len));
}

/** An AssemblyScript string: UTF-16LE, byte length stored at ptr - 4. */
function asString(buffer: ArrayBuffer, ptr: number): string {
  if (ptr < 4 || ptr > buffer.byteLength) return '<no message>';
  const len = new DataView(buffer).getUint32(ptr - 4, true);
  if (ptr + len > buffer.byteLength) return '<message out of bounds>';
  return Buffer.from(buffer, ptr, len).toString('utf16le');
}
