// Host side of Rego signature bundles (see bundle-abi.ts): the OPA-ABI
// imports a bundle needs, and the findings read back after tracee_on_batch.
// Kept free of build-time dependencies: host/engine/bundle.ts imports it.

/** A finding read back from a Rego bundle after tracee_on_batch. */
export interface RegoFinding {
  /** Record index in the batch given to tracee_on_batch. */
  index: number;
  /** Signature index (0 in a per-signature bundle; entrypoint order in the all-in-one module). */
  signature: number;
  /** The match object, or undefined for `tracee_match = true`. */
  data?: Record<string, unknown>;
}

/** Does this module look like a Rego bundle (OPA ABI plus the Tracee exports)? */
export function isRegoBundle(module: WebAssembly.Module): boolean {
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return exports.has("opa_eval") && exports.has("tracee_on_batch");
}

/** The imports a Rego bundle may have: those of the OPA ABI. */
export const REGO_ALLOWED_IMPORTS: Record<string, string> = {
  "env.memory": "memory",
  "env.opa_abort": "function",
  "env.opa_println": "function",
  "env.opa_builtin0": "function",
  "env.opa_builtin1": "function",
  "env.opa_builtin2": "function",
  "env.opa_builtin3": "function",
  "env.opa_builtin4": "function",
};

/** Host side of a Rego bundle: the OPA imports, and findings read back after each batch. */
export class RegoBundleGlue {
  readonly memory: WebAssembly.Memory;
  private exports: Record<string, unknown> | undefined;

  /** `maxBytes` caps the module's memory (its import declares no maximum, the memory given to it can). */
  constructor(private readonly abort: (message: string) => Error, maxBytes?: number) {
    this.memory = new WebAssembly.Memory(maxBytes ? { initial: 2, maximum: Math.max(2, Math.floor(maxBytes / 65536)) } : { initial: 2 });
  }

  /** The import object (module `env`). */
  imports(): Record<string, Record<string, WebAssembly.ImportValue>> {
    const builtin = (_id: number) => { throw this.abort("a host builtin was called; Rego bundles support native builtins only"); };
    return {
      env: {
        memory: this.memory,
        opa_abort: (addr: number) => { throw this.abort(`opa_abort: ${this.cstring(addr)}`); },
        opa_println: () => {},
        opa_builtin0: builtin, opa_builtin1: builtin, opa_builtin2: builtin, opa_builtin3: builtin, opa_builtin4: builtin,
      },
    };
  }

  attach(instance: WebAssembly.Instance): void {
    this.exports = instance.exports as Record<string, unknown>;
  }

  private cstring(addr: number): string {
    const b = new Uint8Array(this.memory.buffer);
    let e = addr;
    while (e < b.length && b[e]) e++;
    return new TextDecoder().decode(b.subarray(addr, e));
  }

  /** Reads the `count` findings of the last tracee_on_batch call. */
  findings(count: number): RegoFinding[] {
    const x = this.exports!;
    const finding = x.tracee_finding as (i: number) => number;
    const dump = x.opa_json_dump as (v: number) => number;
    const out: RegoFinding[] = [];
    for (let i = 0; i < count; i++) {
      const p = finding(i) >>> 0;
      const v = new DataView(this.memory.buffer);
      const index = v.getUint32(p, true), signature = v.getUint32(p + 4, true), value = v.getUint32(p + 8, true);
      const f: RegoFinding = { index, signature };
      if (value) f.data = JSON.parse(this.cstring(dump(value) >>> 0)) as Record<string, unknown>;
      out.push(f);
    }
    return out;
  }
}

/** Finding data as the engine reports it: strings, numbers and booleans as they are, anything else as JSON text. */
export function regoFindingData(data: Record<string, unknown> | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(data ?? {})) {
    out[k] = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : JSON.stringify(v);
  }
  return out;
}

/** Section of the all-in-one module listing its signatures' metadata, in entrypoint order. */
export const AIO_SECTION = "tracee.signatures";

/**
 * The all-in-one Rego module: every signature of a directory in one module.
 * One call per batch evaluates, for each record, every signature that
 * selected its event (and origin); the event's input value is built once.
 * Give it whole batches: it does its own selection.
 */
export class RegoAllInOne<M extends { id: string } = { id: string }> {
  private x: Record<string, unknown>;
  private inputPtr = 0;
  private inputSize = 0;

  private constructor(readonly signatures: M[], private readonly glue: RegoBundleGlue, instance: WebAssembly.Instance) {
    glue.attach(instance);
    this.x = instance.exports as Record<string, unknown>;
  }

  static async load<M extends { id: string }>(bytes: Uint8Array): Promise<RegoAllInOne<M>> {
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    const sections = WebAssembly.Module.customSections(module, AIO_SECTION);
    if (sections.length !== 1) throw new Error(`not an all-in-one Rego module (no "${AIO_SECTION}" section)`);
    const sigs = JSON.parse(new TextDecoder().decode(sections[0])) as M[];
    const glue = new RegoBundleGlue((m) => new Error(m));
    const instance = await WebAssembly.instantiate(module, glue.imports());
    return new RegoAllInOne<M>(sigs, glue, instance);
  }

  /** Runs a flat batch (header included); returns the findings in record order. */
  run(batch: Uint8Array): { index: number; signature: M; data?: Record<string, unknown> }[] {
    if (batch.length > this.inputSize) {
      this.inputPtr = (this.x.tracee_input as (n: number) => number)(batch.length) >>> 0;
      this.inputSize = batch.length;
    }
    new Uint8Array(this.glue.memory.buffer).set(batch, this.inputPtr);
    const n = (this.x.tracee_on_batch as (p: number, l: number) => number)(this.inputPtr, batch.length);
    if (n < 0) throw new Error(`tracee_on_batch returned error ${n}`);
    return this.glue.findings(n).map((f) => ({ index: f.index, signature: this.signatures[f.signature], data: f.data }));
  }
}
