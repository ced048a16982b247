// Code generator: OPA IR plan → OPA-ABI WebAssembly module.
//
// The prebuilt runtime (signatures-rego/runtime, AssemblyScript) is read with
// binaryen.js and extended with one function per plan func, the compiled
// plans (replacing the runtime's `rt_policy_eval` import), a static data
// segment, `builtins()`/`entrypoints()` and the ABI version globals. The
// wasm structure follows OPA's own compiler so that BreakStmt indices mean
// the same thing: every IR block is a wasm block, a scan body sits directly
// in a loop inside a block, and "undefined" branches to the innermost label.

import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import type { Block, Func, Operand, Plan, Policy, Stmt } from "./plan.ts";
import { StaticData } from "./static-data.ts";
import { RUNTIME_WASM } from "./runtime-path.ts";

/** ABI version emitted (opa_wasm_abi_version / opa_wasm_abi_minor_version). */
export const ABI_VERSION = 1;
export const ABI_MINOR_VERSION = 2;

/** Initial (and minimum) memory pages the module imports. */
export const MEMORY_PAGES = 2;

export interface CompileOptions {
  /** Runtime module bytes; defaults to signatures-rego/runtime/build/runtime.wasm. */
  runtime?: Uint8Array;
  /** Run binaryen's optimiser over the generated functions (default true). */
  optimize?: boolean;
  /** Validate the module before emitting (default true). */
  validate?: boolean;
  /**
   * Tracee bundle mode (host/build/rego/bundle-abi.ts): keep the runtime's
   * `tracee_input`/`tracee_on_batch`/`tracee_finding` exports, export the
   * `tracee_abi_version` global, and serve this configuration (JSON) to them.
   * `inputBuiltins[i]`, when given, is the host builtin behind the runtime's
   * input lookup `i` (rego-glue.ts INPUT_BUILTINS): it is declared in
   * `builtins()` and called through opa_builtinN; a lookup without one is
   * undefined.
   */
  bundle?: BundleMode;
  /** Keep the runtime's internal `rt_*`/`b_*` exports (tests and debugging). */
  keepInternalExports?: boolean;
}

export interface BundleMode {
  config: string;
  inputBuiltins?: readonly ({ name: string; arity: number } | undefined)[];
}

export class RegoCompileError extends Error {
  readonly code = "TRC_ERR_REGO_COMPILE";
  constructor(message: string, readonly where?: string) {
    super(where ? `rego codegen: ${where}: ${message}` : `rego codegen: ${message}`);
  }
}

const T_ARRAY = 5, T_OBJECT = 6, T_SET = 7;
const i32 = binaryen.i32;
const none = binaryen.none;
const FEATURES =
  binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt |
  binaryen.Features.SignExt | binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt;

/** Data-segment accessors binaryen.js has but its typings lack. */
interface DataSegmentApi {
  getNumDataSegments(): number;
  getDataSegmentByIndex(i: number): number;
  getDataSegmentInfo(seg: number): { name: string; offset: number | null; data: ArrayBuffer; passive: boolean };
}
const segApi = (m: binaryen.Module) => m as unknown as DataSegmentApi;

let cachedRuntime: Uint8Array | undefined;
function defaultRuntime(): Uint8Array {
  if (!cachedRuntime) {
    try {
      cachedRuntime = readFileSync(RUNTIME_WASM);
    } catch (e) {
      throw new RegoCompileError(`runtime not built (${RUNTIME_WASM}); run host/build/rego/build-runtime.ts`);
    }
  }
  return cachedRuntime;
}

/** Export name of a natively implemented builtin in the runtime. */
export function nativeExportName(builtin: string): string {
  return "b_" + builtin.replace(/\./g, "__");
}

/** Compiles an IR policy to a wasm module loadable by @open-policy-agent/opa-wasm. */
export function compilePlan(policy: Policy, opts: CompileOptions = {}): Uint8Array {
  const mod = binaryen.readBinary(opts.runtime ?? defaultRuntime());
  try {
    mod.setFeatures(FEATURES);
    new Generator(mod, policy, opts.bundle, opts.keepInternalExports).run();
    if (opts.validate !== false && !mod.validate()) throw new RegoCompileError("generated module does not validate");
    if (opts.optimize !== false) {
      binaryen.setOptimizeLevel(2);
      binaryen.setShrinkLevel(0);
      mod.optimize();
    } else {
      mod.runPasses(["remove-unused-module-elements"]);
    }
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

interface FnCtx {
  name: string;
  locals: Map<number, number>; // IR local → wasm local index
  nparams: number;
  vars: number; // count of extra locals
  labels: string[];
  labelSeq: number;
  memoIndex: number; // -1 if not memoised
  retLocal: number; // wasm index of the return local (funcs)
  rsLocal: number; // wasm index of the result set local (plans)
}

class Generator {
  private data!: StaticData;
  private rt = new Map<string, string>(); // runtime export → internal function name
  private funcIndex = new Map<string, number>();
  private funcNames: string[] = [];
  private strings: string[];
  private stringAddrs: number[] = [];
  private builtinIds = new Map<string, number>(); // host builtins
  private hostImports = new Set<number>();
  private abortFn = "";
  private mappingGlobal = "";
  private mappingJson = "";
  private usesCallDynamic = false;
  private tableName = "rego_funcs";

  constructor(private mod: binaryen.Module, private policy: Policy, private bundle?: BundleMode, private keepInternal = false) {
    this.strings = (policy.static?.strings ?? []).map((s) => s.value);
  }

  run(): void {
    const mod = this.mod;
    this.indexRuntime();
    const base = this.dataStart();
    this.data = new StaticData(base);
    this.stringAddrs = this.strings.map((s) => this.data.stringValue(s));

    const funcs = this.policy.funcs?.funcs ?? [];
    funcs.forEach((f, i) => {
      this.funcIndex.set(f.name, i);
      this.funcNames.push(`rego_f${i}`);
    });
    (this.policy.static?.builtin_funcs ?? []).forEach((b, i) => {
      if (!this.rt.has(nativeExportName(b.name))) this.builtinIds.set(b.name, i);
    });
    this.usesCallDynamic = JSON.stringify(this.policy.funcs ?? {}).includes('"CallDynamicStmt"') ||
      JSON.stringify(this.policy.plans ?? {}).includes('"CallDynamicStmt"');

    if (this.usesCallDynamic) {
      this.mappingGlobal = "rego_mapping";
      mod.addGlobal(this.mappingGlobal, i32, true, mod.i32.const(0));
    }
    funcs.forEach((f, i) => this.compileFunc(f, i));
    this.compileEval(this.policy.plans?.plans ?? []);
    this.compileInputBuiltins();
    this.compileJsonFunc("entrypoints", JSON.stringify(Object.fromEntries((this.policy.plans?.plans ?? []).map((p, i) => [p.name, i]))));
    this.compileJsonFunc("builtins", JSON.stringify(Object.fromEntries(this.builtinIds)));
    if (this.usesCallDynamic) this.emitTable(funcs);

    // ABI globals.
    mod.addGlobal("opa_wasm_abi_version", i32, false, mod.i32.const(ABI_VERSION));
    mod.addGlobal("opa_wasm_abi_minor_version", i32, false, mod.i32.const(ABI_MINOR_VERSION));
    mod.addGlobalExport("opa_wasm_abi_version", "opa_wasm_abi_version");
    mod.addGlobalExport("opa_wasm_abi_minor_version", "opa_wasm_abi_minor_version");

    this.compileBundleConfig();
    this.finishMemory();
    if (!this.keepInternal) this.stripInternalExports();
  }

  /** Bundle mode: point the runtime's configuration globals at the JSON text and export the ABI global. */
  private compileBundleConfig(): void {
    if (!this.bundle) return;
    const mod = this.mod;
    const text = this.data.enc.encode(this.bundle.config);
    const addr = this.data.raw(text);
    for (const [exp, value] of [["rt_bundle_cfg_ptr", addr], ["rt_bundle_cfg_len", text.length]] as const) {
      const g = binaryen.getExportInfo(mod.getExport(exp)).value;
      mod.removeGlobal(g);
      mod.addGlobal(g, i32, true, mod.i32.const(value));
    }
    mod.addGlobal("tracee_abi_version", i32, false, mod.i32.const(1));
    mod.addGlobalExport("tracee_abi_version", "tracee_abi_version");
  }

  /**
   * Replaces the runtime's `rt_input_builtin(which, a, b)` import (input.ts:
   * host lookups for the input fields a record only references) with calls
   * of the declared host builtins; 0 (undefined) for the others, and always
   * outside bundle mode.
   */
  private compileInputBuiltins(): void {
    const mod = this.mod;
    const name = this.replaceImport("rt_input_builtin");
    const arg = (i: number) => mod.local.get(i, i32);
    const body: binaryen.ExpressionRef[] = [];
    (this.bundle?.inputBuiltins ?? []).forEach((b, which) => {
      if (!b) return;
      if (b.arity < 1 || b.arity > 2) throw new RegoCompileError(`input builtin ${b.name} has arity ${b.arity} (1 or 2)`);
      const call = mod.call(this.builtinImport(b.arity), [mod.i32.const(this.hostBuiltinId(b.name)), mod.i32.const(0), ...[1, 2].slice(0, b.arity).map(arg)], i32);
      body.push(mod.if(mod.i32.eq(arg(0), mod.i32.const(which)), mod.return(call)));
    });
    body.push(mod.i32.const(0));
    mod.addFunction(name, binaryen.createType([i32, i32, i32]), i32, [], mod.block(null, body, i32));
  }

  /** The id of host builtin `name` in `builtins()`, assigned on first use. */
  private hostBuiltinId(name: string): number {
    let id = this.builtinIds.get(name);
    if (id === undefined) {
      id = (this.policy.static.builtin_funcs ?? []).length + this.builtinIds.size;
      this.builtinIds.set(name, id);
    }
    return id;
  }

  /** The `env.opa_builtin<n>` import, added on first use. */
  private builtinImport(n: number): string {
    const imp = `opa_builtin${n}`;
    if (!this.hostImports.has(n)) {
      this.hostImports.add(n);
      this.mod.addFunctionImport(imp, "env", imp, binaryen.createType(new Array(n + 2).fill(i32)), i32);
    }
    return imp;
  }

  // ---- runtime discovery ----

  private indexRuntime(): void {
    const mod = this.mod;
    for (let i = 0; i < mod.getNumExports(); i++) {
      const e = binaryen.getExportInfo(mod.getExportByIndex(i));
      if (e.kind === binaryen.ExternalFunction) this.rt.set(e.name, e.value);
    }
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (f.module === "env" && f.base === "opa_abort") this.abortFn = f.name;
    }
    if (!this.abortFn) {
      this.abortFn = "opa_abort";
      mod.addFunctionImport("opa_abort", "env", "opa_abort", i32, none);
    }
  }

  private fn(name: string): string {
    const f = this.rt.get(name);
    if (!f) throw new RegoCompileError(`runtime lacks export ${name}`);
    return f;
  }

  private dataStart(): number {
    const mod = segApi(this.mod);
    let end = 0;
    for (let i = 0; i < mod.getNumDataSegments(); i++) {
      const s = mod.getDataSegmentInfo(mod.getDataSegmentByIndex(i));
      if (!s.passive && s.offset !== null) end = Math.max(end, Number(s.offset) + s.data.byteLength);
    }
    return (end + 15) & ~15;
  }

  private finishMemory(): void {
    const mod = this.mod;
    const segs: binaryen.MemorySegment[] = [];
    const api = segApi(mod);
    for (let i = 0; i < api.getNumDataSegments(); i++) {
      const s = api.getDataSegmentInfo(api.getDataSegmentByIndex(i));
      segs.push({ offset: mod.i32.const(Number(s.offset)), data: new Uint8Array(s.data), passive: false });
    }
    segs.push({ offset: mod.i32.const(this.data.base), data: this.data.data, passive: false });
    const heapBase = (this.data.end + 15) & ~15;
    if (heapBase > MEMORY_PAGES * 65536) {
      throw new RegoCompileError(`static data (${heapBase} bytes) exceeds the ${MEMORY_PAGES} initial memory pages`);
    }
    mod.setMemory(MEMORY_PAGES, -1, null, segs, false, false, "mimport$0");
    mod.addMemoryImport("mimport$0", "env", "memory");
    // Move the heap above the policy's data.
    const hb = binaryen.getExportInfo(mod.getExport("rt_heap_base")).value;
    mod.removeGlobal(hb);
    mod.addGlobal(hb, i32, true, mod.i32.const(heapBase));
  }

  private stripInternalExports(): void {
    const mod = this.mod;
    const names: string[] = [];
    for (let i = 0; i < mod.getNumExports(); i++) {
      const e = binaryen.getExportInfo(mod.getExportByIndex(i));
      if (e.name.startsWith("rt_") || e.name.startsWith("b_") || (!this.bundle && e.name.startsWith("tracee_") && e.name !== "tracee_abi_version")) names.push(e.name);
    }
    for (const n of names) mod.removeExport(n);
  }

  // ---- functions ----

  private newCtx(name: string, params: number[]): FnCtx {
    const locals = new Map<number, number>();
    params.forEach((p, i) => locals.set(p, i));
    return { name, locals, nparams: params.length, vars: 0, labels: [], labelSeq: 0, memoIndex: -1, retLocal: -1, rsLocal: -1 };
  }

  private local(c: FnCtx, l: number): number {
    let i = c.locals.get(l);
    if (i === undefined) {
      i = c.nparams + c.vars++;
      c.locals.set(l, i);
    }
    return i;
  }

  private temp(c: FnCtx): number {
    return c.nparams + c.vars++;
  }

  private label(c: FnCtx, kind: string): string {
    return `${kind}${c.labelSeq++}`;
  }

  private compileFunc(f: Func, idx: number): void {
    const mod = this.mod;
    if (!f.params?.length) throw new RegoCompileError("function without parameters", f.name);
    const c = this.newCtx(f.name, f.params);
    c.retLocal = this.local(c, f.return);
    const memoize = f.params.length === 2;
    if (memoize) c.memoIndex = idx;
    const body: binaryen.ExpressionRef[] = [];
    if (memoize) {
      body.push(mod.local.set(c.retLocal, mod.call(this.fn("rt_memo_get"), [mod.i32.const(idx)], i32)));
      body.push(mod.if(mod.local.get(c.retLocal, i32), mod.return(mod.local.get(c.retLocal, i32))));
    }
    const outer = this.label(c, "fn");
    c.labels.push(outer);
    const inner: binaryen.ExpressionRef[] = [];
    f.blocks.forEach((b, i) => {
      if (i < f.blocks.length - 1) inner.push(this.block(c, b));
      else inner.push(...this.stmts(c, b.stmts ?? []));
    });
    c.labels.pop();
    body.push(mod.block(outer, inner, none));
    body.push(mod.return(mod.local.get(c.retLocal, i32)));
    const params = binaryen.createType(f.params.map(() => i32));
    mod.addFunction(this.funcNames[idx], params, i32, new Array(c.vars).fill(i32), mod.block(null, body, none));
  }

  private compileEval(plans: Plan[]): void {
    const mod = this.mod;
    const evalName = this.replaceImport("rt_policy_eval");
    // eval(ctx): param 0 = ctx. IR locals 0/1 (input/data) are wasm locals 1/2.
    const c = this.newCtx("eval", [-1]);
    const ctx = 0;
    const input = this.local(c, 0), data = this.local(c, 1);
    c.rsLocal = this.temp(c);
    const eid = this.temp(c);
    const body: binaryen.ExpressionRef[] = [
      mod.call(this.fn("rt_memo_init"), [mod.i32.const(this.funcNames.length)], none),
      mod.local.set(input, mod.i32.load(0, 4, mod.local.get(ctx, i32))),
      mod.local.set(data, mod.i32.load(4, 4, mod.local.get(ctx, i32))),
      mod.local.set(c.rsLocal, mod.call(this.fn("rt_set"), [], i32)),
      mod.i32.store(8, 4, mod.local.get(ctx, i32), mod.local.get(c.rsLocal, i32)),
      mod.local.set(eid, mod.i32.load(12, 4, mod.local.get(ctx, i32))),
    ];
    if (this.usesCallDynamic) {
      const text = this.data.enc.encode(this.mappingJson || this.buildMapping());
      const addr = this.data.raw(text);
      body.push(mod.global.set(this.mappingGlobal,
        mod.call(this.fn("opa_json_parse"), [mod.i32.const(addr), mod.i32.const(text.length)], i32)));
    }
    const main = this.label(c, "main");
    c.labels.push(main);
    const mainBody: binaryen.ExpressionRef[] = [];
    plans.forEach((p, i) => {
      const ep = this.label(c, "ep");
      c.labels.push(ep);
      const epBody: binaryen.ExpressionRef[] = [
        mod.br(ep, mod.i32.ne(mod.local.get(eid, i32), mod.i32.const(i))),
      ];
      for (const b of p.blocks) epBody.push(this.block(c, b));
      epBody.push(mod.br(main));
      c.labels.pop();
      mainBody.push(mod.block(ep, epBody, none));
    });
    mainBody.push(mod.call(this.abortFn, [mod.i32.const(this.data.cstring("internal: illegal entrypoint id"))], none));
    mainBody.push(mod.unreachable());
    c.labels.pop();
    body.push(mod.block(main, mainBody, none));
    mod.addFunction(evalName, binaryen.createType([i32]), none, new Array(c.vars).fill(i32), mod.block(null, body, none));
  }

  /** Removes a runtime function import so a defined function can take its name. */
  private replaceImport(base: string): string {
    const mod = this.mod;
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (f.module === "env" && f.base === base) {
        mod.removeFunction(f.name);
        return f.name;
      }
    }
    throw new RegoCompileError(`runtime lacks import env.${base}`);
  }

  private compileJsonFunc(name: string, json: string): void {
    const mod = this.mod;
    const text = this.data.enc.encode(json);
    const addr = this.data.raw(text);
    mod.addFunction(name, none, i32, [],
      mod.call(this.fn("opa_json_parse"), [mod.i32.const(addr), mod.i32.const(text.length)], i32));
    mod.addFunctionExport(name, name);
  }

  private buildMapping(): string {
    const root: Record<string, unknown> = {};
    (this.policy.funcs?.funcs ?? []).forEach((f, i) => {
      const path = f.path ?? [];
      if (!path.length) return;
      let cur: Record<string, unknown> = root;
      for (let k = 0; k < path.length - 1; k++) {
        const next = cur[path[k]];
        if (typeof next !== "object" || next === null) cur[path[k]] = {};
        cur = cur[path[k]] as Record<string, unknown>;
      }
      cur[path[path.length - 1]] = i;
    });
    this.mappingJson = JSON.stringify(root);
    return this.mappingJson;
  }

  private emitTable(funcs: Func[]): void {
    const mod = this.mod;
    mod.addTable(this.tableName, funcs.length, funcs.length);
    mod.addActiveElementSegment(this.tableName, "rego_elems", this.funcNames, mod.i32.const(0));
  }

  // ---- blocks and statements ----

  private block(c: FnCtx, b: Block): binaryen.ExpressionRef {
    const name = this.label(c, "b");
    c.labels.push(name);
    const body = this.stmts(c, b.stmts ?? []);
    c.labels.pop();
    return this.mod.block(name, body, none);
  }

  private undef(c: FnCtx, cond?: binaryen.ExpressionRef): binaryen.ExpressionRef {
    return this.mod.br(c.labels[c.labels.length - 1], cond);
  }

  private read(c: FnCtx, op: Operand): binaryen.ExpressionRef {
    const mod = this.mod;
    switch (op.type) {
      case "local": return mod.local.get(this.local(c, op.value), i32);
      case "string_index": return mod.i32.const(this.stringAddrs[op.value]);
      case "bool": return mod.i32.const(this.data.boolValue(op.value));
      default: throw new RegoCompileError(`unknown operand ${JSON.stringify(op)}`, c.name);
    }
  }

  private sameOperand(a: Operand, b: Operand): boolean {
    return a.type === b.type && a.value === b.value;
  }

  private conflict(c: FnCtx, s: Stmt, msg: string): binaryen.ExpressionRef {
    const files = this.policy.static?.files ?? [];
    const loc = s.stmt;
    const file = loc.file !== undefined && files[loc.file] ? files[loc.file].value : "";
    const text = `${file}:${loc.row ?? 0}:${loc.col ?? 0}: ${msg}`;
    return this.mod.block(null, [
      this.mod.call(this.abortFn, [this.mod.i32.const(this.data.cstring(text))], none),
      this.mod.unreachable(),
    ], none);
  }

  private stmts(c: FnCtx, stmts: Stmt[]): binaryen.ExpressionRef[] {
    const out: binaryen.ExpressionRef[] = [];
    for (const s of stmts) this.stmt(c, s, out);
    return out;
  }

  private stmt(c: FnCtx, s: Stmt, out: binaryen.ExpressionRef[]): void {
    const mod = this.mod;
    const st = s.stmt;
    const L = (l: number) => this.local(c, l);
    const get = (l: number) => mod.local.get(L(l), i32);
    const call = (name: string, args: binaryen.ExpressionRef[], ret = i32) => mod.call(this.fn(name), args, ret);
    switch (s.type) {
      case "NopStmt":
        return;
      case "ResultSetAddStmt":
        out.push(call("rt_set_add", [mod.local.get(c.rsLocal, i32), get(st.value)], none));
        return;
      case "ReturnLocalStmt":
        if (c.memoIndex >= 0) out.push(call("rt_memo_insert", [mod.i32.const(c.memoIndex), get(st.source)], none));
        out.push(mod.return(get(st.source)));
        return;
      case "BlockStmt":
        for (const b of st.blocks ?? []) out.push(this.block(c, b));
        return;
      case "BreakStmt": {
        const idx = c.labels.length - 1 - st.index;
        if (idx < 0) throw new RegoCompileError(`break index ${st.index} out of range`, c.name);
        out.push(mod.br(c.labels[idx]));
        return;
      }
      case "CallStmt":
        this.callStmt(c, s, out);
        return;
      case "CallDynamicStmt": {
        const path: Operand[] = st.path;
        const arr = this.temp(c), idx = this.temp(c), res = L(st.result);
        out.push(mod.local.set(arr, call("rt_array", [mod.i32.const(path.length)])));
        for (const p of path) out.push(call("rt_array_append", [mod.local.get(arr, i32), this.read(c, p)], none));
        out.push(mod.local.set(idx, call("rt_mapping_lookup", [mod.global.get(this.mappingGlobal, i32), mod.local.get(arr, i32)])));
        out.push(this.undef(c, mod.i32.eqz(mod.local.get(idx, i32))));
        const args: number[] = st.args;
        out.push(mod.local.set(res, mod.call_indirect(this.tableName,
          mod.i32.sub(mod.local.get(idx, i32), mod.i32.const(1)),
          args.map((a) => get(a)), binaryen.createType(args.map(() => i32)), i32)));
        out.push(this.undef(c, mod.i32.eqz(mod.local.get(res, i32))));
        return;
      }
      case "WithStmt": {
        const target = L(st.local);
        const save = this.temp(c), undef = this.temp(c);
        out.push(call("rt_memo_push", [], none));
        out.push(mod.local.set(save, mod.local.get(target, i32)));
        const path: number[] = st.path ?? [];
        if (!path.length) out.push(mod.local.set(target, this.read(c, st.value)));
        else out.push(...this.upsert(c, target, path, st.value));
        out.push(mod.local.set(undef, mod.i32.const(1)));
        const name = this.label(c, "with");
        c.labels.push(name);
        const inner = this.stmts(c, st.block?.stmts ?? []);
        c.labels.pop();
        inner.push(mod.local.set(undef, mod.i32.const(0)));
        out.push(mod.block(name, inner, none));
        out.push(mod.local.set(target, mod.local.get(save, i32)));
        out.push(call("rt_memo_pop", [], none));
        out.push(this.undef(c, mod.local.get(undef, i32)));
        return;
      }
      case "AssignVarStmt":
        out.push(mod.local.set(L(st.target), this.read(c, st.source)));
        return;
      case "AssignVarOnceStmt": {
        const t = L(st.target);
        const src = this.read(c, st.source);
        const tmp = this.temp(c);
        out.push(mod.local.set(tmp, src));
        out.push(mod.if(
          mod.i32.eqz(mod.local.get(t, i32)),
          mod.local.set(t, mod.local.get(tmp, i32)),
          mod.if(call("rt_compare", [mod.local.get(t, i32), mod.local.get(tmp, i32)]),
            this.conflict(c, s, "var assignment conflict")),
        ));
        return;
      }
      case "AssignIntStmt":
        out.push(mod.local.set(L(st.target), call("rt_number_int", [mod.i64.const(BigInt(st.value))])));
        return;
      case "ScanStmt": {
        const cursor = this.temp(c);
        const src = L(st.source), key = L(st.key), val = L(st.value);
        const outer = this.label(c, "scan"), loop = this.label(c, "loop");
        c.labels.push(outer, loop);
        const body: binaryen.ExpressionRef[] = [
          mod.local.set(key, call("rt_iter_key", [mod.local.get(src, i32), mod.local.get(cursor, i32)])),
          mod.br(outer, mod.i32.eqz(mod.local.get(key, i32))),
          mod.local.set(val, call("rt_iter_val", [mod.local.get(src, i32), mod.local.get(cursor, i32)])),
          mod.local.set(cursor, mod.i32.add(mod.local.get(cursor, i32), mod.i32.const(1))),
          ...this.stmts(c, st.block?.stmts ?? []),
          mod.br(loop),
        ];
        c.labels.pop();
        c.labels.pop();
        out.push(mod.local.set(cursor, mod.i32.const(0)));
        out.push(mod.block(outer, [mod.loop(loop, mod.block(null, body, none))], none));
        return;
      }
      case "NotStmt": {
        const cond = this.temp(c);
        out.push(mod.local.set(cond, mod.i32.const(1)));
        const name = this.label(c, "not");
        c.labels.push(name);
        const inner = this.stmts(c, st.block?.stmts ?? []);
        c.labels.pop();
        inner.push(mod.local.set(cond, mod.i32.const(0)));
        out.push(mod.block(name, inner, none));
        out.push(this.undef(c, mod.i32.eqz(mod.local.get(cond, i32))));
        return;
      }
      case "DotStmt": {
        const src: Operand = st.source;
        if (src.type !== "local") { out.push(this.undef(c)); return; }
        const t = L(st.target);
        out.push(mod.local.set(t, call("rt_get", [get(src.value), this.read(c, st.key)])));
        out.push(this.undef(c, mod.i32.eqz(mod.local.get(t, i32))));
        return;
      }
      case "LenStmt":
        out.push(mod.local.set(L(st.target), call("rt_len", [this.read(c, st.source)])));
        return;
      case "EqualStmt":
        if (this.sameOperand(st.a, st.b)) return;
        out.push(this.undef(c, call("rt_compare", [this.read(c, st.a), this.read(c, st.b)])));
        return;
      case "NotEqualStmt": {
        const a: Operand = st.a, b: Operand = st.b;
        if (this.sameOperand(a, b)) { out.push(this.undef(c)); return; }
        if (a.type !== "local" && a.type === b.type) return;
        out.push(this.undef(c, mod.i32.eqz(call("rt_compare", [this.read(c, a), this.read(c, b)]))));
        return;
      }
      case "MakeNullStmt":
        out.push(mod.local.set(L(st.target), mod.i32.const(this.data.nullValue())));
        return;
      case "MakeNumberIntStmt":
        out.push(mod.local.set(L(st.target), mod.i32.const(this.data.numberValue(String(st.value)))));
        return;
      case "MakeNumberRefStmt":
        out.push(mod.local.set(L(st.target), mod.i32.const(this.data.numberValue(this.strings[st.Index]))));
        return;
      case "MakeConstStmt":
        // tracee-ts extension: a ground composite laid out in the data segment (read-only)
        out.push(mod.local.set(L(st.target), mod.i32.const(this.data.constValue(st.value))));
        return;
      case "MakeArrayStmt":
        out.push(mod.local.set(L(st.target), call("rt_array", [mod.i32.const(st.capacity ?? 0)])));
        return;
      case "MakeObjectStmt":
        out.push(mod.local.set(L(st.target), call("rt_object", [])));
        return;
      case "MakeSetStmt":
        out.push(mod.local.set(L(st.target), call("rt_set", [])));
        return;
      case "IsArrayStmt":
      case "IsObjectStmt":
      case "IsSetStmt": {
        const src: Operand = st.source;
        if (src.type !== "local") { out.push(this.undef(c)); return; }
        const tag = s.type === "IsArrayStmt" ? T_ARRAY : s.type === "IsObjectStmt" ? T_OBJECT : T_SET;
        // Address 0 holds a zero byte, so an undefined local reads tag 0.
        out.push(this.undef(c, mod.i32.ne(mod.i32.load8_u(0, 1, get(src.value)), mod.i32.const(tag))));
        return;
      }
      case "IsDefinedStmt":
        out.push(this.undef(c, mod.i32.eqz(get(st.source))));
        return;
      case "IsUndefinedStmt":
        out.push(this.undef(c, get(st.source)));
        return;
      case "ResetLocalStmt":
        out.push(mod.local.set(L(st.target), mod.i32.const(0)));
        return;
      case "ArrayAppendStmt":
        out.push(call("rt_array_append", [get(st.array), this.read(c, st.value)], none));
        return;
      case "ObjectInsertStmt":
        out.push(call("rt_object_insert", [get(st.object), this.read(c, st.key), this.read(c, st.value)], none));
        return;
      case "ObjectInsertOnceStmt": {
        const tmp = this.temp(c), val = this.temp(c);
        out.push(mod.local.set(val, this.read(c, st.value)));
        out.push(mod.local.set(tmp, call("rt_get", [get(st.object), this.read(c, st.key)])));
        out.push(mod.if(
          mod.local.get(tmp, i32),
          mod.if(call("rt_compare", [mod.local.get(tmp, i32), mod.local.get(val, i32)]), this.conflict(c, s, "object insert conflict")),
        ));
        out.push(call("rt_object_insert", [get(st.object), this.read(c, st.key), mod.local.get(val, i32)], none));
        return;
      }
      case "ObjectMergeStmt":
        out.push(mod.local.set(L(st.target), call("rt_merge", [get(st.a), get(st.b)])));
        return;
      case "SetAddStmt":
        out.push(call("rt_set_add", [get(st.set), this.read(c, st.value)], none));
        return;
      default:
        throw new RegoCompileError(`unsupported statement ${s.type}`, c.name);
    }
  }

  private callStmt(c: FnCtx, s: Stmt, out: binaryen.ExpressionRef[]): void {
    const mod = this.mod;
    const st = s.stmt;
    const name: string = st.func;
    const args: binaryen.ExpressionRef[] = (st.args ?? []).map((a: Operand) => this.read(c, a));
    const res = this.local(c, st.result);
    let callExpr: binaryen.ExpressionRef;
    const fi = this.funcIndex.get(name);
    if (fi !== undefined) {
      callExpr = mod.call(this.funcNames[fi], args, i32);
    } else if (this.rt.has(nativeExportName(name))) {
      callExpr = mod.call(this.fn(nativeExportName(name)), args, i32);
    } else {
      const n = args.length;
      if (n > 4) throw new RegoCompileError(`host builtin ${name} has ${n} arguments (at most 4)`, c.name);
      callExpr = mod.call(this.builtinImport(n), [mod.i32.const(this.hostBuiltinId(name)), mod.i32.const(0), ...args], i32);
    }
    out.push(mod.local.set(res, callExpr));
    out.push(this.undef(c, mod.i32.eqz(mod.local.get(res, i32))));
  }

  /** `with` on a path: shallow-copy along the path and insert the value. */
  private upsert(c: FnCtx, target: number, path: number[], value: Operand): binaryen.ExpressionRef[] {
    const mod = this.mod;
    const call = (name: string, args: binaryen.ExpressionRef[], ret = i32) => mod.call(this.fn(name), args, ret);
    const cur = this.temp(c), next = this.temp(c);
    const isObj = (l: number) => mod.i32.eq(mod.i32.load8_u(0, 1, mod.local.get(l, i32)), mod.i32.const(T_OBJECT));
    const out: binaryen.ExpressionRef[] = [
      mod.local.set(cur, mod.if(isObj(target), call("rt_shallow_copy", [mod.local.get(target, i32)]), call("rt_object", []))),
      mod.local.set(target, mod.local.get(cur, i32)),
    ];
    for (let i = 0; i < path.length - 1; i++) {
      const key = mod.i32.const(this.stringAddrs[path[i]]);
      out.push(mod.local.set(next, call("rt_get", [mod.local.get(cur, i32), key])));
      out.push(mod.local.set(next, mod.if(isObj(next), call("rt_shallow_copy", [mod.local.get(next, i32)]), call("rt_object", []))));
      out.push(call("rt_object_insert", [mod.local.get(cur, i32), mod.i32.const(this.stringAddrs[path[i]]), mod.local.get(next, i32)], none));
      out.push(mod.local.set(cur, mod.local.get(next, i32)));
    }
    out.push(call("rt_object_insert", [mod.local.get(cur, i32), mod.i32.const(this.stringAddrs[path[path.length - 1]]), this.read(c, value)], none));
    return out;
  }
}
