// Rego front end API: .rego sources → OPA IR plan → wasm.
//
//   compileRego(modules, entrypoints, options) → { plan } | { errors }
//   compileRegoToWasm(modules, entrypoints, options) → Uint8Array (throws RegoErrors)

import { compilePlan, type CompileOptions } from "./codegen.ts";
import { Compiler, type CompilerOptions } from "./compiler/compile.ts";
import type { CompiledPolicy } from "./compiler/types.ts";
import { parseModule, parseQuery } from "./parser/parser.ts";
import { RegoError, RegoErrors } from "./parser/errors.ts";
import type { Module } from "./parser/ast.ts";
import type { Policy } from "./plan.ts";
import { planPolicy } from "./planner/planner.ts";

export interface RegoSource {
  file: string;
  text: string;
}

export interface CompileRegoOptions {
  /** Default Rego version for modules that do not import rego.v1 (default "v1"). */
  regoVersion?: "v0" | "v1";
  /** Extra queries planned as entrypoints: results are keyed by the query's vars. */
  queries?: { name: string; query: string }[];
  /** Host-supplied builtins (name → arity) accepted by the compiler. */
  customBuiltins?: Record<string, number>;
}

export type CompileRegoResult = { plan: Policy; modules: Module[]; compiled: CompiledPolicy } | { errors: RegoError[] };

export function parseSources(modules: RegoSource[], opts: CompileRegoOptions = {}): Module[] {
  const errors: RegoError[] = [];
  const out: Module[] = [];
  for (const m of modules) {
    try {
      out.push(parseModule(m.text, m.file, { v1: (opts.regoVersion ?? "v1") === "v1" }));
    } catch (e) {
      if (e instanceof RegoError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw new RegoErrors(errors);
  return out;
}

/** Compiles Rego modules to an IR plan with one plan per entrypoint (`pkg/rule`) and query. */
export function compileRego(modules: RegoSource[], entrypoints: string[], opts: CompileRegoOptions = {}): CompileRegoResult {
  try {
    const parsed = parseSources(modules, opts);
    const copts: CompilerOptions = { entrypoints, customBuiltins: opts.customBuiltins };
    copts.queries = (opts.queries ?? []).map((q) => ({ name: q.name, body: parseQuery(q.query, "<query>") }));
    const compiled = new Compiler(parsed, copts).compile();
    const plan = planPolicy(compiled);
    return { plan, modules: parsed, compiled };
  } catch (e) {
    if (e instanceof RegoErrors) return { errors: e.errors };
    if (e instanceof RegoError) return { errors: [e] };
    throw e;
  }
}

/** Compiles Rego modules straight to an OPA-ABI wasm module. Throws RegoErrors. */
export function compileRegoToWasm(modules: RegoSource[], entrypoints: string[], opts: CompileRegoOptions & { codegen?: CompileOptions } = {}): Uint8Array {
  const r = compileRego(modules, entrypoints, opts);
  if ("errors" in r) throw new RegoErrors(r.errors);
  return compilePlan(r.plan, opts.codegen);
}
