// Rego compiler passes, modelled on OPA's ast.Compiler stages:
//
//  1. rule sets: each rule's data path and kind (complete / multi-value set /
//     function / ref-head tree), conflict, default and arity checks;
//  2. resolve refs and imports + rewrite local vars (one walk): package rule
//     names and import aliases become `data.…` refs, builtin calls are checked,
//     `:=` and `some` open declarations in the current scope, every var gets a
//     unique internal name, `some x in xs` becomes `x = xs[_]`;
//  3. rewrite expression terms: nested calls, comprehensions in refs and call
//     results in refs are hoisted into generated vars; `not` expressions become
//     negated bodies; `with` values are classified (input, data, function mocks);
//  4. safety: each body is reordered so every expression's inputs are bound
//     before it runs; unbound vars are reported as unsafe (rule heads too);
//  5. recursion: cycles between rules are reported.
//
// The output (rule sets with compiled bodies, compiled queries) is planned by
// ../planner into OPA's IR.

import {
  type Expr, type ExprBody, type Loc, type Module, type Rule, type Term, type TermOf, type With,
  mkExpr, mkRef, mkString, mkVar, refName, locString,
} from "../parser/ast.ts";
import { RegoError, RegoErrors, type RegoErrorKind } from "../parser/errors.ts";
import { BUILTINS, RELATIONS } from "./builtins.ts";
import type { CRule, CompiledPolicy, RuleKind, RuleSet, WithTarget } from "./types.ts";
import { pathKey } from "./types.ts";
import { termVars, exprVars, walkTerm, bodyVars, hasCall } from "./util.ts";

export interface CompilerOptions {
  /** Queries to plan: name → query body. */
  queries?: { name: string; body: Expr[] }[];
  /** Entrypoints `a/b/c` (data.a.b.c), each planned as a query with result key "result". */
  entrypoints?: string[];
  /** Extra builtins allowed (host-supplied), name → arity. */
  customBuiltins?: Record<string, number>;
}

const ROOTS = new Set(["input", "data"]);
const INTERNAL_OPS = new Set(["eq", "assign"]);

export class Compiler {
  readonly errors: RegoError[] = [];
  readonly ruleSets = new Map<string, RuleSet>();
  readonly builtinsUsed = new Set<string>();
  private ruleInfo = new Map<Rule, { kind: RuleKind; path: string[]; rest: Term[] }>();
  private seq = 0;
  private bodySeq = 0;
  /** internal var name → owning body id */
  private owner = new Map<string, number>();
  private bodyParent = new Map<number, number>();
  /** rule set path key → referenced rule set path keys (for recursion) */
  private deps = new Map<string, Set<string>>();
  private curDeps: Set<string> | undefined;
  private customBuiltins: Record<string, number>;

  constructor(private modules: Module[], private opts: CompilerOptions = {}) {
    this.customBuiltins = opts.customBuiltins ?? {};
  }

  private error(kind: RegoErrorKind, loc: Loc, msg: string): void {
    this.errors.push(new RegoError(kind, loc.file, loc.row, loc.col, msg));
  }

  private fail(): never {
    throw new RegoErrors(this.errors);
  }

  compile(): CompiledPolicy {
    this.buildRuleSets();
    if (this.errors.length) this.fail();
    const compiledSets = new Map<string, RuleSet>();
    for (const [k, rs] of this.ruleSets) {
      const out: RuleSet = { path: rs.path, kind: rs.kind, rules: [], arity: rs.arity };
      this.curDeps = new Set();
      for (const r of rs.rules) {
        const cr = this.compileRuleChain(r as unknown as Rule);
        if (cr) out.rules.push(cr);
      }
      if (rs.default) {
        const cr = this.compileRuleChain(rs.default as unknown as Rule);
        if (cr) out.default = cr;
      }
      this.deps.set(k, this.curDeps);
      compiledSets.set(k, out);
    }
    this.checkRecursion();
    const queries: CompiledPolicy["queries"] = [];
    for (const q of this.opts.queries ?? []) {
      this.curDeps = new Set();
      const cq = this.compileQuery(q.name, q.body);
      if (cq) queries.push(cq);
    }
    for (const ep of this.opts.entrypoints ?? []) {
      const parts = ep.split("/").filter(Boolean);
      const loc: Loc = { file: "<entrypoint>", row: 1, col: 1 };
      const ref = mkRef([mkVar("data", loc), ...parts.map((p) => mkString(p, loc))], loc);
      const body = [mkExpr({ type: "call", op: mkRef([mkVar("eq", loc)], loc), args: [mkVar("result", loc), ref] }, loc)];
      this.curDeps = new Set();
      const cq = this.compileQuery(ep, body);
      if (cq) queries.push(cq);
    }
    if (this.errors.length) this.fail();
    const packages = this.modules.map((m) => m.package.slice(1).map((t) => (t as TermOf<"string">).value));
    return { ruleSets: compiledSets, queries, builtins: this.builtinsUsed, packages, customBuiltins: this.customBuiltins };
  }

  // ---------------------------------------------------------------- rule sets

  private buildRuleSets(): void {
    const pkgPaths = new Set<string>();
    for (const m of this.modules) {
      const pkg = m.package.slice(1).map((t) => (t as TermOf<"string">).value);
      for (let i = 1; i <= pkg.length; i++) pkgPaths.add(pathKey(pkg.slice(0, i)));
      for (const r of m.rules) {
        const headName = (r.head.ref[0] as TermOf<"var">).name;
        const full: Term[] = [...pkg.map((s) => mkString(s, r.loc)), mkString(headName, r.head.ref[0].loc), ...r.head.ref.slice(1)];
        let g = 0;
        while (g < full.length && full[g].type === "string") g++;
        const strs = full.slice(0, g).map((t) => (t as TermOf<"string">).value);
        let kind: RuleKind;
        let path: string[];
        let rest: Term[] = [];
        if (r.head.args) {
          if (g < full.length) { this.error("rego_parse_error", r.loc, "function name must be a static reference"); continue; }
          kind = "func"; path = strs;
        } else if (r.head.key) {
          if (g < full.length) { kind = "tree"; path = strs; rest = full.slice(g); }
          else { kind = "set"; path = strs; }
        } else if (g === full.length) {
          kind = "complete"; path = strs;
        } else {
          kind = "tree"; path = strs; rest = full.slice(g);
          if (r.default) { this.error("rego_type_error", r.loc, "default rules must have a ground reference"); continue; }
        }
        this.ruleInfo.set(r, { kind, path, rest });
        for (let e = r.else; e; e = e.else) this.ruleInfo.set(e, { kind, path, rest });
        const key = pathKey(path);
        let rs = this.ruleSets.get(key);
        if (!rs) {
          rs = { path, kind, rules: [], arity: r.head.args?.length };
          this.ruleSets.set(key, rs);
        }
        if (rs.kind !== kind) {
          if ((rs.kind === "tree" && kind !== "func") || (kind === "tree" && rs.kind !== "func")) {
            if (kind === "tree" || rs.kind === "tree") {
              // complete/set rules at the same path as ref-head rules
              this.error("rego_type_error", r.loc, `conflicting rules data.${path.join(".")} found`);
              continue;
            }
          }
          this.error("rego_type_error", r.loc, `conflicting rules data.${path.join(".")} found`);
          continue;
        }
        if (kind === "func" && rs.arity !== r.head.args!.length) {
          this.error("rego_type_error", r.loc, `conflicting rules data.${path.join(".")} found`);
          continue;
        }
        if (r.default) {
          if (rs.default) {
            this.error("rego_type_error", r.loc, `multiple default rules data.${path.join(".")} found`);
            continue;
          }
          rs.default = r as unknown as CRule;
        } else rs.rules.push(r as unknown as CRule);
      }
    }
    // Prefix conflicts: a rule set below another non-tree rule set, or a package inside a rule.
    const keys = [...this.ruleSets.keys()];
    for (const [k, rs] of this.ruleSets) {
      if (rs.kind === "tree") continue;
      const below = keys.filter((o) => o !== k && o.startsWith(k + "\u0000"));
      if (below.length) {
        const first = (rs.rules[0] ?? rs.default) as unknown as Rule;
        this.error("rego_type_error", first.loc, `rule data.${rs.path.join(".")} conflicts with [${below.map((b) => "data." + b.split("\u0000").join(".")).join(" ")}]`);
      }
      if (pkgPaths.has(k)) {
        const first = (rs.rules[0] ?? rs.default) as unknown as Rule;
        this.error("rego_type_error", first.loc, `conflicting rule for data path ${rs.path.join("/")} found`);
      }
    }
  }

  /** The rule set at exactly this path, if any. */
  ruleSetAt(path: string[]): RuleSet | undefined {
    return this.ruleSets.get(pathKey(path));
  }

  // ---------------------------------------------------------------- rules

  private compileRuleChain(r: Rule): CRule | undefined {
    const info = this.ruleInfo.get(r)!;
    const m = r.module!;
    const ctx = this.moduleCtx(m);
    const first = this.compileRule(r, info, ctx);
    let cur = first;
    for (let e = r.else; e && cur; e = e.else) {
      const ce = this.compileRule(e, info, ctx, r);
      cur.else = ce;
      cur = ce;
    }
    return first;
  }

  private ctxCache = new Map<Module, ModuleCtx>();
  private moduleCtx(m: Module): ModuleCtx {
    let c = this.ctxCache.get(m);
    if (c) return c;
    const pkg = m.package.slice(1).map((t) => (t as TermOf<"string">).value);
    // every rule of the package, whichever module defines it
    const exports = new Set<string>();
    const pk = pathKey(pkg);
    for (const o of this.modules) {
      if (pathKey(o.package.slice(1).map((t) => (t as TermOf<"string">).value)) !== pk) continue;
      for (const r of o.rules) exports.add((r.head.ref[0] as TermOf<"var">).name);
    }
    const imports = new Map<string, Term[]>();
    for (const imp of m.imports) {
      const t = imp.path;
      const terms = t.type === "ref" ? t.terms : [t];
      const head = (terms[0] as TermOf<"var">).name;
      if (head === "future" || head === "rego") continue;
      const last = terms[terms.length - 1];
      const alias = imp.alias ?? (last.type === "string" ? last.value : last.type === "var" ? last.name : undefined);
      if (!alias) continue;
      if (imports.has(alias)) this.error("rego_compile_error", imp.loc, `import must not shadow import ${alias}`);
      imports.set(alias, terms);
    }
    c = { pkg, exports, imports, file: m.file };
    this.ctxCache.set(m, c);
    return c;
  }

  private compileRule(r: Rule, info: { kind: RuleKind; path: string[]; rest: Term[] }, ctx: ModuleCtx, root?: Rule): CRule {
    const bodyId = this.newBody(undefined);
    const scope = new Scope(undefined, bodyId);
    const sc = new Scoper(this, ctx, scope, root ?? r);
    const nErr = this.errors.length;
    // function args are declared first; an arg holding a call (e.g. a template
    // string) is not a pattern: it becomes a var the body compares with it, as
    // OPA plans it, so the body binds the call's vars before it is evaluated
    let args: Term[] | undefined;
    const argVars: string[] = [];
    const argChecks: Expr[] = [];
    if (r.head.args) {
      const heads = r.head.args.map((a, i) => {
        if (!hasCall(a)) return a;
        const v = mkVar(`$arg${i}`, a.loc);
        argChecks.push(mkExpr({ type: "call", op: mkRef([mkVar("eq", a.loc)], a.loc), args: [v, a] }, a.loc, { generated: true }));
        return v;
      });
      args = heads.map((a) => sc.declarePattern(a, scope, true));
      for (const a of args) for (const v of termVars(a)) argVars.push(v);
    }
    let body = sc.body([...r.body, ...argChecks], scope);
    // head terms resolve in the rule scope
    const rest = info.rest.map((t) => sc.term(t, scope));
    const key = r.head.key ? sc.term(r.head.key, scope) : undefined;
    let value = r.head.value ? sc.term(r.head.value, scope) : undefined;
    if (!value && !key) value = { type: "boolean", value: true, loc: r.head.loc };
    // head terms with refs are evaluated in the body (OPA's RewriteRefsInHead)
    const hoist = (t: Term | undefined): Term | undefined => {
      if (!t || !hasRef(t)) return t;
      const v = mkVar(this.temp(bodyId), t.loc);
      body.push(mkExpr({ type: "call", op: mkRef([mkVar("eq", t.loc)], t.loc), args: [v, t] }, t.loc, { generated: true }));
      return v;
    };
    for (let i = 0; i < rest.length; i++) rest[i] = hoist(rest[i])!;
    const key1 = hoist(key);
    const value1 = hoist(value);
    // flatten
    const fl = new Flattener(this, bodyId);
    body = fl.body(body, bodyId);
    const tail: Expr[] = [];
    const flatRest = rest.map((t) => fl.simple(t, tail, bodyId, []));
    const flatKey = key1 ? fl.simple(key1, tail, bodyId, []) : undefined;
    const flatValue = value1 ? fl.simple(value1, tail, bodyId, []) : undefined;
    body.push(...tail);
    if (this.errors.length === nErr) {
      // safety
      const globals = new Set(argVars);
      const res = this.reorder(body, globals, bodyId);
      body = res.body;
      const headVars = new Set<string>();
      for (const t of [...flatRest, ...(flatKey ? [flatKey] : []), ...(flatValue ? [flatValue] : [])]) termVars(t, headVars);
      for (const v of headVars) {
        if (ROOTS.has(v) || this.isClosureOwned(this.owner.get(v) ?? -1, bodyId)) continue;
        if (!res.safe.has(v) && !globals.has(v)) this.error("rego_unsafe_var_error", r.head.loc, `var ${this.display(v)} is unsafe`);
      }
    }
    return {
      kind: info.kind, path: info.path, rest: flatRest, key: flatKey, value: flatValue, args, argVars,
      body, default: r.default, loc: r.loc, file: ctx.file,
    };
  }

  private compileQuery(name: string, q: Expr[]): CompiledPolicy["queries"][number] | undefined {
    const nErr = this.errors.length;
    const bodyId = this.newBody(undefined);
    const scope = new Scope(undefined, bodyId);
    const ctx: ModuleCtx = { pkg: [], exports: new Set(), imports: new Map(), file: "<query>" };
    const sc = new Scoper(this, ctx, scope);
    let body = sc.body(q, scope);
    const fl = new Flattener(this, bodyId);
    body = fl.body(body, bodyId);
    if (this.errors.length !== nErr) return undefined;
    const res = this.reorder(body, new Set(), bodyId);
    const vars: string[] = [];
    for (const [orig, internal] of scope.vars) {
      if (orig.startsWith("$") || orig.startsWith("__")) continue;
      vars.push(orig + "\u0000" + internal);
    }
    return { name, body: res.body, vars };
  }

  // ---------------------------------------------------------------- naming

  newBody(parent: number | undefined): number {
    const id = ++this.bodySeq;
    if (parent !== undefined) this.bodyParent.set(id, parent);
    return id;
  }

  /** True when body `b` is `anc` or nested in it. */
  within(b: number | undefined, anc: number): boolean {
    while (b !== undefined) {
      if (b === anc) return true;
      b = this.bodyParent.get(b);
    }
    return false;
  }

  fresh(orig: string, owner: number): string {
    const n = `${orig}\u0001${++this.seq}`;
    this.owner.set(n, owner);
    return n;
  }

  temp(owner: number): string {
    return this.fresh("__t", owner);
  }

  ownerOf(v: string): number | undefined {
    return this.owner.get(v);
  }

  display(v: string): string {
    const i = v.indexOf("\u0001");
    return i < 0 ? v : v.slice(0, i);
  }

  noteDep(path: string[]): void {
    if (!this.curDeps) return;
    // depend on every rule set on the path (prefix tree rules) and below it
    for (let i = 1; i <= path.length; i++) {
      const k = pathKey(path.slice(0, i));
      if (this.ruleSets.has(k)) this.curDeps.add(k);
    }
    const k = pathKey(path);
    for (const o of this.ruleSets.keys()) if (o.startsWith(k + "\u0000")) this.curDeps.add(o);
  }

  builtinArity(name: string): number | undefined {
    if (BUILTINS[name]) return BUILTINS[name].args.length;
    if (name in this.customBuiltins) return this.customBuiltins[name];
    return undefined;
  }

  useBuiltin(name: string): void {
    this.builtinsUsed.add(name);
  }

  // ---------------------------------------------------------------- annotations

  /** rego.metadata.rule(): the rule-scope annotation of the rule ({} if none). */
  metadataRule(r: Rule | undefined): unknown {
    const a = r?.module?.annotations?.find((x) => x.rule === r && x.scope === "rule");
    return a ? a.value : {};
  }

  /** rego.metadata.chain(): the rule's annotations, then its document's, package's and enclosing packages'. */
  metadataChain(r: Rule | undefined): unknown {
    if (!r?.module) return [];
    const info = this.ruleInfo.get(r);
    const pkg = r.module.package.slice(1).map((t) => (t as TermOf<"string">).value);
    const path = info ? info.path : pkg;
    const out: Record<string, unknown>[] = [];
    const own = r.module.annotations?.find((x) => x.rule === r && x.scope === "rule");
    out.push(own ? { path, annotations: own.value } : { path });
    for (const m of this.modules) for (const a of m.annotations ?? []) {
      if (a.scope === "document" && a.rule && pathKey(this.ruleInfo.get(a.rule)?.path ?? []) === pathKey(path)) out.push({ path, annotations: a.value });
    }
    for (let n = pkg.length; n >= 1; n--) {
      const anc = pkg.slice(0, n);
      for (const m of this.modules) {
        const mp = m.package.slice(1).map((t) => (t as TermOf<"string">).value);
        if (pathKey(mp) !== pathKey(anc)) continue;
        for (const a of m.annotations ?? []) {
          if (a.rule) continue;
          if (a.scope === "subpackages" || (a.scope === "package" && n === pkg.length)) out.push({ path: anc, annotations: a.value });
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- recursion

  private checkRecursion(): void {
    const state = new Map<string, number>(); // 1 visiting, 2 done
    const stack: string[] = [];
    const reported = new Set<string>();
    const visit = (k: string): void => {
      state.set(k, 1);
      stack.push(k);
      for (const d of this.deps.get(k) ?? []) {
        const s = state.get(d);
        if (s === 1) {
          const cyc = stack.slice(stack.indexOf(d));
          const rs = this.ruleSets.get(d)!;
          if (!reported.has(d)) {
            reported.add(d);
            const first = (rs.rules[0] ?? rs.default) as unknown as Rule;
            const names = [...cyc, d].map((x) => "data." + x.split("\u0000").join("."));
            this.error("rego_recursion_error", first.loc, `rule data.${rs.path.join(".")} is recursive: ${names.join(" -> ")}`);
          }
        } else if (!s) visit(d);
      }
      stack.pop();
      state.set(k, 2);
    };
    for (const k of this.deps.keys()) if (!state.get(k)) visit(k);
  }

  // ---------------------------------------------------------------- safety

  /**
   * Reorders a body so that each expression's input vars are bound before it.
   * `globals` are bound on entry. Returns the reordered body and the vars bound after it.
   */
  reorder(body: Expr[], globals: Set<string>, bodyId: number): { body: Expr[]; safe: Set<string> } {
    const safe = new Set(globals);
    const out: Expr[] = [];
    const remaining = [...body];
    // var occurrence counts at this level, to find vars local to a negation
    const occurs = new Map<string, number>();
    for (const e of body) for (const v of this.freeVars(e, bodyId)) occurs.set(v, (occurs.get(v) ?? 0) + 1);
    for (;;) {
      let progress = false;
      for (let i = 0; i < remaining.length; i++) {
        const e = remaining[i];
        const need = this.required(e, safe, bodyId, occurs);
        let ok = true;
        for (const v of need) if (!safe.has(v)) { ok = false; break; }
        if (!ok) continue;
        const outs = this.outputs(e, this.view(safe, bodyId));
        this.reorderNested(e, safe, bodyId);
        for (const v of outs) safe.add(v);
        out.push(e);
        remaining.splice(i, 1);
        i--;
        progress = true;
      }
      if (!progress || !remaining.length) break;
    }
    for (const e of remaining) {
      const need = this.required(e, safe, bodyId, occurs);
      const unsafe = [...need].filter((v) => !safe.has(v));
      const seen = new Set<string>();
      for (const v of unsafe) {
        const d = this.display(v);
        if (seen.has(d)) continue;
        seen.add(d);
        const shown = d.startsWith("$") ? "_" : d.startsWith("__t") ? d : d;
        this.error("rego_unsafe_var_error", e.loc, `var ${shown} is unsafe`);
      }
    }
    return { body: out, safe };
  }

  /** Vars of an expression that belong to this body level (closures contribute their free outer vars). */
  private freeVars(e: Expr, bodyId: number): Set<string> {
    const out = new Set<string>();
    for (const v of exprVars(e, true)) {
      if (ROOTS.has(v)) continue;
      const o = this.owner.get(v);
      if (o !== undefined && this.isClosureOwned(o, bodyId)) continue;
      out.add(v);
    }
    return out;
  }

  /** True when owner body `o` is strictly nested in `bodyId`. */
  private isClosureOwned(o: number, bodyId: number): boolean {
    return o !== bodyId && this.within(o, bodyId);
  }

  /** Vars that must be bound before `e` can run. */
  private required(e: Expr, safe: Set<string>, bodyId: number, occurs: Map<string, number>): Set<string> {
    const free = this.freeVars(e, bodyId);
    const b = e.body;
    if (b.type === "not") {
      // vars that occur only inside this negation are local to it
      const need = new Set<string>();
      for (const v of free) if ((occurs.get(v) ?? 0) > 1 || safe.has(v) || this.owner.get(v) !== bodyId && !this.within(this.owner.get(v), bodyId)) need.add(v);
      // vars owned by an outer body must be bound
      return need;
    }
    if (b.type === "every") {
      const need = new Set<string>();
      for (const v of free) {
        const o = this.owner.get(v);
        if (o !== undefined && this.isClosureOwned(o, bodyId)) continue;
        need.add(v);
      }
      return need;
    }
    const outs = this.outputs(e, this.view(safe, bodyId));
    const need = new Set<string>();
    for (const v of free) if (!outs.has(v)) need.add(v);
    for (const w of e.with) for (const v of termVars(w.value)) if (!ROOTS.has(v)) need.add(v);
    return need;
  }

  /** The bound vars, plus the vars local to closures nested in the body (they never need binding outside). */
  private view(safe: Set<string>, bodyId: number): SafeView {
    return { has: (v: string) => safe.has(v) || ROOTS.has(v) || (() => { const o = this.owner.get(v); return o !== undefined && this.isClosureOwned(o, bodyId); })() };
  }

  /** Vars an expression binds, given the bound vars. */
  outputs(e: Expr, safe: SafeView): Set<string> {
    const out = new Set<string>();
    const b = e.body;
    if (b.type === "term") {
      refOutputs(b.term, safe, out);
      return out;
    }
    if (b.type !== "call") return out;
    const name = refName(b.op) ?? "";
    if (name === "eq") {
      refOutputs(b.args[0], safe, out);
      refOutputs(b.args[1], safe, out);
      unifyOutputs(b.args[0], b.args[1], safe, out);
      return out;
    }
    for (const a of b.args) refOutputs(a, safe, out);
    const arity = this.callArity(b.op);
    if (arity !== undefined && b.args.length === arity + 1) {
      const inputsKnown = b.args.slice(0, arity).every((a) => [...termVars(a)].every((v) => safe.has(v) || out.has(v) || ROOTS.has(v)));
      if (inputsKnown) for (const v of termVars(b.args[arity])) if (!safe.has(v)) out.add(v);
    }
    return out;
  }

  callArity(op: Term): number | undefined {
    const name = refName(op);
    if (!name) return undefined;
    if (name.startsWith("data.")) {
      const rs = this.ruleSets.get(pathKey(name.split(".").slice(1)));
      return rs?.arity;
    }
    return this.builtinArity(name);
  }

  /** Reorders closure bodies inside an expression once its position is fixed. */
  private reorderNested(e: Expr, safe: Set<string>, bodyId: number): void {
    const b = e.body;
    const visitTerm = (t: Term) => walkTerm(t, (x) => {
      if (x.type === "arraycomp" || x.type === "setcomp" || x.type === "objectcomp") {
        const cid = (x as CompTerm).bodyId ?? bodyId;
        const r = this.reorder(x.body, new Set(safe), cid);
        x.body = r.body;
        const headVars = new Set<string>();
        if (x.type === "objectcomp") { termVars(x.key, headVars); termVars(x.value, headVars); }
        else termVars(x.term, headVars);
        for (const v of headVars) if (!r.safe.has(v) && !ROOTS.has(v) && !this.isClosureOwned(this.owner.get(v) ?? -1, cid)) this.error("rego_unsafe_var_error", x.loc, `var ${this.display(v)} is unsafe`);
        return false;
      }
    });
    switch (b.type) {
      case "term": visitTerm(b.term); break;
      case "call": for (const a of b.args) visitTerm(a); break;
      case "every": {
        visitTerm(b.domain);
        const inner = new Set(safe);
        if (b.key) termVars(b.key, inner);
        termVars(b.value, inner);
        b.body = this.reorder(b.body, inner, (e as EveryExpr).bodyId ?? bodyId).body;
        break;
      }
      case "not": {
        const r = this.reorder(b.body, new Set(safe), (e as NotExpr).bodyId ?? bodyId);
        b.body = r.body;
        break;
      }
    }
    for (const w of e.with) visitTerm(w.value);
  }
}

type CompTerm = Term & { bodyId?: number };
interface SafeView { has(v: string): boolean }
type EveryExpr = Expr & { bodyId?: number };
type NotExpr = Expr & { bodyId?: number };

/** Vars bound by iterating refs inside a term (keys that are unbound vars or patterns). */
function refOutputs(t: Term, safe: SafeView, out: Set<string>): void {
  walkTerm(t, (x) => {
    if (x.type === "ref") {
      const head = x.terms[0];
      if (head.type === "var" && !ROOTS.has(head.name) && !safe.has(head.name) && !out.has(head.name)) return false;
      for (let i = 1; i < x.terms.length; i++) {
        const k = x.terms[i];
        if (k.type === "ref") refOutputs(k, safe, out);
        else for (const v of termVars(k)) if (!safe.has(v)) out.add(v);
      }
      return false;
    }
    if (x.type === "arraycomp" || x.type === "setcomp" || x.type === "objectcomp") return false;
  }, false);
}

/** Vars bound by unifying a with b. */
function unifyOutputs(a: Term, b: Term, safe: SafeView, out: Set<string>): void {
  const known = (t: Term) => {
    for (const v of termVars(t)) if (!safe.has(v) && !out.has(v) && !ROOTS.has(v)) return false;
    return true;
  };
  let changed = true;
  const step = (x: Term, y: Term): void => {
    if (x.type === "var" && !safe.has(x.name) && !out.has(x.name) && known(y)) { out.add(x.name); changed = true; return; }
    if (y.type === "var" && !safe.has(y.name) && !out.has(y.name) && known(x)) { out.add(y.name); changed = true; return; }
    if (x.type === "array" && y.type === "array" && x.items.length === y.items.length) {
      x.items.forEach((xi, i) => step(xi, y.items[i]));
      return;
    }
    if (x.type === "object" && y.type === "object" && x.items.length === y.items.length) {
      for (const [k, v] of x.items) {
        const m = y.items.find(([k2]) => sameGround(k, k2));
        if (m) step(v, m[1]);
      }
      return;
    }
    const pattern = (p: Term, other: Term) => {
      if ((p.type === "array" || p.type === "object") && (other.type === "var" || other.type === "ref" || other.type === "arraycomp" || other.type === "objectcomp" || other.type === "setcomp") && known(other)) {
        const vs = p.type === "array" ? patternVars(p) : patternVars(p);
        for (const v of vs) if (!safe.has(v) && !out.has(v)) { out.add(v); changed = true; }
      }
    };
    pattern(x, y);
    pattern(y, x);
  };
  while (changed) {
    changed = false;
    step(a, b);
  }
}

/** Vars in pattern positions of a composite (not inside refs). */
function patternVars(t: Term, out = new Set<string>()): Set<string> {
  switch (t.type) {
    case "var": out.add(t.name); break;
    case "array": for (const x of t.items) patternVars(x, out); break;
    case "object": for (const [, v] of t.items) patternVars(v, out); break;
    default: break;
  }
  return out;
}

function sameGround(a: Term, b: Term): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "var") return a.name === (b as TermOf<"var">).name;
  if (a.type === "string" || a.type === "number" || a.type === "boolean") return (a as { value: unknown }).value === (b as { value: unknown }).value;
  if (a.type === "null") return true;
  return false;
}

// ------------------------------------------------------------------ scoping

interface ModuleCtx {
  pkg: string[];
  exports: Set<string>;
  imports: Map<string, Term[]>;
  file: string;
}

class Scope {
  vars = new Map<string, string>();
  /** orig names declared with := / some / every / args in this scope */
  explicit = new Set<string>();
  constructor(readonly parent: Scope | undefined, readonly bodyId: number) {}
  lookup(n: string): string | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(n);
      if (v) return v;
    }
    return undefined;
  }
}

/** Resolves refs/imports and renames vars; desugars `some … in`. */
class Scoper {
  constructor(private c: Compiler, private ctx: ModuleCtx, private root: Scope, private rule?: Rule) {}

  body(body: Expr[], scope: Scope): Expr[] {
    this.predeclare(body, scope);
    const out: Expr[] = [];
    for (const e of body) {
      const r = this.expr(e, scope);
      if (r) out.push(r);
    }
    return out;
  }

  /** Vars used by unification at this level (not declared with := or some) are declared up front. */
  private predeclare(body: Expr[], scope: Scope): void {
    const declared = new Set<string>();
    for (const e of body) {
      const b = e.body;
      if (b.type === "some") for (const v of b.vars) declared.add((v as TermOf<"var">).name);
      if (b.type === "somein") { if (b.key) termVars(b.key, declared, false); termVars(b.value, declared, false); }
      if (b.type === "call" && refName(b.op) === "assign") termVars(b.args[0], declared, false);
    }
    const used = new Set<string>();
    for (const e of body) {
      const b = e.body;
      if (b.type === "every") { termVars(b.domain, used, false); continue; }
      if (b.type === "some") continue;
      if (b.type === "somein") { termVars(b.domain, used, false); continue; }
      if (b.type === "call" && refName(b.op) === "assign") { termVars(b.args[1], used, false); }
      else for (const v of exprVars({ ...e, with: [] }, false)) used.add(v);
    }
    for (const n of used) {
      if (declared.has(n) || ROOTS.has(n) || n.startsWith("$")) continue;
      if (scope.lookup(n)) continue;
      if (this.ctx.imports.has(n) || this.ctx.exports.has(n)) continue;
      scope.vars.set(n, this.c.fresh(n, scope.bodyId));
    }
  }

  private err(loc: Loc, msg: string, kind: RegoErrorKind = "rego_compile_error"): void {
    (this.c as unknown as { error(k: RegoErrorKind, l: Loc, m: string): void }).error(kind, loc, msg);
  }

  private expr(e: Expr, scope: Scope): Expr | undefined {
    const b = e.body;
    const withs = e.with.map((w) => this.withMod(w, scope));
    const mk = (body: ExprBody): Expr => ({ ...e, body, with: withs });
    switch (b.type) {
      case "some": {
        if (e.negated) this.err(e.loc, "cannot declare vars inside negated expression");
        for (const v of b.vars) {
          const n = (v as TermOf<"var">).name;
          if (scope.explicit.has(n) || scope.vars.has(n) && !n.startsWith("$")) {
            if (scope.explicit.has(n)) this.err(v.loc, `var ${n} declared above`);
          }
          scope.vars.set(n, this.c.fresh(n, scope.bodyId));
          scope.explicit.add(n);
        }
        return undefined;
      }
      case "somein": {
        if (e.negated) this.err(e.loc, "cannot declare vars inside negated expression");
        const domain = this.term(b.domain, scope);
        const key = b.key ? this.declarePattern(b.key, scope, false) : undefined;
        const value = this.declarePattern(b.value, scope, false);
        // some k, v in xs  ⇒  v = xs[k];  some v in xs  ⇒  v = xs[$k]
        const k = key ?? mkVar(this.c.fresh("$k", scope.bodyId), b.value.loc);
        const ref = appendRef(domain, k);
        return mk({ type: "call", op: mkRef([mkVar("eq", e.loc)], e.loc), args: [value, ref] });
      }
      case "every": {
        const domain = this.term(b.domain, scope);
        const inner = new Scope(scope, this.c.newBody(scope.bodyId));
        const key = b.key ? this.declarePattern(b.key, inner, false) : undefined;
        const value = this.declarePattern(b.value, inner, false);
        const body = this.body(b.body, inner);
        const out = mk({ type: "every", key, value, domain, body }) as Expr & { bodyId?: number };
        out.bodyId = inner.bodyId;
        return out;
      }
      case "term": {
        const t = b.term;
        return mk({ type: "term", term: this.term(t, scope) });
      }
      case "call": {
        const name = refName(b.op);
        if (name === "assign") {
          if (e.negated) this.err(e.loc, "cannot assign vars inside negated expression");
          const rhs = this.term(b.args[1], scope);
          const lhs0 = b.args[0];
          if (!isAssignable(lhs0)) {
            this.err(e.loc, `cannot assign to ${lhs0.type}`);
            return undefined;
          }
          for (const v of termVars(lhs0, new Set(), false)) {
            if (v.startsWith("$")) continue;
            if (ROOTS.has(v)) { this.err(lhs0.loc, `cannot assign to ${v}`); continue; }
            if (scope.explicit.has(v)) this.err(lhs0.loc, `var ${v} assigned above`);
            else if (scope.vars.has(v)) this.err(lhs0.loc, `var ${v} referenced above`);
          }
          const lhs = this.declarePattern(lhs0, scope, true);
          return mk({ type: "call", op: mkRef([mkVar("eq", e.loc)], e.loc), args: [lhs, rhs] });
        }
        if (name === "print" || name === "internal.print") return mk({ type: "term", term: { type: "boolean", value: true, loc: e.loc } });
        const op = this.op(b.op, e.loc, b.args.length);
        if (!op) return undefined;
        return mk({ type: "call", op, args: b.args.map((a) => this.term(a, scope)) });
      }
      case "not":
        return mk({ type: "not", body: this.body(b.body, scope) });
    }
  }

  /** Declares all vars of a pattern in `scope` (fresh names) and returns the renamed pattern. */
  declarePattern(t: Term, scope: Scope, explicit: boolean): Term {
    const rename = (x: Term): Term => {
      switch (x.type) {
        case "var": {
          if (ROOTS.has(x.name)) return x;
          const n = this.c.fresh(x.name, scope.bodyId);
          scope.vars.set(x.name, n);
          if (explicit || true) scope.explicit.add(x.name);
          return { ...x, name: n };
        }
        case "array": return { ...x, items: x.items.map(rename) };
        case "object": return { ...x, items: x.items.map(([k, v]) => [this.term(k, scope), rename(v)] as [Term, Term]) };
        default: return this.term(x, scope);
      }
    };
    return rename(t);
  }

  /** Resolves and renames a term. */
  term(t: Term, scope: Scope): Term {
    switch (t.type) {
      case "null": case "boolean": case "number": case "string": return t;
      case "var": {
        const r = this.resolveVar(t, scope);
        if (r.type === "ref") this.noteData(r);
        return r;
      }
      case "ref": {
        const head = t.terms[0];
        const rest = t.terms.slice(1).map((x) => this.term(x, scope));
        let h: Term;
        if (head.type === "var") h = this.resolveVar(head, scope);
        else h = this.term(head, scope);
        if (h.type === "ref") {
          const out = mkRef([...h.terms, ...rest], t.loc);
          this.noteData(out);
          return out;
        }
        const out = mkRef([h, ...rest], t.loc);
        this.noteData(out);
        return out;
      }
      case "array": return { ...t, items: t.items.map((x) => this.term(x, scope)) };
      case "set": return { ...t, items: t.items.map((x) => this.term(x, scope)) };
      case "object": return { ...t, items: t.items.map(([k, v]) => [this.term(k, scope), this.term(v, scope)] as [Term, Term]) };
      case "call": {
        const name = refName(t.op);
        if ((name === "rego.metadata.rule" || name === "rego.metadata.chain") && t.args.length === 0) {
          return jsonTerm(name === "rego.metadata.rule" ? this.c.metadataRule(this.rule) : this.c.metadataChain(this.rule), t.loc);
        }
        if (name === "assign" || name === "eq") {
          this.err(t.loc, `${name === "assign" ? ":=" : "="} cannot be used inside a term`, "rego_parse_error");
          return t;
        }
        const op = this.op(t.op, t.loc, -1);
        return { ...t, op: op ?? t.op, args: t.args.map((a) => this.term(a, scope)) };
      }
      case "arraycomp": case "setcomp": {
        const inner = new Scope(scope, this.c.newBody(scope.bodyId));
        const body = this.body(t.body, inner);
        const out = { ...t, term: this.term(t.term, inner), body } as Term & { bodyId?: number };
        out.bodyId = inner.bodyId;
        return out;
      }
      case "objectcomp": {
        const inner = new Scope(scope, this.c.newBody(scope.bodyId));
        const body = this.body(t.body, inner);
        const out = { ...t, key: this.term(t.key, inner), value: this.term(t.value, inner), body } as Term & { bodyId?: number };
        out.bodyId = inner.bodyId;
        return out;
      }
    }
  }

  private noteData(r: TermOf<"ref">): void {
    const h = r.terms[0];
    if (h.type !== "var" || h.name !== "data") return;
    const path: string[] = [];
    for (const x of r.terms.slice(1)) {
      if (x.type !== "string") break;
      path.push(x.value);
    }
    this.c.noteDep(path);
    if (path.length < r.terms.length - 1) {
      // non-ground: depends on everything below the prefix
    }
  }

  private resolveVar(v: TermOf<"var">, scope: Scope): Term {
    const n = v.name;
    if (ROOTS.has(n)) return v;
    const local = scope.lookup(n);
    if (local) return { ...v, name: local };
    if (n.startsWith("$")) {
      const f = this.c.fresh(n, scope.bodyId);
      scope.vars.set(n, f);
      return { ...v, name: f };
    }
    const imp = this.ctx.imports.get(n);
    if (imp) {
      const terms = imp.map((x) => ({ ...x, loc: v.loc }));
      return terms.length === 1 ? terms[0] : mkRef(terms, v.loc);
    }
    if (this.ctx.exports.has(n)) {
      return mkRef([mkVar("data", v.loc), ...this.ctx.pkg.map((p) => mkString(p, v.loc)), mkString(n, v.loc)], v.loc);
    }
    // implicitly declared (unification) var of the current scope
    const f = this.c.fresh(n, scope.bodyId);
    scope.vars.set(n, f);
    return { ...v, name: f };
  }

  /** Resolves a call operator: user function (data ref) or builtin. */
  private op(opTerm: Term, loc: Loc, nargs: number): Term | undefined {
    const name = refName(opTerm);
    if (!name) {
      this.err(loc, "invalid function call");
      return undefined;
    }
    if (INTERNAL_OPS.has(name)) return opTerm;
    const parts = name.split(".");
    let path: string[] | undefined;
    if (parts[0] === "data") path = parts.slice(1);
    else if (this.ctx.imports.has(parts[0])) {
      const imp = this.ctx.imports.get(parts[0])!;
      const ip = refStrings(imp);
      if (ip && ip[0] === "data") path = [...ip.slice(1), ...parts.slice(1)];
    } else if (this.ctx.exports.has(parts[0])) path = [...this.ctx.pkg, ...parts];
    if (path) {
      const rs = this.c.ruleSetAt(path);
      if (!rs || rs.kind !== "func") {
        if (rs) {
          this.err(loc, `data.${path.join(".")} is not a function`, "rego_type_error");
          return undefined;
        }
        if (BUILTINS[name] === undefined) {
          this.err(loc, `undefined function data.${path.join(".")}`, "rego_type_error");
          return undefined;
        }
      } else {
        this.c.noteDep(path);
        if (nargs >= 0 && nargs !== rs.arity && nargs !== rs.arity! + 1) {
          this.err(loc, `function data.${path.join(".")} has arity ${rs.arity}, got ${nargs} arguments`, "rego_type_error");
        }
        return mkRef([mkVar("data", loc), ...path.map((p) => mkString(p, loc))], loc);
      }
    }
    const arity = this.c.builtinArity(name);
    if (arity === undefined) {
      this.err(loc, `undefined function ${name}`, "rego_type_error");
      return undefined;
    }
    if (nargs >= 0 && nargs !== arity && !(nargs === arity + 1 && !RELATIONS.has("x"))) {
      this.err(loc, `${name}: ${nargs < arity ? "too few" : "too many"} arguments`, "rego_type_error");
    }
    this.c.useBuiltin(name);
    return opTerm;
  }

  private withMod(w: With, scope: Scope): With & { target2?: WithTarget; fn?: string; fnBuiltin?: boolean } {
    const parts = refStrings(w.target.type === "ref" ? w.target.terms : [w.target]);
    const out: With & { target2?: WithTarget; fn?: string; fnBuiltin?: boolean } = { ...w };
    if (!parts) {
      this.err(w.loc, "with keyword target must reference existing input, data, or a function");
      return out;
    }
    let target: WithTarget | undefined;
    if (parts[0] === "input") target = { kind: "input", path: parts.slice(1) };
    else if (parts[0] === "data") {
      const rs = this.c.ruleSetAt(parts.slice(1));
      if (rs?.kind === "func") target = { kind: "func", name: parts.slice(1).join("."), builtin: false };
      else target = { kind: "data", path: parts.slice(1) };
    } else {
      // function or builtin
      const fpath = this.funcPath(parts);
      if (fpath) target = { kind: "func", name: fpath.join("."), builtin: false };
      else if (this.c.builtinArity(parts.join(".")) !== undefined) target = { kind: "func", name: parts.join("."), builtin: true };
      else if (this.ctx.exports.has(parts[0]) || this.ctx.imports.has(parts[0])) {
        const r = this.term(w.target, scope);
        const rp = r.type === "ref" ? refStrings(r.terms) : undefined;
        if (rp && rp[0] === "data") target = { kind: "data", path: rp.slice(1) };
      }
    }
    if (!target) {
      this.err(w.loc, `with keyword target must reference existing input, data, or a function`, "rego_type_error");
      return out;
    }
    out.target2 = target;
    // value: a function replacement or a term
    const vparts = w.value.type === "ref" ? refStrings(w.value.terms) : w.value.type === "var" ? [w.value.name] : undefined;
    if (target.kind === "func" && vparts && !(w.value.type === "var" && scope.lookup(w.value.name))) {
      const fpath = vparts[0] === "data" ? (this.c.ruleSetAt(vparts.slice(1))?.kind === "func" ? vparts.slice(1) : undefined) : this.funcPath(vparts);
      if (fpath) {
        out.fn = fpath.join(".");
        out.fnBuiltin = false;
        out.value = { type: "boolean", value: true, loc: w.value.loc };
        this.c.noteDep(fpath);
        return out;
      }
      if (!this.ctx.exports.has(vparts[0]) && !this.ctx.imports.has(vparts[0]) && vparts[0] !== "data" && vparts[0] !== "input" && this.c.builtinArity(vparts.join(".")) !== undefined) {
        out.fn = vparts.join(".");
        out.fnBuiltin = true;
        out.value = { type: "boolean", value: true, loc: w.value.loc };
        this.c.useBuiltin(out.fn);
        return out;
      }
    }
    out.value = this.term(w.value, scope);
    return out;
  }

  private funcPath(parts: string[]): string[] | undefined {
    let path: string[] | undefined;
    if (this.ctx.imports.has(parts[0])) {
      const ip = refStrings(this.ctx.imports.get(parts[0])!);
      if (ip && ip[0] === "data") path = [...ip.slice(1), ...parts.slice(1)];
    } else if (this.ctx.exports.has(parts[0])) path = [...this.ctx.pkg, ...parts];
    else if (parts[0] === "data") path = parts.slice(1);
    if (path && this.c.ruleSetAt(path)?.kind === "func") return path;
    return undefined;
  }
}

/** A constant term for a JSON value. */
function jsonTerm(v: unknown, loc: Loc): Term {
  if (v === null || v === undefined) return { type: "null", loc };
  if (typeof v === "boolean") return { type: "boolean", value: v, loc };
  if (typeof v === "number") return { type: "number", value: String(v), loc };
  if (typeof v === "string") return { type: "string", value: v, loc };
  if (Array.isArray(v)) return { type: "array", items: v.map((x) => jsonTerm(x, loc)), loc };
  if (v instanceof Date) return { type: "string", value: v.toISOString(), loc };
  return { type: "object", items: Object.entries(v as Record<string, unknown>).map(([k, x]) => [{ type: "string", value: k, loc }, jsonTerm(x, loc)] as [Term, Term]), loc };
}

/** Does a term contain a ref (outside closures)? */
function hasRef(t: Term): boolean {
  let found = false;
  walkTerm(t, (x) => {
    if (x.type === "ref") found = true;
    if (x.type === "arraycomp" || x.type === "setcomp" || x.type === "objectcomp") return false;
  }, false);
  return found;
}

function isAssignable(t: Term): boolean {
  switch (t.type) {
    case "var": return true;
    case "array": return t.items.every(isAssignable);
    case "object": return t.items.every(([k, v]) => k.type !== "var" && isAssignable(v));
    case "null": case "boolean": case "number": case "string": return true;
    default: return false;
  }
}

function refStrings(terms: Term[]): string[] | undefined {
  const h = terms[0];
  if (h.type !== "var") return undefined;
  const out = [h.name];
  for (const x of terms.slice(1)) {
    if (x.type !== "string") return undefined;
    out.push(x.value);
  }
  return out;
}

function appendRef(t: Term, k: Term): Term {
  if (t.type === "ref") return mkRef([...t.terms, k], t.loc);
  return mkRef([t, k], t.loc);
}

// ------------------------------------------------------------------ flattening

/** Rewrites expression terms: nested calls and comprehension ref heads become generated vars. */
class Flattener {
  constructor(private c: Compiler, _root: number) {}

  body(body: Expr[], bodyId: number): Expr[] {
    const out: Expr[] = [];
    for (const e of body) this.expr(e, out, bodyId);
    return out;
  }

  private expr(e: Expr, out: Expr[], bodyId: number): void {
    if (e.negated) {
      // not expr  ⇒  not { support…; expr }
      const nid = this.c.newBody(bodyId);
      const inner: Expr[] = [];
      this.expr({ ...e, negated: false, with: [] }, inner, nid);
      const withs = this.withs(e, out, bodyId);
      const g = { ...e, negated: false, body: { type: "not", body: inner }, with: withs } as Expr & { bodyId?: number };
      g.bodyId = nid;
      out.push(g);
      return;
    }
    const withs = this.withs(e, out, bodyId);
    const support: Expr[] = [];
    const b = e.body;
    let nb: ExprBody;
    switch (b.type) {
      case "term": {
        const t = b.term;
        if (t.type === "call") {
          nb = { type: "call", op: t.op, args: t.args.map((a) => this.simple(a, support, bodyId, withs)) };
        } else nb = { type: "term", term: this.simple(t, support, bodyId, withs) };
        break;
      }
      case "call": {
        const name = refName(b.op);
        if (name === "eq") {
          nb = { type: "call", op: b.op, args: b.args.map((a) => this.simple(a, support, bodyId, withs, true)) };
        } else nb = { type: "call", op: b.op, args: b.args.map((a) => this.simple(a, support, bodyId, withs)) };
        break;
      }
      case "every": {
        const domain = this.simple(b.domain, support, bodyId, withs);
        const eid = (e as EveryExpr).bodyId ?? bodyId;
        nb = { type: "every", key: b.key, value: b.value, domain, body: this.body(b.body, eid) };
        break;
      }
      case "not": {
        const nid = (e as NotExpr).bodyId ?? bodyId;
        nb = { type: "not", body: this.body(b.body, nid) };
        break;
      }
      default:
        nb = b;
    }
    out.push(...support);
    out.push({ ...e, body: nb, with: withs });
  }

  private withs(e: Expr, out: Expr[], bodyId: number): With[] {
    return e.with.map((w) => ({ ...w, value: this.simple(w.value, out, bodyId, []) }));
  }

  /**
   * Returns a term without nested calls; hoisted calls are appended to `support`
   * (carrying the expression's `with` modifiers). `top` allows one level of
   * call at the top (eq operands are unified with the call's output).
   */
  simple(t: Term, support: Expr[], bodyId: number, withs: With[], _top = false): Term {
    switch (t.type) {
      case "null": case "boolean": case "number": case "string": case "var": return t;
      case "call": {
        const args = t.args.map((a) => this.simple(a, support, bodyId, withs));
        const v = mkVar(this.c.temp(bodyId), t.loc);
        support.push({ body: { type: "call", op: t.op, args: [...args, v] }, negated: false, with: withs, loc: t.loc, generated: true });
        return v;
      }
      case "ref": {
        let head = t.terms[0];
        if (head.type === "call" || head.type === "arraycomp" || head.type === "setcomp" || head.type === "objectcomp" ||
            head.type === "array" || head.type === "object" || head.type === "set") {
          const h = this.simple(head, support, bodyId, withs);
          if (h.type === "var") head = h;
          else {
            const v = mkVar(this.c.temp(bodyId), t.loc);
            support.push({ body: { type: "call", op: mkRef([mkVar("eq", t.loc)], t.loc), args: [v, h] }, negated: false, with: withs, loc: t.loc, generated: true });
            head = v;
          }
        }
        const rest = t.terms.slice(1).map((x) => this.simpleKey(x, support, bodyId, withs));
        return mkRef([head, ...rest], t.loc);
      }
      case "array": return { ...t, items: t.items.map((x) => this.simple(x, support, bodyId, withs)) };
      case "set": return { ...t, items: t.items.map((x) => this.simple(x, support, bodyId, withs)) };
      case "object": return { ...t, items: t.items.map(([k, v]) => [this.simple(k, support, bodyId, withs), this.simple(v, support, bodyId, withs)] as [Term, Term]) };
      case "arraycomp": case "setcomp": {
        const cid = (t as CompTerm).bodyId ?? bodyId;
        const body = this.body(t.body, cid);
        const tail: Expr[] = [];
        const term = this.simple(t.term, tail, cid, []);
        const out = { ...t, term, body: [...body, ...tail] } as CompTerm;
        out.bodyId = cid;
        return out;
      }
      case "objectcomp": {
        const cid = (t as CompTerm).bodyId ?? bodyId;
        const body = this.body(t.body, cid);
        const tail: Expr[] = [];
        const key = this.simple(t.key, tail, cid, []);
        const value = this.simple(t.value, tail, cid, []);
        const out = { ...t, key, value, body: [...body, ...tail] } as CompTerm;
        out.bodyId = cid;
        return out;
      }
    }
  }

  /** Ref keys: calls and comprehensions become generated vars. */
  private simpleKey(t: Term, support: Expr[], bodyId: number, withs: With[]): Term {
    if (t.type === "arraycomp" || t.type === "setcomp" || t.type === "objectcomp") {
      const s = this.simple(t, support, bodyId, withs);
      const v = mkVar(this.c.temp(bodyId), t.loc);
      support.push({ body: { type: "call", op: mkRef([mkVar("eq", t.loc)], t.loc), args: [v, s] }, negated: false, with: withs, loc: t.loc, generated: true });
      return v;
    }
    return this.simple(t, support, bodyId, withs);
  }
}

export function compileModules(modules: Module[], opts: CompilerOptions = {}): CompiledPolicy & { compiler: Compiler } {
  const c = new Compiler(modules, opts);
  const p = c.compile();
  return { ...p, compiler: c };
}

export { locString };
