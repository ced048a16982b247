// `tracee-rules test <dir>`: runs the `test_*` rules of a directory of Rego
// files (OPA-test style: `test_x { … with input as {…} }`) by compiling all
// of them into one module with one entrypoint per test and evaluating each
// through @open-policy-agent/opa-wasm's loadPolicy.

import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { compilePlan } from "./codegen.ts";
import { compileRego, type RegoSource } from "./compile-rego.ts";
import { parseModule } from "./parser/parser.ts";
import type { TermOf } from "./parser/ast.ts";
import { RegoError } from "./parser/errors.ts";
import { regoHostBuiltins, SIGNATURE_BUILTINS } from "../../engine/rego-glue.ts";

export interface RegoTestResult {
  /** `data.<package>.<rule>` */
  name: string;
  file: string;
  passed: boolean;
  /** Why it failed (undefined result, false, or an evaluation error). */
  reason?: string;
}

export interface RegoTestReport {
  results: RegoTestResult[];
  /** Compile errors (file:line:col: kind: message); no test ran when there are any. */
  errors: string[];
}

export interface RegoTestOptions {
  /** Rego version for files that do not import rego.v1 (default v0, as Tracee's signatures). */
  regoVersion?: "v0" | "v1";
  /** Only tests whose name contains this text. */
  filter?: string;
}

/** All .rego files under a directory (or the file itself), sorted; the runtime directory is skipped. */
export async function findRegoFiles(src: string): Promise<string[]> {
  const abs = path.resolve(src);
  const st = await stat(abs);
  if (st.isFile()) return abs.endsWith(".rego") ? [abs] : [];
  const out: string[] = [];
  for (const e of await readdir(abs, { withFileTypes: true, recursive: true })) {
    const dir = e.parentPath ?? (e as unknown as { path: string }).path;
    if (e.isFile() && e.name.endsWith(".rego") && !dir.split(path.sep).includes("node_modules")) out.push(path.join(dir, e.name));
  }
  return out.sort();
}

export async function readRegoSources(files: string[], base: string): Promise<RegoSource[]> {
  return Promise.all(files.map(async (f) => ({ file: path.relative(base, f) || path.basename(f), text: await readFile(f, "utf8") })));
}

export async function runRegoTests(src: string, opts: RegoTestOptions = {}): Promise<RegoTestReport> {
  const base = process.cwd();
  const files = await findRegoFiles(src);
  const sources = await readRegoSources(files, base);
  const version = opts.regoVersion ?? "v0";
  // find the test rules
  const tests: { name: string; entry: string; file: string }[] = [];
  const errors: string[] = [];
  for (const s of sources) {
    try {
      const m = parseModule(s.text, s.file, { v1: version === "v1" });
      const pkg = m.package.slice(1).map((t) => (t as TermOf<"string">).value);
      const seen = new Set<string>();
      for (const r of m.rules) {
        const n = (r.head.ref[0] as TermOf<"var">).name;
        if (!n.startsWith("test_") || r.head.ref.length !== 1 || r.head.args || seen.has(n)) continue;
        seen.add(n);
        const name = `data.${pkg.join(".")}.${n}`;
        if (opts.filter && !name.includes(opts.filter)) continue;
        tests.push({ name, entry: [...pkg, n].join("/"), file: s.file });
      }
    } catch (e) {
      if (e instanceof RegoError) errors.push(e.message);
      else throw e;
    }
  }
  if (errors.length) return { results: [], errors };
  if (!tests.length) return { results: [], errors };
  const r = compileRego(sources, tests.map((t) => t.entry), { regoVersion: version, customBuiltins: SIGNATURE_BUILTINS });
  if ("errors" in r) return { results: [], errors: r.errors.map((e) => e.message) };
  // no host tables here: tracee.containers knows no container (tests mock it with `with`)
  const policy = await loadPolicy(compilePlan(r.plan), undefined, regoHostBuiltins(() => undefined));
  const results: RegoTestResult[] = [];
  for (const t of tests) {
    try {
      const res = policy.evaluate(undefined, t.entry) as { result: unknown }[];
      if (res.length === 1 && res[0].result === true) results.push({ name: t.name, file: t.file, passed: true });
      else results.push({ name: t.name, file: t.file, passed: false, reason: res.length ? `result ${JSON.stringify(res[0].result)}` : "undefined" });
    } catch (e) {
      const msg = e instanceof Error ? e.message : typeof e === "object" ? JSON.stringify(e) : String(e);
      results.push({ name: t.name, file: t.file, passed: false, reason: `error: ${msg}` });
    }
  }
  return { results, errors: [] };
}
