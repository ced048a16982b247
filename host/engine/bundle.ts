/**
 * The one boundary between the host and a signature bundle
 * (docs/abi/bundle.md): validation at load (metadata, imports, exports, ABI
 * version), the import object, and the two calls the engine makes.
 */
import { BundleLoadError } from '../errors.ts';
import { readMetadata, readMetadataList, type SignatureMetadata } from './metadata.ts';
import { decodeFindingData, type FindingData } from './finding-data.ts';
import type { ContainerInfo, ContainerTable } from '../events/containers.ts';
import { BundleLimitError, formatBytes, limitMemory, resolveLimits, type BundleLimits } from './limits.ts';
import { AIO_SECTION, INPUT_BUILTINS, isRegoBundle, RegoBundleGlue, REGO_ALLOWED_IMPORTS, regoFindingData, type RegoEventHost } from './rego-glue.ts';
import { REGO_CONTAINERS_BUILTIN } from '../enrich/containers/datasource.ts';

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
  /** A bundle of another signature of the same multi-signature module: share its instance (and its memory, limits and containers). */
  shareWith?: Bundle;
  /**
   * For Rego bundles: the process tree, policy names and container directory
   * behind the input fields a record only references (executable,
   * matchedPolicies, tracee.containers' container_ctime). Without them,
   * those fields are empty, as decodeEvent gives them without. Read at each
   * call: a property set later (the policy names after a reload) applies
   * from the next batch.
   */
  eventHost?: Omit<RegoEventHost, 'containers'>;
}

/** What a bundle reads of the host besides its records: what a sandbox worker must be sent for it. */
export interface HostReads {
  /** The container table: tracee.container_get, or a Rego bundle's container fields and tracee.containers. */
  containers: boolean;
  /** The process tree: a Rego bundle's `executable`. */
  executables: boolean;
  /** The policy names: a Rego bundle's `matchedPolicies`. */
  policies: boolean;
}

/**
 * A signature compiled and validated (imports, exports, metadata, memory
 * limit) but not instantiated: none of its code has run. A module may hold
 * several signatures (the Rego all-in-one module): each is a CompiledBundle
 * with its own metadata and `member` index, all with the same `module`, and
 * they share one instance (see `instantiate`'s `shareWith`).
 */
export interface CompiledBundle {
  /** The file's name. */
  readonly name: string;
  readonly module: WebAssembly.Module;
  readonly metadata: SignatureMetadata;
  /** In a multi-signature module: this signature's index (the module's findings say which signature). */
  readonly member?: number;
}

const REQUIRED_EXPORTS: Record<string, string> = {
  memory: 'memory',
  tracee_abi_version: 'global',
  tracee_input: 'function',
  tracee_on_batch: 'function',
};

/** Thrown through wasm frames by the abort import. */
export class BundleAbort extends Error {}

/**
 * `raw`: the data as the bundle encoded it (when it did), a view of its
 * memory valid only during the call; `signature`: which of a multi-signature
 * module's signatures (its `member` index; 0 otherwise).
 */
export type FindingSink = (eventIndex: number, data: FindingData, raw?: Uint8Array, signature?: number) => void;
export type LogSink = (level: number, message: string) => void;

/** One instance of a module: what the signatures of a multi-signature module share. */
class Instance implements RegoEventHost {
  readonly exports: BundleExports;
  inputPtr = 0;
  inputSize = 0;
  onFinding: FindingSink = () => {};
  containers: ContainerTable | undefined;
  /** Rego bundles (OPA-ABI modules, host/engine/rego-glue.ts): their imports, and findings read back after each call. */
  rego: RegoBundleGlue | undefined;
  reads: HostReads = { containers: false, executables: false, policies: false };

  constructor(instance: WebAssembly.Instance, readonly limits: BundleLimits, private readonly host: NonNullable<BundleOptions['eventHost']> = {}) {
    this.exports = instance.exports as unknown as BundleExports;
  }

  get processes(): RegoEventHost['processes'] {
    return this.host.processes;
  }

  get policyNames(): RegoEventHost['policyNames'] {
    return this.host.policyNames;
  }

  get containerDirectory(): RegoEventHost['containerDirectory'] {
    return this.host.containerDirectory;
  }
}

export class Bundle {
  private constructor(readonly name: string, readonly metadata: SignatureMetadata, private readonly instance: Instance, readonly member?: number) {}

  get limits(): BundleLimits {
    return this.instance.limits;
  }

  /** Set by the engine around each call; for a multi-signature module, shared by its signatures. */
  get onFinding(): FindingSink {
    return this.instance.onFinding;
  }

  set onFinding(sink: FindingSink) {
    this.instance.onFinding = sink;
  }

  /** Answers tracee.container_get; undefined: no container is known. Shared by a module's signatures. */
  get containers(): ContainerTable | undefined {
    return this.instance.containers;
  }

  set containers(table: ContainerTable | undefined) {
    this.instance.containers = table;
  }

  /** What the bundle reads of the host: its imports, or the host builtins a Rego module declares. */
  get reads(): HostReads {
    return this.instance.reads;
  }

  /** Bundles that share an instance (a multi-signature module's signatures) have the same key; the engine runs it once for all of them. */
  get instanceKey(): object {
    return this.instance;
  }

  /** Current size of the bundle's linear memory. */
  get memoryBytes(): number {
    return this.instance.exports.memory.buffer.byteLength;
  }

  /** The signature ships disabled (Tracee's noisy ones): run it only when selected by ID or event name. */
  get disabledByDefault(): boolean {
    return this.metadata.tags.includes(DISABLED_BY_DEFAULT_TAG);
  }

  /** Compiles, validates and instantiates a single-signature bundle; throws BundleLoadError naming the problem. */
  static async load(name: string, bytes: Uint8Array, log: LogSink, options: BundleOptions = {}): Promise<Bundle> {
    return Bundle.instantiate(await Bundle.compile(name, bytes, options), log, options);
  }

  /** load() for a file that may hold several signatures: one Bundle each, sharing one instance. */
  static async loadFile(name: string, bytes: Uint8Array, log: LogSink, options: BundleOptions = {}): Promise<Bundle[]> {
    const out: Bundle[] = [];
    for (const compiled of await Bundle.compileFile(name, bytes, options)) {
      out.push(Bundle.instantiate(compiled, log, { ...options, shareWith: out[0] }));
    }
    return out;
  }

  /**
   * The first half of load: compiles the bytes with the memory limit applied
   * and validates imports, exports and metadata, running no bundle code.
   * The module can be instantiated here or in a worker (sandbox/). For a
   * single-signature module; see compileFile.
   */
  static async compile(name: string, bytes: Uint8Array, options: BundleOptions = {}): Promise<CompiledBundle> {
    const compiled = await Bundle.compileFile(name, bytes, options);
    if (compiled.length !== 1 || compiled[0].member !== undefined) throw new BundleLoadError(name, `holds ${compiled.length} signatures; load it with compileFile`);
    return compiled[0];
  }

  /** compile() for a file that may hold several signatures (the Rego all-in-one module): one CompiledBundle each. */
  static async compileFile(name: string, bytes: Uint8Array, options: BundleOptions = {}): Promise<CompiledBundle[]> {
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
    try {
      return readSignatures(module).map((s) => ({ name, module, ...s }));
    } catch (err) {
      throw new BundleLoadError(name, (err as Error).message);
    }
  }

  /**
   * The second half of load: instantiates (running the bundle's start
   * function) and checks the ABI version. Synchronous. With `shareWith`, no
   * new instance: a handle on that bundle's, for another of its module's signatures.
   */
  static instantiate(compiled: CompiledBundle, log: LogSink, options: BundleOptions = {}): Bundle {
    const { name, module, metadata, member } = compiled;
    if (options.shareWith) {
      if (member === undefined || options.shareWith.member === undefined) throw new Error(`bundle ${name}: only the signatures of one multi-signature module share an instance`);
      return new Bundle(name, metadata, options.shareWith.instance, member);
    }
    const limits = resolveLimits(options.limits);
    let core: Instance | undefined;
    const memory = () => core?.exports.memory.buffer ?? new ArrayBuffer(0);
    const imports = {
      tracee: {
        emit_finding: (index: number, ptr: number, len: number) => {
          if (len >>> 0 > limits.maxFindingBytes) {
            throw new BundleLimitError('finding-size', `a finding of ${formatBytes(len >>> 0)} is over the finding size limit of ${formatBytes(limits.maxFindingBytes)}`);
          }
          const mem = new Uint8Array(memory());
          const data = decodeFindingData(mem, ptr >>> 0, len >>> 0);
          core!.onFinding(index >>> 0, data, mem.subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0)));
        },
        log: (level: number, ptr: number, len: number) => log(level, utf8Slice(memory(), ptr >>> 0, len >>> 0)),
        container_get: (ref: number, field: number, ptr: number, cap: number) =>
          containerGet(core!.containers, new Uint8Array(memory()), ref >>> 0, field >>> 0, ptr >>> 0, cap >>> 0),
      },
      env: {
        abort: (msg: number, file: number, line: number, col: number) => {
          throw new BundleAbort(`abort: ${asString(memory(), msg)} at ${asString(memory(), file)}:${line}:${col}`);
        },
      },
    };
    const rego = isRegoBundle(module) ? new RegoBundleGlue((m) => new BundleAbort(m), limits.maxMemoryBytes, () => core) : undefined;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, rego ? rego.imports() : imports);
    } catch (err) {
      throw new BundleLoadError(name, `instantiation failed: ${(err as Error).message}`, { cause: err });
    }
    core = new Instance(instance, limits, options.eventHost);
    if (rego) {
      rego.attach(instance);
      core.rego = rego;
    }
    core.reads = hostReads(module, rego);
    core.containers = options.containers;
    const version = core.exports.tracee_abi_version.value;
    if (version !== BUNDLE_ABI_VERSION) throw new BundleLoadError(name, `ABI version ${version} is not supported (this host supports ${BUNDLE_ABI_VERSION})`);
    return new Bundle(name, metadata, core, member);
  }

  /** Bytes of the bundle's input buffer, grown to at least `size`. Valid until the next call into the bundle. */
  input(size: number): { ptr: number; bytes: Uint8Array } {
    const core = this.instance;
    if (size > core.inputSize) {
      core.inputPtr = core.exports.tracee_input(size) >>> 0;
      core.inputSize = size;
    }
    const buffer = core.exports.memory.buffer;
    if (core.inputPtr + size > buffer.byteLength) throw new Error(`tracee_input returned ${core.inputPtr}, beyond memory for ${size} bytes`);
    return { ptr: core.inputPtr, bytes: new Uint8Array(buffer) };
  }

  /** Runs the bundle (for a multi-signature module: all its signatures) on the batch in its input buffer; returns its finding count. */
  run(len: number): number {
    const core = this.instance;
    const n = core.exports.tracee_on_batch(core.inputPtr, len);
    if (core.rego && n > 0) for (const f of core.rego.findings(n)) core.onFinding(f.index, regoFindingData(f.data), undefined, f.signature);
    return n;
  }
}

/**
 * A module's signatures: its one `tracee.signature` metadata, or each of a
 * multi-signature module's (the Rego all-in-one's section) with its index.
 * Throws an Error saying what is wrong.
 */
export function readSignatures(module: WebAssembly.Module): Array<{ metadata: SignatureMetadata; member?: number }> {
  if (WebAssembly.Module.customSections(module, AIO_SECTION).length === 0) return [{ metadata: readMetadata(module) }];
  return readMetadataList(module, AIO_SECTION).map((metadata, member) => ({ metadata, member }));
}

function hostReads(module: WebAssembly.Module, rego: RegoBundleGlue | undefined): HostReads {
  if (!rego) {
    const containers = WebAssembly.Module.imports(module).some((i) => i.module === 'tracee' && i.name === 'container_get');
    return { containers, executables: false, policies: false };
  }
  const [container, executable, policies] = INPUT_BUILTINS;
  return {
    containers: rego.declares(container.name) || rego.declares(REGO_CONTAINERS_BUILTIN),
    executables: rego.declares(executable.name),
    policies: rego.declares(policies.name),
  };
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
