// Rego signature bundles: .rego sources → `tracee.signature`-carrying wasm
// bundles that are at the same time standard OPA-ABI modules.
//
// Build side: each signature package (`package tracee.<ID>` with
// `__rego_metadoc__`, `tracee_selected_events` and `tracee_match`) is compiled
// with the directory's other modules (helpers) into one module with the
// entrypoints `<pkg>/tracee_match`, `<pkg>/__rego_metadoc__` and
// `<pkg>/tracee_selected_events`. Metadata and selected events are evaluated
// at build time (through loadPolicy) and stored in the `tracee.signature`
// section, exactly as for AssemblyScript bundles. The all-in-one module has
// every signature of a directory, one `tracee_match` entrypoint each.
//
// Run side (docs/rego.md, "Bundles"): besides the OPA ABI, a bundle exports
// `tracee_abi_version`, `tracee_input`, `tracee_on_batch` and
// `tracee_finding` (signatures-rego/runtime/tracee.ts): the module walks the
// flat batch and builds each selected event's input value itself, so no JSON
// is built per event in JS. It imports only what the OPA ABI provides
// (env.memory, env.opa_abort, env.opa_println, env.opa_builtin0..4), so the
// host supplies those (RegoBundleGlue) and reads findings back after the call.

import type { SignatureMetadata } from "../../engine/metadata.ts";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import path from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { EVENTS, eventByName, type ArgType, type EventDef } from "../../events/catalogue.ts";
import { BuildError } from "../build-error.ts";
import { compilePlan, type BundleMode } from "./codegen.ts";
import type { Block, Operand, Policy, Stmt } from "./plan.ts";
import { compileRego, type CompileRegoOptions, type RegoSource } from "./compile-rego.ts";
import { parseModule } from "./parser/parser.ts";
import type { TermOf } from "./parser/ast.ts";
import { RegoError } from "./parser/errors.ts";
import { findRegoFiles, readRegoSources } from "./rego-tests.ts";
import { AIO_SECTION, INPUT_BUILTINS, SIGNATURE_BUILTINS } from "../../engine/rego-glue.ts";

export const METADATA_SECTION = "tracee.signature";

/** Argument type codes understood by the runtime (signatures-rego/runtime/tracee.ts). */
export const ARG_TYPE_CODES: Record<ArgType, number> = {
  int32: 1, uint32: 2, int64: 3, uint64: 4, uint16: 5, "trace.Pointer": 4, bool: 7,
  string: 8, "[]string": 9, "[]byte": 10, SockAddr: 11, "[]trace.HookedSymbolData": 12,
};

const ORIGIN_CODES: Record<string, number> = { "*": 0, container: 1, host: 2 };

/** The metadata section of a Rego bundle: the same as an AssemblyScript bundle's (host/engine/metadata.ts). */
export type RegoSignatureMetadata = SignatureMetadata;

export interface RegoSignature {
  /** Package path, e.g. ["tracee", "TRC_102"]. */
  pkg: string[];
  /** Source file defining tracee_match. */
  file: string;
  row: number;
  col: number;
}

/**
 * Top-level input fields the runtime builds (Tracee's event JSON keys), in
 * its bit order, which is sorted key order (signatures-rego/runtime/input.ts
 * FIELD_NAMES).
 */
export const INPUT_FIELDS = [
  "args", "argsNum", "cgroupId", "container", "containerId", "contextFlags", "eventId", "eventName", "executable",
  "hostName", "hostParentProcessId", "hostProcessId", "hostThreadId", "kubernetes", "matchedPolicies", "mountNamespace",
  "parentEntityId", "parentProcessId", "pidNamespace", "processEntityId", "processId", "processName", "processorId",
  "returnValue", "stackAddresses", "syscall", "threadEntityId", "threadId", "threadStartTime", "timestamp", "userId",
] as const;

const fieldBit = (name: (typeof INPUT_FIELDS)[number]) => 1 << INPUT_FIELDS.indexOf(name);

/** The host lookups (rego-glue.ts INPUT_BUILTINS) a bundle building the fields of `mask` (all: undefined) needs, by index. */
export function inputBuiltins(mask: number | undefined): ({ name: string; arity: number } | undefined)[] {
  return INPUT_BUILTINS.map((b) => (mask === undefined || b.fields.some((f) => mask & fieldBit(f)) ? { name: b.name, arity: b.arity } : undefined));
}

/**
 * How to compile a bundle: its configuration and input lookups, from what
 * `observed` (the plans tracee_on_batch evaluates) reads of the input, and
 * the regex constants of `plan` (the whole module).
 */
export function bundleMode(sigs: { entry: number; selected: RegoSignatureMetadata["selectedEvents"] }[], observed: Policy, plan: Policy = observed): BundleMode {
  const mask = inputFieldMask(observed);
  return { config: bundleConfig(sigs, mask, constantRegexes(plan), referencedArgNames(observed)), inputBuiltins: inputBuiltins(mask) };
}

/**
 * The input fields a plan can read: the string keys of `Dot`s on the input
 * (local 0 in every plan and func). Any other use of the input as a value
 * (assigned, compared, iterated, passed to a builtin) means every field:
 * returns undefined then.
 */
export function inputFieldMask(plan: Policy): number | undefined {
  const strings = (plan.static.strings ?? []).map((x) => x.value);
  const funcs = new Set((plan.funcs?.funcs ?? []).map((f) => f.name));
  const keys = new Set<string>();
  let full = false;
  const isIn = (o: Operand | undefined) => o?.type === "local" && o.value === 0;
  const visit = (stmts: Stmt[] | null | undefined): void => {
    for (const { type, stmt: st } of stmts ?? []) {
      switch (type) {
        case "DotStmt":
          if (isIn(st.source)) {
            if (st.key?.type === "string_index") keys.add(strings[st.key.value]);
            else full = true;
          }
          if (isIn(st.key)) full = true;
          break;
        case "CallStmt":
          (st.args as Operand[]).forEach((a, i) => { if (isIn(a) && !(funcs.has(st.func) && i === 0)) full = true; });
          break;
        case "CallDynamicStmt":
          (st.args as number[]).forEach((a, i) => { if (a === 0 && i !== 0) full = true; });
          break;
        case "AssignVarStmt": case "AssignVarOnceStmt": case "LenStmt": case "IsArrayStmt": case "IsObjectStmt": case "IsSetStmt":
          if (isIn(st.source)) full = true;
          break;
        case "EqualStmt": case "NotEqualStmt":
          if (isIn(st.a) || isIn(st.b)) full = true;
          break;
        case "ArrayAppendStmt": case "SetAddStmt": case "ObjectInsertStmt": case "ObjectInsertOnceStmt":
          if (isIn(st.value) || isIn(st.key)) full = true;
          break;
        case "ObjectMergeStmt":
          if (st.a === 0 || st.b === 0) full = true;
          break;
        case "ScanStmt": case "ReturnLocalStmt": case "ResultSetAddStmt":
          if (st.source === 0 || (type === "ResultSetAddStmt" && st.value === 0)) full = true;
          break;
        case "WithStmt":
          if (isIn(st.value)) full = true;
          break;
        default:
          break;
      }
      if (st.block) visit((st.block as Block).stmts);
      for (const b of (st.blocks as Block[] | undefined) ?? []) visit(b.stmts);
    }
  };
  for (const f of plan.funcs?.funcs ?? []) for (const b of f.blocks) visit(b.stmts);
  for (const p of plan.plans.plans ?? []) for (const b of p.blocks) visit(b.stmts);
  if (full) return undefined;
  let mask = 0;
  INPUT_FIELDS.forEach((k, i) => { if (keys.has(k)) mask |= 1 << i; });
  return mask >>> 0;
}

/** Locals a statement reads, with the field they are read through. */
function localUses(type: string, st: Record<string, any>): { field: string; local: number }[] {
  const out: { field: string; local: number }[] = [];
  const op = (field: string, o: Operand | undefined) => { if (o?.type === "local") out.push({ field, local: o.value }); };
  const num = (field: string, l: number | undefined) => { if (typeof l === "number") out.push({ field, local: l }); };
  switch (type) {
    case "AssignVarStmt": case "AssignVarOnceStmt": case "IsArrayStmt": case "IsObjectStmt": case "IsSetStmt": case "LenStmt": op("source", st.source); break;
    case "DotStmt": op("source", st.source); op("key", st.key); break;
    case "EqualStmt": case "NotEqualStmt": op("a", st.a); op("b", st.b); break;
    case "CallStmt": (st.args as Operand[]).forEach((a, i) => op(`arg${i}`, a)); break;
    case "CallDynamicStmt": (st.args as number[]).forEach((a, i) => num(`arg${i}`, a)); (st.path as Operand[]).forEach((a) => op("path", a)); break;
    case "ArrayAppendStmt": op("value", st.value); num("array", st.array); break;
    case "SetAddStmt": op("value", st.value); num("set", st.set); break;
    case "ObjectInsertStmt": case "ObjectInsertOnceStmt": op("key", st.key); op("value", st.value); num("object", st.object); break;
    case "ObjectMergeStmt": num("a", st.a); num("b", st.b); break;
    case "IsDefinedStmt": case "IsUndefinedStmt": case "ReturnLocalStmt": case "ScanStmt": num("source", st.source); break;
    case "ResultSetAddStmt": num("value", st.value); break;
    case "WithStmt": op("value", st.value); num("local", st.local); break;
    default: break;
  }
  return out;
}

/**
 * The event arguments a plan can observe, when it only looks them up by
 * name: `input.args` is only iterated, the index is never used, an element
 * is only read through `.name`, `.type` and `.value`, and `.name` is only
 * compared for equality with constants (or with a function parameter that
 * every call passes as a constant, as in helpers.get_tracee_argument). Then a
 * bundle builds only those arguments. Returns undefined when the plan may
 * observe others (count, index access, whole-array uses...).
 */
export function referencedArgNames(plan: Policy): Set<string> | undefined {
  if (inputFieldMask(plan) === undefined) return undefined; // the input is used as a whole
  const strings = (plan.static.strings ?? []).map((x) => x.value);
  const names = new Set<string>();
  const nameParams = new Set<string>(); // "func\0position"
  type Cls = "args" | "elem" | "name" | "key";
  const bodies: { name?: string; params: number[]; blocks: Block[] }[] = [
    ...(plan.funcs?.funcs ?? []).map((f) => ({ name: f.name, params: f.params, blocks: f.blocks })),
    ...(plan.plans.plans ?? []).map((p) => ({ params: [0, 1], blocks: p.blocks })),
  ];
  const each = (blocks: Block[], f: (type: string, st: Record<string, any>) => void) => {
    const visit = (stmts: Stmt[] | null | undefined): void => {
      for (const { type, stmt: st } of stmts ?? []) {
        f(type, st);
        if (st.block) visit((st.block as Block).stmts);
        for (const b of (st.blocks as Block[] | undefined) ?? []) visit(b.stmts);
      }
    };
    for (const b of blocks) visit(b.stmts);
  };
  for (const body of bodies) {
    const cls = new Map<number, Cls>();
    // definitions, to a fixpoint
    for (let changed = true; changed;) {
      changed = false;
      const set = (l: number, c: Cls) => { if (cls.get(l) !== c) { cls.set(l, c); changed = true; } };
      each(body.blocks, (type, st) => {
        if (type === "DotStmt" && st.source?.type === "local") {
          const src = st.source.value as number;
          if (src === 0 && st.key?.type === "string_index" && strings[st.key.value] === "args") set(st.target, "args");
          if (cls.get(src) === "elem" && st.key?.type === "string_index" && strings[st.key.value] === "name") set(st.target, "name");
        }
        if (type === "ScanStmt" && cls.get(st.source) === "args") { set(st.value, "elem"); set(st.key, "key"); }
        if ((type === "AssignVarStmt" || type === "AssignVarOnceStmt") && st.source?.type === "local") {
          const c = cls.get(st.source.value);
          if (c === "elem" || c === "name") set(st.target, c);
        }
      });
    }
    let unsafe = false;
    each(body.blocks, (type, st) => {
      for (const { field, local } of localUses(type, st)) {
        const c = cls.get(local);
        if (!c) continue;
        if (c === "key") { unsafe = true; continue; }
        if (c === "args") { if (!(type === "ScanStmt" && field === "source")) unsafe = true; continue; }
        if (c === "elem") {
          const key = st.key?.type === "string_index" ? strings[st.key.value] : undefined;
          if (type === "DotStmt" && field === "source" && (key === "name" || key === "value" || key === "type")) continue;
          if ((type === "AssignVarStmt" || type === "AssignVarOnceStmt") && field === "source" && cls.get(st.target) === "elem") continue;
          unsafe = true;
          continue;
        }
        // name
        if ((type === "AssignVarStmt" || type === "AssignVarOnceStmt") && field === "source" && cls.get(st.target) === "name") continue;
        if (type === "EqualStmt") {
          const other: Operand = field === "a" ? st.b : st.a;
          if (other?.type === "string_index") { names.add(strings[other.value]); continue; }
          const pos = other?.type === "local" ? body.params.indexOf(other.value) : -1;
          if (body.name && pos >= 2) { nameParams.add(`${body.name}\u0000${pos}`); continue; }
        }
        unsafe = true;
      }
    });
    if (unsafe) return undefined;
  }
  // parameters compared with names: every call must pass a constant there
  let unsafe = false;
  for (const body of bodies) each(body.blocks, (type, st) => {
    if (type === "CallDynamicStmt") for (const k of nameParams) if (k.split("\u0000")[0]) unsafe = unsafe || nameParams.size > 0;
    if (type !== "CallStmt") return;
    (st.args as Operand[]).forEach((a, i) => {
      if (!nameParams.has(`${st.func}\u0000${i}`)) return;
      if (a.type === "string_index") names.add(strings[a.value]);
      else unsafe = true;
    });
  });
  return unsafe ? undefined : names;
}

/** Constant patterns of regex.match / re_match calls in a plan (precompiled once by a bundle). */
export function constantRegexes(plan: Policy): string[] {
  const strings = (plan.static.strings ?? []).map((x) => x.value);
  const out = new Set<string>();
  const visit = (stmts: Stmt[] | null | undefined): void => {
    for (const { type, stmt: st } of stmts ?? []) {
      if (type === "CallStmt" && (st.func === "regex.match" || st.func === "re_match" || st.func === "regex.find_all_string_submatch_n")) {
        const a = (st.args as Operand[])[0];
        if (a?.type === "string_index") out.add(strings[a.value]);
      }
      if (st.block) visit((st.block as Block).stmts);
      for (const b of (st.blocks as Block[] | undefined) ?? []) visit(b.stmts);
    }
  };
  for (const f of plan.funcs?.funcs ?? []) for (const b of f.blocks) visit(b.stmts);
  for (const p of plan.plans.plans ?? []) for (const b of p.blocks) visit(b.stmts);
  return [...out].slice(0, 32);
}

/**
 * Configuration JSON read by the runtime (signatures-rego/runtime/tracee.ts
 * init): events of interest and, per signature, its entrypoint and
 * selectors; the input fields to build, the event names `syscall` needs
 * (when built), the regex constants and the argument names to build.
 */
export function bundleConfig(sigs: { entry: number; selected: RegoSignatureMetadata["selectedEvents"] }[], fields?: number, regex: string[] = [], argNames?: Set<string>): string {
  const wanted = new Map<number, EventDef>();
  const anyEvent = sigs.some((s) => s.selected.some((e) => e.name === "*"));
  for (const s of sigs) for (const e of s.selected) {
    const def = eventByName(e.name);
    if (def) wanted.set(def.id, def);
  }
  if (anyEvent) for (const def of EVENTS) wanted.set(def.id, def);
  const ev = [...wanted.values()].sort((a, b) => a.id - b.id)
    .map((d) => [d.id, d.name, d.args.map((a) => [a.name, ARG_TYPE_CODES[a.type] ?? 0, a.type])]);
  const sig = sigs.map((s) => [s.entry, s.selected.flatMap((e) => {
    const ids = e.name === "*" ? [...wanted.keys()] : [eventByName(e.name)!.id];
    return ids.map((id) => [id, ORIGIN_CODES[e.origin] ?? 0]);
  })]);
  const names = fields === undefined || fields & fieldBit("syscall") ? EVENTS.map((d) => [d.id, d.name]) : undefined;
  return JSON.stringify({
    ev, sig, ...(fields === undefined ? {} : { fields }), ...(names ? { names } : {}), ...(regex.length ? { regex } : {}),
    ...(argNames ? { argNames: [...argNames].sort() } : {}),
  });
}

/** Appends a custom section to a wasm binary. */
export function appendCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb(nameBytes.length), ...nameBytes];
  const size = body.length + payload.length;
  const head = [0, ...leb(size), ...body];
  const out = new Uint8Array(wasm.length + head.length + payload.length);
  out.set(wasm, 0);
  out.set(head, wasm.length);
  out.set(payload, wasm.length + head.length);
  return out;
}

/** Signature packages among parsed sources: packages defining both __rego_metadoc__ and tracee_match. */
export function findRegoSignatures(sources: RegoSource[], v1: boolean): { sigs: RegoSignature[]; errors: RegoError[] } {
  const byPkg = new Map<string, { pkg: string[]; metadoc: boolean; match?: { file: string; row: number; col: number } }>();
  const errors: RegoError[] = [];
  for (const s of sources) {
    let m;
    try {
      m = parseModule(s.text, s.file, { v1 });
    } catch (e) {
      if (e instanceof RegoError) { errors.push(e); continue; }
      throw e;
    }
    const pkg = m.package.slice(1).map((t) => (t as TermOf<"string">).value);
    const key = pkg.join(".");
    const info = byPkg.get(key) ?? { pkg, metadoc: false };
    for (const r of m.rules) {
      const n = (r.head.ref[0] as TermOf<"var">).name;
      if (n === "__rego_metadoc__") info.metadoc = true;
      if (n === "tracee_match" && !info.match) info.match = { file: s.file, row: r.loc.row, col: r.loc.col };
    }
    byPkg.set(key, info);
  }
  const sigs: RegoSignature[] = [];
  for (const info of byPkg.values()) {
    if (info.metadoc && info.match) sigs.push({ pkg: info.pkg, ...info.match });
  }
  sigs.sort((a, b) => (a.pkg.join(".") < b.pkg.join(".") ? -1 : 1));
  return { sigs, errors };
}

/** Evaluates every signature's metadata and selected events at build time. */
export async function evaluateMetadata(sources: RegoSource[], sigs: RegoSignature[], opts: CompileRegoOptions): Promise<{ metadata: (RegoSignatureMetadata | string[])[]; errors: RegoError[] }> {
  const entries = sigs.flatMap((s) => [`${s.pkg.join("/")}/__rego_metadoc__`, `${s.pkg.join("/")}/tracee_selected_events`]);
  const r = compileRego(sources, entries, opts);
  if ("errors" in r) return { metadata: [], errors: r.errors };
  const policy = await loadPolicy(compilePlan(r.plan));
  const out: (RegoSignatureMetadata | string[])[] = [];
  for (const s of sigs) {
    const p = s.pkg.join("/");
    const problems: string[] = [];
    let doc: Record<string, unknown> | undefined;
    let selected: unknown;
    try {
      doc = (policy.evaluate(undefined, `${p}/__rego_metadoc__`) as { result: Record<string, unknown> }[])[0]?.result;
      selected = (policy.evaluate(undefined, `${p}/tracee_selected_events`) as { result: unknown }[])[0]?.result;
    } catch (e) {
      problems.push(`evaluating the metadata: ${e instanceof Error ? e.message : JSON.stringify(e)}`);
    }
    if (!problems.length) {
      if (!doc || typeof doc !== "object") problems.push("__rego_metadoc__ is undefined or not an object");
      if (!Array.isArray(selected) || !selected.length) problems.push("tracee_selected_events is undefined or empty");
    }
    if (problems.length) { out.push(problems); continue; }
    const str = (k: string) => (typeof doc![k] === "string" ? doc![k] as string : "");
    for (const k of ["id", "version", "name", "eventName"]) if (!str(k)) problems.push(`__rego_metadoc__.${k} must be a non-empty string`);
    const tags = Array.isArray(doc!.tags) ? (doc!.tags as unknown[]).map(String) : [];
    const properties: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries((doc!.properties ?? {}) as Record<string, unknown>)) {
      if (["string", "number", "boolean"].includes(typeof v)) properties[k] = v as string | number | boolean;
      else properties[k] = JSON.stringify(v);
    }
    const selectedEvents: RegoSignatureMetadata["selectedEvents"] = [];
    const seen = new Set<string>();
    for (const e of selected as Record<string, unknown>[]) {
      const name = String(e?.name ?? "");
      const origin = String(e?.origin ?? "*") as "*" | "container" | "host";
      const source = String(e?.source ?? "tracee");
      if (source !== "tracee") { problems.push(`selected event source ${JSON.stringify(source)} is not supported (only "tracee")`); continue; }
      if (name !== "*" && !eventByName(name)) { problems.push(`selected event ${JSON.stringify(name)} is not in the event catalogue (host/events/catalogue.ts)`); continue; }
      if (!(origin in ORIGIN_CODES)) { problems.push(`selected event origin ${JSON.stringify(origin)} must be *, container or host`); continue; }
      const key = `${name}@${origin}`;
      if (seen.has(key)) continue;
      seen.add(key);
      selectedEvents.push({ source: "tracee", name, origin });
    }
    if (problems.length) { out.push(problems); continue; }
    out.push({
      abi: 1, id: str("id"), version: str("version"), name: str("name"), eventName: str("eventName"),
      description: str("description"), tags, properties, selectedEvents,
    });
  }
  return { metadata: out, errors: [] };
}

export interface RegoBuildOptions {
  regoVersion?: "v0" | "v1";
  /** Also write the all-in-one module (every signature, one entrypoint each) as `<out>/<name>`. */
  allInOne?: string;
  /** Write one bundle per signature (default true; false with allInOne: only the all-in-one module). */
  perSignature?: boolean;
  report?: (line: string) => void;
}

export interface RegoBundleInfo {
  source: string;
  path: string;
  size: number;
  metadata: RegoSignatureMetadata;
}

export interface RegoBuildResult {
  built: RegoBundleInfo[];
  errors: BuildError[];
  /** The all-in-one module, when asked for. */
  allInOne?: { path: string; size: number; signatures: string[] };
}

/** Files of a directory that make Rego bundles: every .rego except tests and the runtime's directory. */
export async function findRegoBundleSources(src: string): Promise<string[]> {
  return (await findRegoFiles(src)).filter((f) => !f.endsWith("_test.rego"));
}

function toBuildError(e: RegoError): BuildError {
  return new BuildError(path.resolve(e.file), e.row, e.col, `${e.kind}: ${e.msg}`);
}

/** Builds the Rego signatures under `src` into `outDir`, one bundle per signature package. */
export async function buildRegoBundles(src: string, outDir: string, opts: RegoBuildOptions = {}): Promise<RegoBuildResult> {
  const files = await findRegoBundleSources(src);
  const result: RegoBuildResult = { built: [], errors: [] };
  if (!files.length) return result;
  const sources = await readRegoSources(files, process.cwd());
  const v1 = (opts.regoVersion ?? "v0") === "v1";
  const copts: CompileRegoOptions = { regoVersion: v1 ? "v1" : "v0", customBuiltins: SIGNATURE_BUILTINS };
  const { sigs, errors: parseErrors } = findRegoSignatures(sources, v1);
  if (parseErrors.length) {
    result.errors.push(...parseErrors.map(toBuildError));
    parseErrors.forEach((e) => opts.report?.(toBuildError(e).text));
    return result;
  }
  const { metadata, errors } = await evaluateMetadata(sources, sigs, copts);
  if (errors.length) {
    result.errors.push(...errors.map(toBuildError));
    errors.forEach((e) => opts.report?.(toBuildError(e).text));
    return result;
  }
  await mkdir(outDir, { recursive: true });
  const good: { sig: RegoSignature; meta: RegoSignatureMetadata }[] = [];
  sigs.forEach((sig, i) => {
    const m = metadata[i];
    if (Array.isArray(m)) {
      for (const p of m) {
        const e = new BuildError(path.resolve(sig.file), sig.row, sig.col, p);
        result.errors.push(e);
        opts.report?.(e.text);
      }
    } else good.push({ sig, meta: m });
  });
  for (const { sig, meta } of opts.perSignature === false ? [] : good) {
    const p = sig.pkg.join("/");
    const r = compileRego(sources, [`${p}/tracee_match`, `${p}/__rego_metadoc__`, `${p}/tracee_selected_events`], copts);
    if ("errors" in r) {
      for (const e of r.errors) { result.errors.push(toBuildError(e)); opts.report?.(toBuildError(e).text); }
      continue;
    }
    // the module only serves tracee_match through tracee_on_batch: build the input fields it reads
    const matchOnly = { ...r.plan, plans: { plans: r.plan.plans.plans!.slice(0, 1) } };
    let wasm = compilePlan(r.plan, { bundle: bundleMode([{ entry: 0, selected: meta.selectedEvents }], matchOnly, r.plan) });
    wasm = appendCustomSection(wasm, METADATA_SECTION, new TextEncoder().encode(JSON.stringify(meta)));
    const out = path.join(path.resolve(outDir), `${bundleFileName(sig)}.wasm`);
    await writeFile(out, wasm);
    result.built.push({ source: path.resolve(sig.file), path: out, size: wasm.length, metadata: meta });
    opts.report?.(`built ${out} (${meta.id}, ${wasm.length} bytes)`);
  }
  if (opts.allInOne && good.length) {
    const aio = buildAllInOne(sources, good.map((g) => g.sig), good.map((g) => g.meta), copts);
    if (aio instanceof Uint8Array) {
      const out = path.join(path.resolve(outDir), opts.allInOne);
      await writeFile(out, aio);
      result.allInOne = { path: out, size: aio.length, signatures: good.map((g) => g.meta.id) };
      opts.report?.(`built ${out} (all-in-one: ${good.length} signatures, ${aio.length} bytes)`);
    } else {
      for (const e of aio) { result.errors.push(toBuildError(e)); opts.report?.(toBuildError(e).text); }
    }
  }
  return result;
}

/** Bundle file name: the source file's base name (signatures are one per file), else the package. */
function bundleFileName(sig: RegoSignature): string {
  return path.basename(sig.file, ".rego") || sig.pkg.join("_");
}


/**
 * The all-in-one module: one `tracee_match` entrypoint per signature (ids 0..n-1);
 * `tracee_on_batch` evaluates, for each record, every signature that selected it.
 */
export function buildAllInOne(sources: RegoSource[], sigs: RegoSignature[], metas: RegoSignatureMetadata[], opts: CompileRegoOptions): Uint8Array | RegoError[] {
  const entries = sigs.map((s) => `${s.pkg.join("/")}/tracee_match`);
  const r = compileRego(sources, entries, opts);
  if ("errors" in r) return r.errors;
  const wasm = compilePlan(r.plan, { bundle: bundleMode(metas.map((m, i) => ({ entry: i, selected: m.selectedEvents })), r.plan) });
  return appendCustomSection(wasm, AIO_SECTION, new TextEncoder().encode(JSON.stringify(metas)));
}

// ------------------------------------------------------------------ run side

export { isRegoBundle, RegoBundleGlue, REGO_ALLOWED_IMPORTS, regoFindingData, AIO_SECTION } from "../../engine/rego-glue.ts";
export type { RegoFinding } from "../../engine/rego-glue.ts";
