// OPA compliance corpus runner for the Rego back end.
//
// Usage: tsx test/conformance/opa.ts <corpus-dir> [--plans] [--only TEXT] [--verbose] [--report FILE]
//
// Without --plans (end to end), each case's modules and query go through our
// parser, compiler and planner (compileRego), then part 1's back end. Cases
// expecting an error count when we reject them at compile time or evaluation
// fails (strict_error cases: builtin errors are undefined in OPA's wasm, so an
// empty result also counts). Known failures: opa-e2e-known-failures.json.
// The last line is `native: P/1104 passed; results: Q/1837 passed; errors: R/238 passed`.
//
// With --plans, every case that expects a result is run by compiling its precomputed IR
// plan with compilePlan, loading the module with @open-policy-agent/opa-wasm's
// loadPolicy, evaluating it with the case's data and input, and comparing with
// want_result (Rego equality; sort_bindings honoured). Cases that call only
// builtins OPA's own wasm runtime implements natively form the "native" figure.
// Known failures (opa-known-failures.json) are listed with their reason.

import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compilePlan, compileRego } from "../../host/build/rego/index.ts";
import { buildRuntime } from "../../host/build/rego/build-runtime.ts";
import type { Policy } from "../../host/build/rego/plan.ts";
import { parseRegoTerm } from "./rego-term.ts";
import { OPA_NATIVE_BUILTINS } from "./opa-native-builtins.ts";

const here = dirname(fileURLToPath(import.meta.url));

interface Case {
  note: string;
  query?: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Record<string, unknown>[];
  want_error?: string;
  want_error_code?: string;
  strict_error?: boolean;
  sort_bindings?: boolean;
  ignore_generated_vars?: boolean;
  plan: Policy;
}

interface Outcome {
  id: string;
  category: string;
  native: boolean;
  passed: boolean;
  reason?: string;
  known?: string;
  error?: boolean;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    // Cases are JSON; one corpus file is JSON with a .yml name.
    else if (name.endsWith(".json") || (/\.ya?ml$/.test(name) && readFileSync(p, "utf8").trimStart().startsWith("{"))) out.push(p);
  }
  return out;
}

/** Rego equality over JSON values (numbers by value, objects by key set). */
export function regoEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => regoEqual(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object), kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) &&
      regoEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical((v as Record<string, unknown>)[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

function dropGenerated(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("__"))));
}

function short(v: unknown, n = 160): string {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > n ? s.slice(0, n) + "…" : s;
}

/** Our front end: the case's modules and query → plan ("eval" entrypoint). */
function frontEnd(c: Case): Policy | string {
  const modules = (c.modules ?? []).map((text, i) => ({ file: `module-${i}.rego`, text }));
  let r;
  try {
    r = compileRego(modules, [], { regoVersion: "v1", queries: [{ name: "eval", query: c.query ?? "" }] });
  } catch (e) {
    return `crash: ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}`;
  }
  if ("errors" in r) return `rego: ${r.errors.map((e) => e.message).join("; ").slice(0, 300)}`;
  return r.plan;
}

async function runCase(c: Case, e2e = false): Promise<string | undefined> {
  let wasm: Uint8Array;
  let plan = c.plan;
  if (e2e) {
    const p = frontEnd(c);
    if (typeof p === "string") return p;
    plan = p;
  }
  try {
    wasm = compilePlan(plan, { optimize: false, validate: e2e });
  } catch (e) {
    return `compile: ${(e as Error).message}`;
  }
  let input: unknown = c.input;
  if (c.input_term !== undefined) {
    try { input = parseRegoTerm(c.input_term); } catch (e) { return `input_term: ${(e as Error).message}`; }
  }
  let got: Record<string, unknown>[];
  try {
    const policy = await loadPolicy(wasm);
    if (c.data !== undefined) policy.setData(c.data as object);
    got = policy.evaluate(input) as Record<string, unknown>[];
  } catch (e) {
    const msg = e instanceof Error ? e.message : typeof e === "object" ? JSON.stringify(e) : String(e);
    return `eval: ${msg.split("\n")[0].slice(0, 200)}`;
  }
  let want = c.want_result ?? [];
  if (c.ignore_generated_vars) { want = dropGenerated(want); got = dropGenerated(got); }
  // The result set is a set: compare as one, whatever order either side lists it in.
  const sortRows = (rows: Record<string, unknown>[]) => [...rows].sort((x, y) => canonical(x) < canonical(y) ? -1 : 1);
  const g = sortRows(got), w = sortRows(want);
  if (!regoEqual(g, w)) return `want ${short(want)} got ${short(got)}`;
  return undefined;
}

/**
 * A case expecting an error passes when our compiler rejects it, or evaluation
 * throws; with strict_error (builtin errors, undefined in OPA's wasm without
 * strict mode) an empty result also counts.
 */
const errorHow = { compile: 0, eval: 0, undefined: 0 };
const compileRejected: string[] = [];

async function runErrorCase(c: Case): Promise<string | undefined> {
  const p = frontEnd(c);
  if (typeof p === "string") {
    if (!p.startsWith("rego: ")) return p;
    errorHow.compile++;
    compileRejected.push(`${c.note}: ${p.slice(6, 200)}`);
    return undefined;
  }
  let wasm: Uint8Array;
  try {
    wasm = compilePlan(p, { optimize: false });
  } catch (e) {
    return `compile: ${(e as Error).message}`;
  }
  let input: unknown = c.input;
  if (c.input_term !== undefined) {
    try { input = parseRegoTerm(c.input_term); } catch (e) { return `input_term: ${(e as Error).message}`; }
  }
  let got: unknown[];
  try {
    const policy = await loadPolicy(wasm);
    if (c.data !== undefined) policy.setData(c.data as object);
    got = policy.evaluate(input) as unknown[];
  } catch {
    errorHow.eval++;
    return undefined;
  }
  if (c.strict_error && got.length === 0) { errorHow.undefined++; return undefined; }
  return `want error ${c.want_error_code ?? ""} ${short(c.want_error ?? "")}, got ${short(got)}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith("--") && !args[args.indexOf(a) - 1]?.match(/^--(only|report)$/));
  if (!dir) {
    console.error("usage: opa.ts <corpus-dir> --plans [--only TEXT] [--verbose] [--report FILE]");
    process.exit(2);
  }
  const e2e = !args.includes("--plans");
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const verbose = args.includes("--verbose");
  const reportPath = args.includes("--report") ? args[args.indexOf("--report") + 1] : join(here, "results", e2e ? "opa-e2e.json" : "opa.json");
  const known: Record<string, string> = JSON.parse(readFileSync(join(here, e2e ? "opa-e2e-known-failures.json" : "opa-known-failures.json"), "utf8"));

  await buildRuntime({ quiet: true });
  const root = resolve(dir);
  const outcomes: Outcome[] = [];
  for (const file of walk(root)) {
    const rel = relative(root, file);
    const category = rel.split("/")[0];
    const doc = JSON.parse(readFileSync(file, "utf8")) as { cases: Case[] };
    for (const c of doc.cases ?? []) {
      const isError = c.want_result === undefined && (c.want_error !== undefined || c.want_error_code !== undefined);
      if (c.want_result === undefined && !(e2e && isError)) continue;
      const id = `${rel}#${c.note}`;
      if (only && !id.includes(only)) continue;
      const builtins = (c.plan?.static?.builtin_funcs ?? []).map((b) => b.name);
      const native = builtins.every((b) => OPA_NATIVE_BUILTINS.has(b));
      const reason = isError ? await runErrorCase(c) : await runCase(c, e2e);
      const o: Outcome = { id, category, native, passed: reason === undefined, reason, error: isError };
      if (!o.passed && known[id]) o.known = known[id];
      outcomes.push(o);
      if (verbose) console.log(`${o.passed ? "ok  " : "FAIL"} ${id}${reason ? "  " + reason : ""}`);
    }
  }

  const errOutcomes = outcomes.filter((o) => o.error);
  const resOutcomes = outcomes.filter((o) => !o.error);
  const cats = new Map<string, { p: number; n: number }>();
  for (const o of resOutcomes) {
    const e = cats.get(o.category) ?? { p: 0, n: 0 };
    e.n++; if (o.passed) e.p++;
    cats.set(o.category, e);
  }
  console.log("category                                   passed/total");
  for (const [k, v] of [...cats].sort()) console.log(`${k.padEnd(44)} ${v.p}/${v.n}${v.p === v.n ? "" : "  ✗"}`);
  const failures = outcomes.filter((o) => !o.passed);
  console.log(`\nfailures (${failures.length}):`);
  for (const f of failures) {
    console.log(`  ${f.native ? "[native] " : "[host]   "}${f.id}: ${f.known ? `known: ${f.known}` : f.reason}`);
  }
  const unexpectedPasses = Object.keys(known).filter((k) => outcomes.some((o) => o.id === k && o.passed));
  if (unexpectedPasses.length) console.log(`\nknown failures that now pass (remove from the list): ${unexpectedPasses.join(", ")}`);
  const nat = resOutcomes.filter((o) => o.native);
  const natP = nat.filter((o) => o.passed).length;
  const allP = resOutcomes.filter((o) => o.passed).length;
  const errP = errOutcomes.filter((o) => o.passed).length;
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, JSON.stringify({
    corpus: root, mode: e2e ? "end-to-end" : "plans", native: { passed: natP, total: nat.length },
    results: { passed: allP, total: resOutcomes.length },
    ...(e2e ? { errors: { passed: errP, total: errOutcomes.length } } : {}),
    categories: Object.fromEntries(cats), failures,
  }, null, 2));
  if (e2e) {
    console.log(`\nerror cases passed: ${errorHow.compile} rejected at compile time, ${errorHow.eval} failed at evaluation, ${errorHow.undefined} undefined (strict_error)`);
    if (verbose) for (const r of compileRejected) console.log(`  compile-time rejection: ${r}`);
  }
  console.log(`\nreport: ${relative(process.cwd(), reportPath)}`);
  console.log(`native: ${natP}/${nat.length} passed; results: ${allP}/${resOutcomes.length} passed` +
    (e2e ? `; errors: ${errP}/${errOutcomes.length} passed` : ""));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
