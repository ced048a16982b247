// Host side of Rego signature bundles (see bundle-abi.ts): the OPA-ABI
// imports a bundle needs, the host builtins it may call (the lookups behind
// the input fields a flat record only references, and `tracee.containers`),
// and the findings read back after tracee_on_batch.
// Kept free of build-time dependencies: host/engine/bundle.ts imports it.

import type { ContainerTable } from "../events/containers.ts";
import type { ProcessLookup } from "../events/batch-reader.ts";
import {
  ContainersDataSource, ContainerTableDirectory, REGO_CONTAINERS_BUILTIN, regoContainersBuiltin, type ContainerDirectory,
} from "../enrich/containers/datasource.ts";

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

/**
 * What the host knows about a record beyond its bytes, for the input fields a
 * record only references and for `tracee.containers`. Every part is
 * optional: without one, those fields are what decodeEvent gives without it
 * (a Bundle is a RegoEventHost through its `containers`).
 */
export interface RegoEventHost {
  /** The table a record's containerRef indexes. */
  containers?: ContainerTable;
  /** The enricher (it knows container_ctime); else tracee.containers answers from `containers`, ctime 0. */
  containerDirectory?: ContainerDirectory;
  /** The process tree, for `executable`. */
  processes?: Pick<ProcessLookup, "executableAt">;
  /** Policy names by matchedPolicies bit. */
  policyNames?: readonly string[];
}

/**
 * The host lookups behind the input fields a flat record only references, in
 * the order the runtime numbers them (signatures-rego/runtime/input.ts HB_*).
 * They are OPA custom builtins: the build declares one in the module's
 * `builtins()` only when the policy reads one of its fields.
 */
export const INPUT_BUILTINS = [
  /** (containerRef) → {containerId, container, kubernetes} as in the event JSON. */
  { name: "tracee.event_container", arity: 1, fields: ["container", "containerId", "kubernetes"] },
  /** (hostProcessId, record timestamp as decimal text) → the executable path, "" if unknown. */
  { name: "tracee.event_executable", arity: 2, fields: ["executable"] },
  /** (matchedPolicies low 32 bits, high 32 bits) → the policy names. */
  { name: "tracee.event_policies", arity: 2, fields: ["matchedPolicies"] },
] as const;

/** Custom builtins Rego signatures may call, with their arity: the compiler accepts them, the host implements them. */
export const SIGNATURE_BUILTINS: Readonly<Record<string, number>> = { [REGO_CONTAINERS_BUILTIN]: 1 };

type HostBuiltin = (...args: unknown[]) => unknown;

// Builtin calls and JSON dumps run per event when a signature reads host fields: one coder each.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * The host builtins a Rego bundle may declare, answered from `host()` (read at
 * each call, so the host's tables can be set after loading). Also usable as
 * @open-policy-agent/opa-wasm `customBuiltins`.
 */
export function regoHostBuiltins(host: () => RegoEventHost | undefined): Record<string, HostBuiltin> {
  const [container, executable, policies] = INPUT_BUILTINS;
  return {
    [container.name]: (ref) => eventContainer(host()?.containers, ref),
    [executable.name]: (pid, time) => {
      const p = host()?.processes;
      return (p && typeof pid === "number" && typeof time === "string" && /^\d+$/.test(time) ? p.executableAt(pid, BigInt(time)) : undefined) ?? "";
    },
    [policies.name]: (lo, hi) => {
      const names = host()?.policyNames ?? [];
      const out: string[] = [];
      for (let i = 0; i < 64 && i < names.length; i++) {
        const word = (i < 32 ? lo : hi) as number;
        if (typeof word === "number" && (word >>> (i & 31)) & 1) out.push(names[i]);
      }
      return out;
    },
    [REGO_CONTAINERS_BUILTIN]: (id) => {
      const h = host();
      const directory = h?.containerDirectory ?? (h?.containers && tableDirectory(h.containers));
      return directory ? containersBuiltin(directory)(id) : null;
    },
  };
}

/** The container fields of the event JSON (host/events/batch-reader.ts decodeEvent) for a containerRef. */
function eventContainer(table: ContainerTable | undefined, ref: unknown) {
  const c = typeof ref === "number" && ref > 0 ? table?.get(ref) : undefined;
  if (!c) return { containerId: "", container: {}, kubernetes: {} };
  return {
    containerId: c.id,
    container: { id: c.id, name: c.name, image: c.image, imageDigest: c.imageDigest },
    kubernetes: c.podName ? { podName: c.podName, podNamespace: c.podNamespace, podUID: c.podUID, podSandbox: c.podSandbox } : {},
  };
}

// One directory (its id → ref index) and data source per table / directory.
const tableDirectories = new WeakMap<ContainerTable, ContainerDirectory>();
const containerBuiltins = new WeakMap<ContainerDirectory, HostBuiltin>();
function tableDirectory(table: ContainerTable): ContainerDirectory {
  let d = tableDirectories.get(table);
  if (!d) tableDirectories.set(table, d = new ContainerTableDirectory(table));
  return d;
}
function containersBuiltin(directory: ContainerDirectory): HostBuiltin {
  let b = containerBuiltins.get(directory);
  if (!b) containerBuiltins.set(directory, b = regoContainersBuiltin(new ContainersDataSource(directory)) as HostBuiltin);
  return b;
}

/** Host side of a Rego bundle: the OPA imports, host builtins, and findings read back after each batch. */
export class RegoBundleGlue {
  readonly memory: WebAssembly.Memory;
  private exports: Record<string, unknown> | undefined;
  private readonly builtins: Record<string, HostBuiltin>;
  /** builtin id → name, from the module's builtins() export. */
  private builtinNames = new Map<number, string>();

  /**
   * `maxBytes` caps the module's memory (its import declares no maximum, the
   * memory given to it can); `host` answers the host builtins.
   */
  constructor(private readonly abort: (message: string) => Error, maxBytes?: number, host: () => RegoEventHost | undefined = () => undefined) {
    this.memory = new WebAssembly.Memory(maxBytes ? { initial: 2, maximum: Math.max(2, Math.floor(maxBytes / 65536)) } : { initial: 2 });
    this.builtins = regoHostBuiltins(host);
  }

  /** The import object (module `env`). */
  imports(): Record<string, Record<string, WebAssembly.ImportValue>> {
    const builtin = (id: number, _ctx: number, ...args: number[]) => this.callBuiltin(id, args);
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
    const ids = JSON.parse(this.cstring(this.call("opa_json_dump", this.call("builtins")))) as Record<string, number>;
    this.builtinNames = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
  }

  /** Whether the module's builtins() declares host builtin `name`. */
  declares(name: string): boolean {
    for (const n of this.builtinNames.values()) if (n === name) return true;
    return false;
  }

  private call(name: string, ...args: number[]): number {
    return (this.exports![name] as (...a: number[]) => number)(...args) >>> 0;
  }

  /** opa_builtinN: OPA's custom-builtin protocol (arguments and result as JSON; undefined is 0). */
  private callBuiltin(id: number, args: number[]): number {
    const name = this.builtinNames.get(id);
    const fn = name === undefined ? undefined : this.builtins[name];
    if (!fn) {
      throw this.abort(`host builtin ${name ?? `#${id}`} is not available to Rego bundles (they have the native builtins and ${Object.keys(this.builtins).join(", ")})`);
    }
    const result = fn(...args.map((a) => JSON.parse(this.cstring(this.call("opa_json_dump", a)))));
    if (result === undefined) return 0;
    const bytes = utf8Encoder.encode(JSON.stringify(result));
    const p = this.call("opa_malloc", bytes.length);
    new Uint8Array(this.memory.buffer).set(bytes, p);
    return this.call("opa_json_parse", p, bytes.length);
  }

  private cstring(addr: number): string {
    const b = new Uint8Array(this.memory.buffer);
    let e = addr;
    while (e < b.length && b[e]) e++;
    return utf8Decoder.decode(b.subarray(addr, e));
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
