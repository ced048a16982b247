// Rego back end: OPA IR plan → OPA-ABI WebAssembly.
export { compilePlan, nativeExportName, RegoCompileError, ABI_VERSION, ABI_MINOR_VERSION, MEMORY_PAGES } from "./codegen.ts";
export type { CompileOptions } from "./codegen.ts";
export type { Policy, Plan, Func, Block, Stmt, Operand } from "./plan.ts";
export { buildRuntime } from "./build-runtime.ts";
export { RUNTIME_WASM } from "./runtime-path.ts";
