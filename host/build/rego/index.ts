// Rego back end: OPA IR plan → OPA-ABI WebAssembly.
export { compilePlan, nativeExportName, RegoCompileError, ABI_VERSION, ABI_MINOR_VERSION, MEMORY_PAGES } from "./codegen.ts";
export type { CompileOptions } from "./codegen.ts";
export type { Policy, Plan, Func, Block, Stmt, Operand } from "./plan.ts";
export { buildRuntime } from "./build-runtime.ts";
export { RUNTIME_WASM } from "./runtime-path.ts";
// Rego front end: .rego → plan → wasm.
export { compileRego, compileRegoToWasm, parseSources } from "./compile-rego.ts";
export type { RegoSource, CompileRegoOptions, CompileRegoResult } from "./compile-rego.ts";
export { RegoError, RegoErrors } from "./parser/errors.ts";
export { runRegoTests } from "./rego-tests.ts";
export type { RegoTestReport, RegoTestResult } from "./rego-tests.ts";
export { buildRegoBundles, buildAllInOne, bundleConfig, inputFieldMask, referencedArgNames } from "./bundle-abi.ts";
export { RegoBundleGlue, isRegoBundle } from "../../engine/rego-glue.ts";
export { printPolicy } from "./planner/print.ts";
