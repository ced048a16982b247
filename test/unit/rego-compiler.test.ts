// Unit tests for the Rego compiler passes and planner (host/build/rego/compiler,
// planner): small policies compiled with compileRego, turned into wasm by part
// 1's back end and evaluated through the unmodified @open-policy-agent/opa-wasm
// SDK; plus the compile errors (`file:line:col: kind: message`).

import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { buildRuntime, compilePlan, compileRego, compileRegoToWasm } from "../../host/build/rego/index.ts";
import { printPolicy } from "../../host/build/rego/planner/print.ts";

before(async () => { await buildRuntime({ quiet: true }); });

/** Evaluates `query` (results keyed by its vars) over the modules. */
async function query(modules: string[], q: string, input?: unknown, data?: object): Promise<Record<string, unknown>[]> {
  const r = compileRego(modules.map((text, i) => ({ file: `m${i}.rego`, text })), [], { queries: [{ name: "q", query: q }] });
  if ("errors" in r) throw new Error(r.errors.map((e) => e.message).join("\n"));
  const pol = await loadPolicy(compilePlan(r.plan));
  if (data) pol.setData(data);
  return pol.evaluate(input, "q") as Record<string, unknown>[];
}

/** The value of data.test.p (undefined when p is undefined). */
async function p(module: string, input?: unknown, data?: object): Promise<unknown> {
  const rows = await query([module], "x = data.test.p", input, data);
  return rows.length ? rows[0].x : undefined;
}

function errors(modules: string[], q = "data.test.p = x", regoVersion: "v0" | "v1" = "v1"): string[] {
  const r = compileRego(modules.map((text, i) => ({ file: `m${i}.rego`, text })), [], { queries: [{ name: "q", query: q }], regoVersion });
  return "errors" in r ? r.errors.map((e) => e.message) : [];
}

describe("rego compiler: rules and documents", () => {
  it("plans complete, partial set, partial object and function rules", async () => {
    assert.equal(await p("package test\np := 1 + 2"), 3);
    assert.deepEqual(await p("package test\np contains x if { x := input.xs[_]; x > 1 }", { xs: [1, 2, 3, 2] }), [2, 3]);
    assert.deepEqual(await p('package test\np[k] := v if { some k, v in input; v != "b" }', { a: "x", b: "b" }), { a: "x" });
    assert.equal(await p("package test\nf(x, y) := x * y\np := f(6, 7)"), 42);
    assert.equal(await p("package test\nf([a, b]) := a + b\np := f([1, 2])"), 3);
  });

  it("applies defaults and else chains, and conflicts at evaluation", async () => {
    const m = "package test\ndefault p := \"none\"\np := \"a\" if input.a else := \"b\" if input.b";
    assert.equal(await p(m, { a: true }), "a");
    assert.equal(await p(m, { b: true }), "b");
    assert.equal(await p(m, {}), "none");
    await assert.rejects(p("package test\np := 1 if input.a\np := 2 if input.b", { a: true, b: true }), /var assignment conflict/);
  });

  it("handles ref heads, packages and base documents merged with virtual ones", async () => {
    assert.deepEqual(await p("package test\np.a.b := 1\np.a.c := 2\np[x].d := 3 if x := \"e\""), { a: { b: 1, c: 2 }, e: { d: 3 } });
    const rows = await query(["package a.b\nc := 1", "package a.x\n"], "data.a = x", undefined, { a: { base: true } });
    assert.deepEqual(rows, [{ x: { b: { c: 1 }, x: {}, base: true } }]);
    const iter = await query(["package a\nq := 1\nr := 2"], "data.a[k] = v");
    assert.deepEqual(iter.sort((x, y) => String(x.k).localeCompare(String(y.k))), [{ k: "q", v: 1 }, { k: "r", v: 2 }]);
  });

  it("resolves imports and package-local names across modules", async () => {
    const rows = await query([
      "package lib\nimport rego.v1\ndouble(x) := 2 * x\nlimit := 10",
      "package test\nimport data.lib\nimport data.lib.limit as max\np := lib.double(max)",
      "package test\nq := p + 1",
    ], "x = data.test.q");
    assert.deepEqual(rows, [{ x: 21 }]);
  });
});

describe("rego compiler: expressions", () => {
  it("unifies composite patterns in either direction", async () => {
    assert.deepEqual(await p("package test\np := [a, b] if { [a, {\"k\": b}] = input }", [1, { k: 2 }]), [1, 2]);
    assert.deepEqual(await p("package test\np := y if { input = {\"a\": [y, _]} }", { a: [5, 6] }), 5);
    assert.equal(await p("package test\np if { [1, x] = [y, 2]; x == 2; y == 1 }"), true);
  });

  it("reorders bodies for safety (a var used before the expression that binds it)", async () => {
    assert.equal(await p("package test\np := y if {\n  y > 1\n  y = input.n * 2\n}", { n: 3 }), 6);
  });

  it("scopes := declarations in comprehensions and shadows rules", async () => {
    assert.deepEqual(await p("package test\nq := 5\np := [q | some q in input]", [1, 2]), [1, 2]);
    assert.deepEqual(await p("package test\np := {k: count(v) | some k, v in input}", { a: [1], b: [1, 2] }), { a: 1, b: 2 });
    assert.deepEqual(await p("package test\np := {x | x := input[_] % 2}", [1, 2, 3]), [0, 1]);
  });

  it("plans not, every, in and nested calls", async () => {
    assert.equal(await p("package test\np if not input.x", {}), true);
    assert.equal(await p("package test\np if { every x in input { x > 0 } }", [1, 2]), true);
    assert.equal(await p("package test\np if { every x in input { x > 0 } }", [1, -2]), undefined);
    assert.equal(await p("package test\np if { every x in input { x > 0 } }", "not a collection"), undefined);
    assert.equal(await p("package test\np if { 2 in input; not 5 in input }", [1, 2]), true);
    assert.equal(await p('package test\np := upper(concat("-", [lower("A"), trim_space("  b ")]))'), "A-B");
    assert.deepEqual(await p("package test\np contains [path, v] if { walk(input, [path, v]); is_number(v) }", { a: [7] }), [[["a", 0], 7]]);
  });

  it("evaluates template strings: undefined parts, nesting, with, and in v0 modules and function arguments", async () => {
    assert.equal(await p('package test\na := "foo"\np := $"{a}-{input.x}-{input.nope}-{$"<{count(input.l)}>"}"', { x: [1, "y"], l: [1, 2] }), 'foo-[1, "y"]-<undefined>-<2>');
    assert.equal(await p('package test\nb := input.b\np := $`{b with input as {"b": 1}}\n{b}`', { b: 2 }), "1\n2");
    assert.equal(await p('package test\nusers := {"user_1", "user_7"}\np if $"user_{input.id}" in users', { id: 7 }), true);
    const v0 = compileRego([{ file: "v0.rego", text: 'package test\np = x { x := $"user_{input.id}" }\nf($"{y}!") = y { y := "hi" }\nq := f("hi!")' }], ["test/p", "test/q"], { regoVersion: "v0" });
    if ("errors" in v0) assert.fail(v0.errors.map((e) => e.message).join("\n"));
    const pol = await loadPolicy(compilePlan(v0.plan));
    assert.deepEqual(pol.evaluate({ id: 7 }, "test/p"), [{ result: "user_7" }]);
    assert.deepEqual(pol.evaluate({}, "test/q"), [{ result: "hi" }]);
    // several values: the builtin fails, so p is undefined
    assert.equal(await p('package test\np := $"{input.l[_]}"', { l: [1, 2] }), undefined);
  });

  it("evaluates with on input, data, virtual documents and functions", async () => {
    assert.equal(await p("package test\nq := input.a\np := x if x := q with input.a as 3"), 3);
    assert.equal(await p("package test\nq := data.cfg.v\np := x if x := q with data.cfg.v as 4"), 4);
    assert.equal(await p("package test\nq := 1\nr := q + 1\np := x if x := r with q as 10"), 11);
    assert.equal(await p("package test\nf(x) := x + 1\ng(x) := x * 100\nr := f(1)\np := x if x := r with f as g"), 100);
    assert.equal(await p("package test\nr := count([1, 2])\np := x if x := r with count as 42"), 42);
    assert.deepEqual(await p("package test\nq := input\np := [a, b] if { a := q with input as 1; b := q }", 2), [1, 2]);
  });
});

describe("rego compiler: errors", () => {
  it("reports unsafe vars, undefined functions and arity at file:line:col", () => {
    assert.deepEqual(errors(["package test\np if {\n  x > 1\n}"]), ["m0.rego:3:3: rego_unsafe_var_error: var x is unsafe"]);
    assert.deepEqual(errors(["package test\np[x] := 1 if input.a"]), ["m0.rego:2:1: rego_unsafe_var_error: var x is unsafe"]);
    assert.deepEqual(errors(["package test\np if nope(1)"]), ["m0.rego:2:6: rego_type_error: undefined function nope"]);
    assert.match(errors(["package test\np if count(1, 2, 3)"])[0], /^m0\.rego:2:6: rego_type_error: count: too many arguments$/);
  });

  it("reports conflicting rules, multiple defaults, recursion and re-declarations", () => {
    assert.match(errors(["package test\np := 1\np contains 2"])[0], /^m0\.rego:3:1: rego_type_error: conflicting rules data\.test\.p found$/);
    assert.match(errors(["package test\ndefault p := 1\ndefault p := 2"])[0], /multiple default rules data\.test\.p found/);
    assert.match(errors(["package test\np if q\nq if p"])[0], /rego_recursion_error: rule data\.test\.\w is recursive: data\.test\.\w -> data\.test\.\w -> data\.test\.\w/);
    assert.match(errors(["package test\np if {\n  x := 1\n  x := 2\n}"])[0], /^m0\.rego:4:3: rego_compile_error: var x assigned above$/);
    assert.match(errors(["package test\np := 1 if x := 1\np := 1 if x := 2\nq := 1\nq contains 1"])[0], /conflicting rules data\.test\.q/);
  });

  it("compileRegoToWasm throws the errors", () => {
    assert.throws(() => compileRegoToWasm([{ file: "a.rego", text: "package a\np if {" }], ["a/p"]), /a\.rego:2:7: rego_parse_error: unexpected eof token/);
  });
});

describe("rego planner: plan shape", () => {
  it("names funcs g<generation>.data.<path>, and plans entrypoints with a result key", () => {
    const r = compileRego([{ file: "a.rego", text: "package a\nq := input.x\np := q" }], ["a/p"]);
    assert.ok(!("errors" in r));
    const plan = (r as { plan: import("../../host/build/rego/plan.ts").Policy }).plan;
    assert.deepEqual(plan.plans.plans!.map((x) => x.name), ["a/p"]);
    assert.deepEqual(plan.funcs!.funcs!.map((f) => f.name).sort(), ["g0.data.a.p", "g0.data.a.q"]);
    assert.match(printPolicy(plan), /ObjectInsert key="result"/);
  });
});
