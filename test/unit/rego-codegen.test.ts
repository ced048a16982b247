// Unit tests for the Rego code generator (host/build/rego): hand-written IR
// plans compiled with compilePlan and evaluated through the unmodified
// @open-policy-agent/opa-wasm SDK, one statement kind at a time, plus the
// module's imports and ABI globals.

import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import binaryen from "binaryen";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { compilePlan, buildRuntime } from "../../host/build/rego/index.ts";
import type { Func, Policy } from "../../host/build/rego/plan.ts";
import { block, bool, local, policy, resultX, s, str } from "./rego-helpers.ts";

before(async () => { await buildRuntime({ quiet: true }); });

async function run(p: Policy, input?: unknown, data?: object, custom?: Record<string, (...a: any[]) => unknown>) {
  const wasm = compilePlan(p, { optimize: false });
  const pol = await loadPolicy(wasm, { initial: 2 }, custom ?? {});
  if (data) pol.setData(data);
  return pol.evaluate(input) as Array<{ x: unknown }>;
}

/** func g0.data.test.f(input, data) returning input.a */
const fnInputA: Func = {
  name: "g0.data.test.f", params: [0, 1], return: 2, path: ["g0", "test", "f"],
  blocks: [block(s("DotStmt", { source: local(0), key: str(1), target: 2 })), block(s("ReturnLocalStmt", { source: 2 }))],
};

describe("rego codegen: module shape", () => {
  it("imports only env.memory (min ≤ 2 pages, no maximum), opa_abort, opa_println and opa_builtin0..4", () => {
    const p = policy(["x", "%d"], [block(
      s("MakeNumberIntStmt", { value: 1, target: 2 }),
      s("CallStmt", { func: "sprintf", args: [str(1), local(2)], result: 3 }),
      ...resultX(3),
    )], [], ["sprintf"]);
    const wasm = compilePlan(p);
    const allowed = new Set(["memory", "opa_abort", "opa_println", "opa_builtin0", "opa_builtin1", "opa_builtin2", "opa_builtin3", "opa_builtin4"]);
    const mod = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
    for (const imp of WebAssembly.Module.imports(mod)) {
      assert.equal(imp.module, "env");
      assert.ok(allowed.has(imp.name), `unexpected import ${imp.name}`);
    }
    const bm = binaryen.readBinary(wasm);
    const mem = bm.getMemoryInfo() as { module: string; base: string; initial: number; max?: number };
    bm.dispose();
    assert.equal(mem.module, "env");
    assert.equal(mem.base, "memory");
    assert.ok(mem.initial <= 2);
    assert.equal(mem.max, undefined);
    const inst = new WebAssembly.Instance(mod, {
      env: { memory: new WebAssembly.Memory({ initial: 2 }), opa_abort() {}, opa_builtin2() { return 0; } },
    });
    const ex = inst.exports as Record<string, any>;
    assert.equal(ex.opa_wasm_abi_version.value, 1);
    assert.equal(ex.opa_wasm_abi_minor_version.value, 2);
    for (const name of ["opa_malloc", "opa_heap_ptr_get", "opa_heap_ptr_set", "opa_json_parse", "opa_json_dump", "opa_eval", "eval", "builtins", "entrypoints"]) {
      assert.equal(typeof ex[name], "function", name);
    }
    assert.ok(!Object.keys(ex).some((k) => k.startsWith("rt_") || k.startsWith("b_")));
  });

  it("is deterministic", () => {
    const p = policy(["x", "a"], [block(s("CallStmt", { func: "g0.data.test.f", args: [local(0), local(1)], result: 2 }), ...resultX(2))], [fnInputA]);
    assert.deepEqual(compilePlan(p), compilePlan(p));
  });
});

describe("rego codegen: statements", () => {
  it("Dot / ResultSetAdd: reads input; falsy input is undefined", async () => {
    const p = policy(["x", "a"], [block(s("DotStmt", { source: local(0), key: str(1), target: 2 }), ...resultX(2))]);
    assert.deepEqual(await run(p, { a: "v" }), [{ x: "v" }]);
    assert.deepEqual(await run(p, { b: 1 }), []);
    assert.deepEqual(await run(p, undefined), []);
    assert.deepEqual(await run(p, 0), []);
  });

  it("Call of a memoised func, a native builtin and a host builtin via customBuiltins", async () => {
    const p = policy(["x", "a", "-"], [block(
      s("CallStmt", { func: "g0.data.test.f", args: [local(0), local(1)], result: 2 }),
      s("CallStmt", { func: "g0.data.test.f", args: [local(0), local(1)], result: 3 }),
      s("CallStmt", { func: "upper", args: [local(2)], result: 4 }),
      s("CallStmt", { func: "custom.twice", args: [local(4), str(2)], result: 5 }),
      ...resultX(5),
    )], [fnInputA], ["upper", "custom.twice"]);
    const custom = { "custom.twice": (a: string, sep: string) => a + sep + a };
    assert.deepEqual(await run(p, { a: "hi" }, undefined, custom), [{ x: "HI-HI" }]);
  });

  it("Scan / SetAdd / MakeSet: iterates arrays, objects and sets", async () => {
    const p = policy(["x"], [block(
      s("MakeSetStmt", { target: 2 }),
      s("ScanStmt", { source: 0, key: 3, value: 4, block: block(s("SetAddStmt", { value: local(3), set: 2 }), s("SetAddStmt", { value: local(4), set: 2 })) }),
      ...resultX(2),
    )]);
    assert.deepEqual(await run(p, ["a", "b"]), [{ x: [0, 1, "a", "b"] }]);
    assert.deepEqual(await run(p, { k: "v" }), [{ x: ["k", "v"] }]);
    assert.deepEqual(await run(p, "scalar"), [{ x: [] }]);
  });

  it("undefined inside a scan body continues with the next element", async () => {
    const p = policy(["x", "a"], [block(
      s("MakeArrayStmt", { capacity: 0, target: 2 }),
      s("ScanStmt", { source: 0, key: 3, value: 4, block: block(
        s("DotStmt", { source: local(4), key: str(1), target: 5 }),
        s("ArrayAppendStmt", { value: local(5), array: 2 }),
      ) }),
      ...resultX(2),
    )]);
    assert.deepEqual(await run(p, [{ a: 1 }, {}, { a: 3 }]), [{ x: [1, 3] }]);
  });

  it("Not: succeeds only when its block is undefined", async () => {
    const p = policy(["x", "a"], [block(
      s("NotStmt", { block: block(s("DotStmt", { source: local(0), key: str(1), target: 2 })) }),
      ...resultX(0),
    )]);
    assert.deepEqual(await run(p, { b: 1 }), [{ x: { b: 1 } }]);
    assert.deepEqual(await run(p, { a: 1 }), []);
  });

  it("Block / Break: break leaves the given number of enclosing blocks", async () => {
    // x := "first" if input.a else "second": the first block breaks out of the wrapper block
    const p = policy(["x", "a", "first", "second"], [block(
      s("ResetLocalStmt", { target: 2 }),
      s("BlockStmt", { blocks: [block(s("BlockStmt", { blocks: [
        block(s("DotStmt", { source: local(0), key: str(1), target: 3 }), s("AssignVarStmt", { source: str(2), target: 2 }), s("BreakStmt", { index: 1 })),
        block(s("AssignVarStmt", { source: str(3), target: 2 })),
      ] }))] }),
      s("IsDefinedStmt", { source: 2 }),
      ...resultX(2),
    )]);
    assert.deepEqual(await run(p, { a: true }), [{ x: "first" }]);
    assert.deepEqual(await run(p, {}), [{ x: "second" }]);
  });

  it("With: replaces input, and upserts a path into data, for its block only", async () => {
    const p = policy(["x", "a", "b", "c"], [block(
      s("MakeObjectStmt", { target: 2 }),
      s("WithStmt", { local: 0, path: [], value: str(3), block: block(s("ObjectInsertStmt", { key: str(1), value: local(0), object: 2 })) }),
      s("WithStmt", { local: 1, path: [1, 2], value: bool(true), block: block(
        s("DotStmt", { source: local(1), key: str(1), target: 4 }),
        s("ObjectInsertStmt", { key: str(2), value: local(4), object: 2 }),
      ) }),
      s("ObjectInsertStmt", { key: str(3), value: local(0), object: 2 }),
      s("ObjectInsertStmt", { key: str(0), value: local(1), object: 2 }),
      ...resultX(2),
    )]);
    assert.deepEqual(await run(p, "orig", { a: { z: 1 } }), [{ x: { a: "c", b: { z: 1, b: true }, c: "orig", x: { a: { z: 1 } } } }]);
  });

  it("CallDynamic: resolves a data path to a func at run time", async () => {
    const p = policy(["x", "g0", "test", "f", "a"], [block(
      s("CallDynamicStmt", { path: [str(1), str(2), local(0)], args: [0, 1], result: 2 }),
      ...resultX(2),
    )], [{ ...fnInputA, blocks: [block(s("MakeNumberIntStmt", { value: 42, target: 2 })), block(s("ReturnLocalStmt", { source: 2 }))] }]);
    assert.deepEqual(await run(p, "f"), [{ x: 42 }]);
    assert.deepEqual(await run(p, "nope"), []);
  });

  it("AssignVarOnce and ObjectInsertOnce abort on conflicts", async () => {
    const p = policy(["x", "a", "b"], [block(
      s("AssignVarOnceStmt", { source: str(1), target: 2 }),
      s("AssignVarOnceStmt", { source: str(1), target: 2 }),
      s("DotStmt", { source: local(0), key: str(1), target: 3 }),
      s("AssignVarOnceStmt", { source: local(3), target: 2 }),
      ...resultX(2),
    )]);
    assert.deepEqual(await run(p, { a: "a" }), [{ x: "a" }]);
    await assert.rejects(run(p, { a: "other" }), /var assignment conflict/);
    const q = policy(["x", "a", "b"], [block(
      s("MakeObjectStmt", { target: 2 }),
      s("ObjectInsertOnceStmt", { key: str(1), value: str(1), object: 2 }),
      s("ObjectInsertOnceStmt", { key: str(1), value: local(0), object: 2 }),
      ...resultX(2),
    )]);
    assert.deepEqual(await run(q, "a"), [{ x: { a: "a" } }]);
    await assert.rejects(run(q, "b"), /object insert conflict/);
  });

  it("Equal / NotEqual / Is* / IsUndefined / Len / AssignInt / MakeNull / MakeNumberRef / ObjectMerge", async () => {
    const p = policy(["x", "a", "2.5", "b"], [block(
      s("IsArrayStmt", { source: local(0) }),
      s("LenStmt", { source: local(0), target: 2 }),
      s("MakeNumberIntStmt", { value: 2, target: 3 }),
      s("EqualStmt", { a: local(2), b: local(3) }),
      s("MakeNumberIntStmt", { value: 0, target: 4 }),
      s("AssignIntStmt", { value: 1, target: 4 }),
      s("DotStmt", { source: local(0), key: local(4), target: 5 }),
      s("IsObjectStmt", { source: local(5) }),
      s("NotEqualStmt", { a: local(5), b: bool(false) }),
      s("IsUndefinedStmt", { source: 6 }),
      s("MakeNullStmt", { target: 8 }),
      s("MakeNumberRefStmt", { Index: 2, target: 9 }),
      s("MakeObjectStmt", { target: 10 }),
      s("ObjectInsertStmt", { key: str(1), value: local(8), object: 10 }),
      s("ObjectMergeStmt", { a: 10, b: 5, target: 11 }),
      s("ObjectInsertStmt", { key: str(3), value: local(9), object: 11 }),
      ...resultX(11),
    )]);
    assert.deepEqual(await run(p, [0, { a: 1, c: 2 }]), [{ x: { a: null, b: 2.5, c: 2 } }]);
    assert.deepEqual(await run(p, [0, 1]), []);
    assert.deepEqual(await run(p, [0, { a: 1 }, 2]), []);
    const q = policy(["x"], [block(s("IsSetStmt", { source: local(0) }), ...resultX(0))]);
    assert.deepEqual(await run(q, [1]), []);
  });

  it("entrypoints() and builtins() list plans and host builtins", async () => {
    const p: Policy = {
      static: { strings: [{ value: "x" }], builtin_funcs: [{ name: "plus" }, { name: "time.now_ns" }] },
      plans: { plans: [
        { name: "a/p", blocks: [block(s("MakeNumberIntStmt", { value: 1, target: 2 }), ...resultX(2))] },
        { name: "b/q", blocks: [block(s("MakeNumberIntStmt", { value: 2, target: 2 }), ...resultX(2))] },
      ] },
      funcs: { funcs: [] },
    };
    const pol = await loadPolicy(compilePlan(p), { initial: 2 });
    assert.deepEqual(pol.evaluate(null, "b/q"), [{ x: 2 }]);
    assert.deepEqual(pol.evaluate(null, "a/p"), [{ x: 1 }]);
    assert.deepEqual(Object.keys((pol as any).builtins ?? {}).length >= 0, true);
  });

  it("evaluates many times with heap reset (no growth across evaluations)", async () => {
    const p = policy(["x", "a"], [block(s("DotStmt", { source: local(0), key: str(1), target: 2 }), ...resultX(2))]);
    const pol = await loadPolicy(compilePlan(p), { initial: 2 });
    const big = { a: "x".repeat(10000) };
    for (let i = 0; i < 200; i++) pol.evaluate(big);
    assert.deepEqual(pol.evaluate({ a: 1 }), [{ x: 1 }]);
  });
});
