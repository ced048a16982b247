// Test helpers for the Rego back end: a harness around the runtime module on
// its own, terse builders for hand-written OPA IR plans, and Tracee bundles
// built and run as the engine does.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildRuntime } from "../../host/build/rego/build-runtime.ts";
import { RUNTIME_WASM } from "../../host/build/rego/runtime-path.ts";
import { compileRego } from "../../host/build/rego/compile-rego.ts";
import { compilePlan } from "../../host/build/rego/codegen.ts";
import { AIO_SECTION, appendCustomSection, bundleMode } from "../../host/build/rego/bundle-abi.ts";
import { RegoBundleGlue, SIGNATURE_BUILTINS, type RegoEventHost, type RegoFinding } from "../../host/engine/rego-glue.ts";

export interface RuntimeHarness {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  /** Parses JSON text in the runtime; returns the value address (0 on error). */
  parse(text: string, rego?: boolean): number;
  /** Dumps a value address as JSON (or Rego) text. */
  dump(addr: number, rego?: boolean): string;
  /** Calls builtin `name` on JSON texts; returns the result JSON text or undefined. */
  call(name: string, ...args: string[]): string | undefined;
}

export class AbortError extends Error {}

export async function runtimeHarness(opts: { maxPages?: number } = {}): Promise<RuntimeHarness> {
  await buildRuntime({ quiet: true });
  const memory = new WebAssembly.Memory(opts.maxPages ? { initial: 2, maximum: opts.maxPages } : { initial: 2 });
  const cstr = (addr: number) => {
    const b = new Uint8Array(memory.buffer);
    let e = addr;
    while (b[e]) e++;
    return new TextDecoder().decode(b.subarray(addr, e));
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(RUNTIME_WASM), {
    env: {
      memory,
      opa_abort: (addr: number) => { throw new AbortError(cstr(addr)); },
      opa_println: () => {},
      rt_policy_eval: () => {},
      rt_input_builtin: () => 0,
    },
  });
  const x = instance.exports as Record<string, any>;
  const parse = (text: string, rego = false) => {
    const bytes = new TextEncoder().encode(text);
    const p = x.opa_malloc(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, p);
    return (rego ? x.opa_value_parse : x.opa_json_parse)(p, bytes.length) as number;
  };
  const dump = (addr: number, rego = false) => cstr((rego ? x.opa_value_dump : x.opa_json_dump)(addr));
  return {
    exports: x, memory, parse, dump,
    call(name, ...args) {
      const fn = x["b_" + name.replace(/\./g, "__")];
      if (!fn) throw new Error(`no native builtin ${name}`);
      const addrs = args.map((a) => {
        const v = parse(a, true);
        if (!v) throw new Error(`bad test argument ${a}`);
        return v;
      });
      const r = fn(...addrs);
      return r ? dump(r) : undefined;
    },
  };
}

import type { Operand, Policy, Stmt, Func } from "../../host/build/rego/plan.ts";

export const local = (value: number): Operand => ({ type: "local", value });
export const str = (value: number): Operand => ({ type: "string_index", value });
export const bool = (value: boolean): Operand => ({ type: "bool", value });
export const s = (type: string, stmt: Record<string, unknown> = {}): Stmt => ({ type, stmt: { file: 0, row: 1, col: 1, ...stmt } });
export const block = (...stmts: Stmt[]) => ({ stmts });

/** `result` = value of local `l`, added as {"x": l} to the result set. */
export function resultX(l: number, xString = 0, obj = 99): Stmt[] {
  return [
    s("MakeObjectStmt", { target: obj }),
    s("ObjectInsertStmt", { key: str(xString), value: local(l), object: obj }),
    s("ResultSetAddStmt", { value: obj }),
  ];
}

/** A policy with one plan "test/p" whose blocks are given; strings[0] must be "x". */
export function policy(strings: string[], blocks: { stmts: Stmt[] }[], funcs: Func[] = [], builtins: string[] = []): Policy {
  return {
    static: { strings: strings.map((value) => ({ value })), builtin_funcs: builtins.map((name) => ({ name })), files: [{ value: "test.rego" }] },
    plans: { plans: [{ name: "test/p", blocks }] },
    funcs: { funcs },
  };
}

// ---- Tracee bundles ----


export type Selected = { source: "tracee"; name: string; origin: "*" | "container" | "host" };

/**
 * A bundle (as `tracee-rules build` configures one) of Rego v1 `rego` with
 * packages s0, s1, …: signature i selects `selected[i]`. `optimize: false`
 * skips binaryen's optimiser (most of the ~1 s a module takes).
 */
export function regoBundle(rego: string, selected: Selected[][], opts: { optimize?: boolean } = {}): Uint8Array {
  const r = compileRego([{ file: "b.rego", text: rego }], selected.map((_, i) => `s${i}/tracee_match`), { regoVersion: "v1", customBuiltins: SIGNATURE_BUILTINS });
  if ("errors" in r) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return compilePlan(r.plan, { optimize: opts.optimize, bundle: bundleMode(selected.map((s, entry) => ({ entry, selected: s })), r.plan) });
}

/** Instantiates a bundle with the host glue (`host` answers its host builtins); the result runs a batch and returns its findings. */
export function regoBundleRunner(wasm: Uint8Array, host?: RegoEventHost): (batch: Uint8Array) => RegoFinding[] {
  const glue = new RegoBundleGlue((m) => new Error(m), undefined, () => host);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), glue.imports());
  glue.attach(instance);
  const x = instance.exports as Record<string, (...a: number[]) => number>;
  return (batch) => {
    const p = x.tracee_input(batch.length);
    new Uint8Array(glue.memory.buffer).set(batch, p);
    const n = x.tracee_on_batch(p, batch.length);
    assert.ok(n >= 0, `tracee_on_batch returned ${n}`);
    return glue.findings(n);
  };
}

/** Makes `wasm` an all-in-one module: signature i is `ids[i]`, selecting `selected[i]`, with the metadata the engine requires. */
export function asAllInOne(wasm: Uint8Array, ids: string[], selected: Selected[][]): Uint8Array {
  const metas = ids.map((id, i) => ({ abi: 1, id, version: "1", name: id, eventName: id, description: "", tags: [], properties: {}, selectedEvents: selected[i] }));
  return appendCustomSection(wasm, AIO_SECTION, new TextEncoder().encode(JSON.stringify(metas)));
}

export function runRegoBundle(wasm: Uint8Array, batch: Uint8Array, host?: RegoEventHost): RegoFinding[] {
  return regoBundleRunner(wasm, host)(batch);
}
