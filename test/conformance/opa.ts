// OPA compliance corpus runner for the Rego back end.
//
// Usage: tsx test/conformance/opa.ts <corpus-dir> --plans [--only TEXT] [--verbose] [--report FILE]
//
// Every case that expects a result is run by compiling its precomputed IR
// plan with compilePlan, loading the module with @open-policy-agent/opa-wasm's
// loadPolicy, evaluating it with the case's data and input, and comparing with
// want_result (Rego equality; sort_bindings honoured). Cases that call only
// builtins OPA's own wasm runtime implements natively form the "native" figure.
// Known failures (opa-known-failures.json) are listed with their reason.

import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compilePlan } from "../../host/build/rego/index.ts";
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
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".json")) out.push(p);
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

async function runCase(c: Case): Promise<string | undefined> {
  let wasm: Uint8Array;
  try {
    wasm = compilePlan(c.plan, { optimize: false, validate: false });
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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith("--") && !args[args.indexOf(a) - 1]?.match(/^--(only|report)$/));
  if (!dir) {
    console.error("usage: opa.ts <corpus-dir> --plans [--only TEXT] [--verbose] [--report FILE]");
    process.exit(2);
  }
  if (!args.includes("--plans")) {
    console.error("opa.ts: only --plans mode (precomputed IR plans) is implemented");
    process.exit(2);
  }
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const verbose = args.includes("--verbose");
  const reportPath = args.includes("--report") ? args[args.indexOf("--report") + 1] : join(here, "results", "opa.json");
  const known: Record<string, string> = JSON.parse(readFileSync(join(here, "opa-known-failures.json"), "utf8"));

  await buildRuntime({ quiet: true });
  const root = resolve(dir);
  const outcomes: Outcome[] = [];
  for (const file of walk(root)) {
    const rel = relative(root, file);
    const category = rel.split("/")[0];
    const doc = JSON.parse(readFileSync(file, "utf8")) as { cases: Case[] };
    for (const c of doc.cases ?? []) {
      if (c.want_result === undefined) continue;
      const id = `${rel}#${c.note}`;
      if (only && !id.includes(only)) continue;
      const builtins = (c.plan?.static?.builtin_funcs ?? []).map((b) => b.name);
      const native = builtins.every((b) => OPA_NATIVE_BUILTINS.has(b));
      const reason = await runCase(c);
      const o: Outcome = { id, category, native, passed: reason === undefined, reason };
      if (!o.passed && known[id]) o.known = known[id];
      outcomes.push(o);
      if (verbose) console.log(`${o.passed ? "ok  " : "FAIL"} ${id}${reason ? "  " + reason : ""}`);
    }
  }

  const cats = new Map<string, { p: number; n: number }>();
  for (const o of outcomes) {
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
  const nat = outcomes.filter((o) => o.native);
  const natP = nat.filter((o) => o.passed).length;
  const allP = outcomes.filter((o) => o.passed).length;
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, JSON.stringify({
    corpus: root, native: { passed: natP, total: nat.length }, results: { passed: allP, total: outcomes.length },
    categories: Object.fromEntries(cats), failures,
  }, null, 2));
  console.log(`\nreport: ${relative(process.cwd(), reportPath)}`);
  console.log(`native: ${natP}/${nat.length} passed; results: ${allP}/${outcomes.length} passed`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
