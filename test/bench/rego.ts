// Rego back-end benchmark: a Tracee-style rule (input = one event as JSON,
// a few string tests on its arguments), written as an OPA IR plan and
// compiled with compilePlan, evaluated through @open-policy-agent/opa-wasm's
// loadPolicy().evaluate() and through direct calls of the module's opa_eval
// that skip the SDK's per-call work. Ratios are against the first row.

import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { compilePlan, buildRuntime } from "../../host/build/rego/index.ts";
import type { Policy, Stmt } from "../../host/build/rego/plan.ts";

const L = (value: number) => ({ type: "local" as const, value });
const S = (value: number) => ({ type: "string_index" as const, value });
const B = (value: boolean) => ({ type: "bool" as const, value });
const st = (type: string, stmt: Record<string, unknown>): Stmt => ({ type, stmt: { file: 0, row: 1, col: 1, ...stmt } });

/**
 * tracee_match {
 *   input.eventName == "security_file_open"
 *   arg := input.args[_]; arg.name == "pathname"
 *   startswith(arg.value, "/etc/shadow"); not contains(arg.value, "..")
 *   lower(input.processName) != "passwd"
 * }
 */
export function traceeRulePlan(): Policy {
  const strings = ["x", "eventName", "security_file_open", "args", "name", "pathname", "value", "/etc/shadow", "..", "processName", "passwd"];
  return {
    static: { strings: strings.map((value) => ({ value })), builtin_funcs: ["startswith", "contains", "lower"].map((name) => ({ name })), files: [{ value: "rule.rego" }] },
    plans: { plans: [{ name: "tracee/tracee_match", blocks: [{ stmts: [
      st("CallStmt", { func: "g0.data.tracee.tracee_match", args: [L(0), L(1)], result: 2 }),
      st("MakeObjectStmt", { target: 3 }),
      st("ObjectInsertStmt", { key: S(0), value: L(2), object: 3 }),
      st("ResultSetAddStmt", { value: 3 }),
    ] }] }] },
    funcs: { funcs: [{
      name: "g0.data.tracee.tracee_match", params: [0, 1], return: 2, path: ["g0", "tracee", "tracee_match"],
      blocks: [
        { stmts: [
          st("ResetLocalStmt", { target: 3 }),
          st("DotStmt", { source: L(0), key: S(1), target: 4 }),
          st("EqualStmt", { a: L(4), b: S(2) }),
          st("DotStmt", { source: L(0), key: S(3), target: 5 }),
          st("ScanStmt", { source: 5, key: 6, value: 7, block: { stmts: [
            st("DotStmt", { source: L(7), key: S(4), target: 8 }),
            st("EqualStmt", { a: L(8), b: S(5) }),
            st("DotStmt", { source: L(7), key: S(6), target: 9 }),
            st("CallStmt", { func: "startswith", args: [L(9), S(7)], result: 10 }),
            st("EqualStmt", { a: L(10), b: B(true) }),
            st("NotStmt", { block: { stmts: [
              st("CallStmt", { func: "contains", args: [L(9), S(8)], result: 11 }),
              st("EqualStmt", { a: L(11), b: B(true) }),
            ] } }),
            st("DotStmt", { source: L(0), key: S(9), target: 12 }),
            st("CallStmt", { func: "lower", args: [L(12)], result: 13 }),
            st("NotEqualStmt", { a: L(13), b: S(10) }),
            st("AssignVarOnceStmt", { source: B(true), target: 3 }),
          ] } }),
        ] },
        { stmts: [st("IsDefinedStmt", { source: 3 }), st("AssignVarOnceStmt", { source: L(3), target: 2 })] },
        { stmts: [st("ReturnLocalStmt", { source: 2 })] },
      ],
    }] },
  };
}

/** Tracee-shaped events; every fourth one matches. */
export function traceeEvents(n: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < n; i++) {
    const match = i % 4 === 0;
    out.push({
      timestamp: 1700000000000000000 + i, threadStartTime: 1699999999000000000, processorId: i % 8,
      processId: 1000 + (i % 50), cgroupId: 4242, threadId: 1000 + (i % 50), parentProcessId: 1,
      hostProcessId: 1000 + (i % 50), hostThreadId: 1000 + (i % 50), hostParentProcessId: 1,
      userId: i % 3 === 0 ? 0 : 1000, mountNamespace: 4026531840, pidNamespace: 4026531836,
      processName: match ? "cat" : i % 4 === 1 ? "PASSWD" : "bash", executable: { path: "/usr/bin/cat" },
      hostName: "node-1", containerId: "", container: {}, kubernetes: {},
      eventId: "1014", eventName: i % 4 === 3 ? "sched_process_exec" : "security_file_open",
      matchedPolicies: ["default"], argsNum: 4, returnValue: 0, syscall: "openat",
      args: [
        { name: "pathname", type: "const char*", value: match || i % 4 === 1 ? "/etc/shadow" : "/tmp/../etc/passwd" },
        { name: "flags", type: "string", value: "O_RDONLY|O_LARGEFILE" },
        { name: "dev", type: "dev_t", value: 264241153 },
        { name: "inode", type: "unsigned long", value: 2886123 + i },
      ],
    });
  }
  return out;
}

interface Row { name: string; ratio: number; eventsPerSec: number }

function rate(events: number, fn: () => number, minMs = 600): { perSec: number; matches: number } {
  fn(); // warm up
  let runs = 0, matches = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do { matches = fn(); runs++; elapsed = performance.now() - t0; } while (elapsed < minMs);
  return { perSec: (events * runs) / (elapsed / 1000), matches };
}

/** Runs the benchmark; `root` is the project root (unused, kept for the bench runner's signature). */
export async function benchRego(_root: string): Promise<Row[]> {
  await buildRuntime({ quiet: true });
  const wasm = compilePlan(traceeRulePlan());
  const events = traceeEvents(4000);
  const texts = events.map((e) => JSON.stringify(e));
  const enc = new TextEncoder();
  const bytes = texts.map((t) => enc.encode(t));

  // 1. SDK: policy.evaluate(object)
  const policy = await loadPolicy(wasm, { initial: 2 });
  const sdk = rate(events.length, () => {
    let m = 0;
    for (const e of events) if ((policy.evaluate(e) as unknown[]).length) m++;
    return m;
  });

  // 2/3. Direct: opa_eval on the instance, result checked without JSON.parse.
  const memory = new WebAssembly.Memory({ initial: 2 });
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, {
    env: { memory, opa_abort: () => { throw new Error("opa_abort"); }, opa_println: () => {} },
  });
  const x = instance.exports as Record<string, any>;
  const dataText = enc.encode("{}");
  const dp = x.opa_malloc(dataText.length);
  new Uint8Array(memory.buffer).set(dataText, dp);
  const dataAddr = x.opa_json_parse(dp, dataText.length);
  const base = x.opa_heap_ptr_get();
  const evalBytes = (b: Uint8Array): boolean => {
    if (memory.buffer.byteLength < base + b.length + 65536) memory.grow(Math.ceil(b.length / 65536) + 1);
    const u8 = new Uint8Array(memory.buffer);
    u8.set(b, base);
    const r = x.opa_eval(0, 0, dataAddr, base, b.length, base + b.length, 0);
    return u8[r + 1] !== 0x5d; // "[]" = no match
  };
  const direct = rate(events.length, () => {
    let m = 0;
    for (const e of events) if (evalBytes(enc.encode(JSON.stringify(e)))) m++;
    return m;
  });
  const pre = rate(events.length, () => {
    let m = 0;
    for (const b of bytes) if (evalBytes(b)) m++;
    return m;
  });
  if (sdk.matches !== direct.matches || sdk.matches !== pre.matches) {
    throw new Error(`bench rego: paths disagree (${sdk.matches}, ${direct.matches}, ${pre.matches} matches)`);
  }
  const rows: Array<{ name: string; perSec: number }> = [
    { name: "Rego → wasm, loadPolicy().evaluate(event)", perSec: sdk.perSec },
    { name: "Rego → wasm, direct opa_eval (JSON.stringify per event)", perSec: direct.perSec },
    { name: "Rego → wasm, direct opa_eval (pre-encoded event JSON)", perSec: pre.perSec },
  ];
  return rows.map((r) => ({ name: r.name, ratio: r.perSec / rows[0].perSec, eventsPerSec: Math.round(r.perSec) }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  benchRego(process.cwd()).then((rows) => console.table(rows), (e) => { console.error(e); process.exit(1); });
}
