// Planner: compiled Rego (../compiler) → OPA IR plan (../plan.ts).
//
// Queries become plans; rule sets become funcs `g<N>.data.<path>(input, data[, args])`
// planned on demand. Planning is continuation-passing: each expression emits
// the statements that bind its vars into the current block and then plans the
// rest of the body inside the innermost block it opened (a scan body, a `with`
// block), so "undefined" (a branch to the innermost label) backtracks to the
// previous iteration point, exactly as OPA's own planner does.
//
// `with` on input or base data is a WithStmt on local 0/1 (undone for the rest
// of the query by a second WithStmt restoring the saved value). `with` on a
// virtual document or a function re-plans the affected rules in a new
// generation `g<N>`: mocked documents are read from the (upserted) data local,
// mocked functions are replaced by calls to their replacement, or by a value
// stashed in data under a reserved key.

import type { Expr, Term, TermOf } from "../parser/ast.ts";
import { refName } from "../parser/ast.ts";
import { RegoError } from "../parser/errors.ts";
import type { Block, Func, Operand, Plan, Policy, Stmt } from "../plan.ts";
import type { ConstValue } from "../static-data.ts";
import { BUILTINS, RELATIONS } from "../compiler/builtins.ts";
import type { CRule, CompiledPolicy, RuleSet, WithTarget } from "../compiler/types.ts";
import { pathKey } from "../compiler/types.ts";

const MOCK_KEY = "\u0000mocks";

interface Node {
  name: string;
  path: string[];
  children: Map<string, Node>;
  rs?: RuleSet;
}

type Replacement = { kind: "func"; name: string; builtin: boolean } | { kind: "value"; id: string };

interface Gen {
  id: number;
  /** Virtual documents read from the data local (overridden by `with`). */
  dataPaths: string[][];
  funcs: Map<string, Replacement>;
}

interface FnState {
  next: number;
  vars: Map<string, number>;
  curr: Stmt[];
}

type Iter = () => void;
type TermIter = (op: Operand) => void;

class PlanError extends Error {}

export interface PlanOptions {
  /** Fail instead of planning unsupported constructs as undefined. */
  strict?: boolean;
}

export class Planner {
  private strings: string[] = [];
  private stringIdx = new Map<string, number>();
  private files: string[] = [];
  private fileIdx = new Map<string, number>();
  private funcs = new Map<string, Func>();
  private funcOrder: string[] = [];
  private queue: { name: string; rs: RuleSet; gen: Gen }[] = [];
  private root: Node = { name: "", path: [], children: new Map() };
  private gens = new Map<string, Gen>();
  private gen: Gen;
  private st!: FnState;
  private loc = { file: 0, row: 0, col: 0 };
  private builtins = new Map<string, unknown>();
  private mockSeq = 0;

  constructor(private policy: CompiledPolicy, _opts: PlanOptions = {}) {
    for (const pkg of policy.packages ?? []) {
      let n = this.root;
      for (const p of pkg) {
        let c = n.children.get(p);
        if (!c) {
          c = { name: p, path: [...n.path, p], children: new Map() };
          n.children.set(p, c);
        }
        n = c;
      }
    }
    for (const rs of policy.ruleSets.values()) {
      let n = this.root;
      for (const p of rs.path) {
        let c = n.children.get(p);
        if (!c) {
          c = { name: p, path: [...n.path, p], children: new Map() };
          n.children.set(p, c);
        }
        n = c;
      }
      n.rs = rs;
    }
    this.gen = { id: 0, dataPaths: [], funcs: new Map() };
    this.gens.set("", this.gen);
  }

  plan(): Policy {
    const plans: Plan[] = [];
    for (const q of this.policy.queries) plans.push(this.planQuery(q.name, q.body, q.vars));
    while (this.queue.length) {
      const j = this.queue.shift()!;
      this.planRuleSet(j.name, j.rs, j.gen);
    }
    return {
      static: {
        strings: this.strings.map((value) => ({ value })),
        builtin_funcs: [...this.builtins].map(([name, decl]) => ({ name, decl })),
        files: this.files.map((value) => ({ value })),
      },
      plans: { plans },
      funcs: { funcs: this.funcOrder.map((n) => this.funcs.get(n)!) },
    };
  }

  // ---------------------------------------------------------------- helpers

  private str(s: string): number {
    let i = this.stringIdx.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIdx.set(s, i);
    }
    return i;
  }

  private file(f: string): number {
    let i = this.fileIdx.get(f);
    if (i === undefined) {
      i = this.files.length;
      this.files.push(f);
      this.fileIdx.set(f, i);
    }
    return i;
  }

  private setLoc(l: { file: string; row: number; col: number } | undefined): void {
    if (!l) return;
    this.loc = { file: this.file(l.file || "<query>"), row: l.row, col: l.col };
  }

  private emit(type: string, stmt: Record<string, unknown>): void {
    this.st.curr.push({ type, stmt: { ...stmt, file: this.loc.file, col: this.loc.col, row: this.loc.row } } as Stmt);
  }

  private local(): number {
    return this.st.next++;
  }

  /** Runs f with `curr` set to a new statement list; returns the block. */
  private block(f: () => void): Block {
    const save = this.st.curr;
    const stmts: Stmt[] = [];
    this.st.curr = stmts;
    try {
      f();
    } finally {
      this.st.curr = save;
    }
    return { stmts };
  }

  /** Runs f with the var bindings restored afterwards. */
  private scoped(f: () => void): void {
    const save = this.st.vars;
    this.st.vars = new Map(save);
    try {
      f();
    } finally {
      this.st.vars = save;
    }
  }

  private lop(l: number): Operand {
    return { type: "local", value: l };
  }

  private toLocal(op: Operand): number {
    if (op.type === "local") return op.value;
    const l = this.local();
    this.emit("AssignVarStmt", { source: op, target: l });
    return l;
  }

  private fail(): void {
    // An always-undefined statement.
    this.emit("NotEqualStmt", { a: { type: "bool", value: true }, b: { type: "bool", value: true } });
  }

  private bound(name: string): boolean {
    return name === "input" || name === "data" || this.st.vars.has(name);
  }

  /** No unbound vars outside closures and refs? (refs bind their own iteration vars) */
  private known(t: Term): boolean {
    switch (t.type) {
      case "var": return this.bound(t.name);
      case "array": case "set": return t.items.every((x) => this.known(x));
      case "object": return t.items.every(([k, v]) => this.known(k) && this.known(v));
      case "ref": return t.terms[0].type !== "var" || this.bound(t.terms[0].name);
      default: return true;
    }
  }

  private bindVar(name: string, op: Operand): void {
    const l = this.local();
    this.emit("AssignVarStmt", { source: op, target: l });
    this.st.vars.set(name, l);
  }

  private useBuiltin(name: string): void {
    if (!this.builtins.has(name)) {
      const custom = this.policy.customBuiltins[name];
      const d = BUILTINS[name] ?? (custom === undefined ? undefined : { args: new Array<string>(custom).fill("any"), result: "any" });
      this.builtins.set(name, d ? { type: "function", args: d.args.map((t) => ({ type: t })), result: { type: d.result } } : undefined);
    }
  }

  // ---------------------------------------------------------------- queries

  private planQuery(name: string, body: Expr[], vars: string[]): Plan {
    this.st = { next: 2, vars: new Map(), curr: [] };
    this.gen = this.gens.get("")!;
    const b = this.block(() => {
      this.planExprs(body, 0, () => {
        const r = this.local();
        this.emit("MakeObjectStmt", { target: r });
        for (const v of vars) {
          const [orig, internal] = v.split("\u0000");
          const l = this.st.vars.get(internal);
          if (l === undefined) continue;
          this.emit("ObjectInsertStmt", { key: { type: "string_index", value: this.str(orig) }, value: this.lop(l), object: r });
        }
        this.emit("ResultSetAddStmt", { value: r });
      });
    });
    return { name, blocks: [b] };
  }

  // ---------------------------------------------------------------- rule sets

  private funcName(rs: RuleSet, gen: Gen): string {
    const name = `g${gen.id}.data.${rs.path.join(".")}`;
    if (!this.funcs.has(name)) {
      const params = rs.kind === "func" ? [0, 1, ...Array.from({ length: rs.arity ?? 0 }, (_, i) => 2 + i)] : [0, 1];
      this.funcs.set(name, { name, params, return: params.length, blocks: [], path: [`g${gen.id}`, ...rs.path] });
      this.funcOrder.push(name);
      this.queue.push({ name, rs, gen });
    }
    return name;
  }

  private planRuleSet(name: string, rs: RuleSet, gen: Gen): void {
    const f = this.funcs.get(name)!;
    const ret = f.return;
    this.st = { next: ret + 1, vars: new Map(), curr: [] };
    this.gen = gen;
    const blocks: Block[] = [];
    const first = rs.rules[0] ?? rs.default;
    if (first) this.setLoc(first.loc);
    if (rs.kind === "set") blocks.push(this.block(() => this.emit("MakeSetStmt", { target: ret })));
    if (rs.kind === "tree") blocks.push(this.block(() => this.emit("MakeObjectStmt", { target: ret })));
    for (const r of rs.rules) {
      blocks.push(this.block(() => this.planRule(rs, r, ret)));
    }
    if (rs.kind === "tree") {
      // ground rule sets below a ref-head tree contribute to its object
      const node = this.nodeAt(rs.path);
      if (node) for (const d of this.descendants(node)) {
        blocks.push(this.block(() => {
          const r = this.local();
          this.emit("CallStmt", { func: this.funcName(d.rs!, this.gen), args: [this.lop(0), this.lop(1)], result: r });
          const rel = d.path.slice(rs.path.length).map((s) => ({ type: "string", value: s, loc: first!.loc } as Term));
          if (d.rs!.kind === "set") {
            // add the elements to the set at that path
            const k = this.local(), v = this.local();
            const elem: Term = { type: "var", name: `$elem${v}`, loc: first!.loc };
            const blk = this.block(() => {
              this.st.vars.set(`$elem${v}`, v);
              this.insertPath(ret, rel, undefined, "set", elem);
            });
            this.emit("ScanStmt", { source: r, key: k, value: v, block: blk });
          } else this.insertPath(ret, rel, this.lop(r), d.rs!.kind === "tree" ? "merge" : "once");
        }));
      }
    }
    if (rs.default) {
      const d = rs.default;
      blocks.push(this.block(() => {
        this.setLoc(d.loc);
        this.emit("IsUndefinedStmt", { source: ret });
        this.scoped(() => this.planRuleBody(d, () => this.planTerm(d.value!, (op) => this.emit("AssignVarOnceStmt", { source: op, target: ret }))));
      }));
    }
    blocks.push(this.block(() => this.emit("ReturnLocalStmt", { source: ret })));
    f.blocks = blocks;
  }

  private nodeAt(path: string[]): Node | undefined {
    let n: Node | undefined = this.root;
    for (const p of path) {
      n = n.children.get(p);
      if (!n) return undefined;
    }
    return n;
  }

  /** Rule sets strictly below a node, not below another rule set. */
  private descendants(n: Node): Node[] {
    const out: Node[] = [];
    const walk = (x: Node) => {
      for (const c of [...x.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (c.rs) out.push(c);
        else walk(c);
      }
    };
    walk(n);
    return out;
  }

  private planRule(rs: RuleSet, r: CRule, ret: number): void {
    this.setLoc(r.loc);
    const chain: CRule[] = [];
    for (let x: CRule | undefined = r; x; x = x.else) chain.push(x);
    if (rs.kind === "complete" || rs.kind === "func") {
      const c = this.local();
      this.emit("ResetLocalStmt", { target: c });
      const blocks: Block[] = chain.map((x, i) => this.block(() => {
        this.setLoc(x.loc);
        if (i > 0) this.emit("IsUndefinedStmt", { source: c });
        this.scoped(() => this.planRuleBody(x, () => {
          this.planTerm(x.value!, (op) => this.emit("AssignVarOnceStmt", { source: op, target: c }));
        }));
      }));
      blocks.push(this.block(() => {
        this.emit("IsDefinedStmt", { source: c });
        this.emit("AssignVarOnceStmt", { source: this.lop(c), target: ret });
      }));
      this.emit("BlockStmt", { blocks });
      return;
    }
    if (rs.kind === "set") {
      this.scoped(() => this.planRuleBody(r, () => {
        this.planTerm(r.key!, (op) => this.emit("SetAddStmt", { value: op, set: ret }));
      }));
      return;
    }
    // tree: insert at the head ref path
    this.scoped(() => this.planRuleBody(r, () => {
      if (r.key) {
        this.insertPath(ret, r.rest, undefined, "set", r.key);
      } else {
        this.planTerm(r.value!, (op) => this.insertPath(ret, r.rest, op, "once"));
      }
    }));
  }

  private planRuleBody(r: CRule, iter: Iter): void {
    if (r.args) {
      const pairs: [Term, number][] = r.args.map((a, i) => [a, 2 + i]);
      const next = (i: number): void => {
        if (i === pairs.length) {
          this.planExprs(r.body, 0, iter);
          return;
        }
        const [pat, l] = pairs[i];
        if (pat.type === "var" && !this.bound(pat.name)) {
          this.st.vars.set(pat.name, l);
          next(i + 1);
        } else this.unifyLocal(pat, l, () => next(i + 1));
      };
      next(0);
      return;
    }
    this.planExprs(r.body, 0, iter);
  }

  /** Inserts into nested objects along `path` (terms) below `obj`. */
  private insertPath(obj: number, path: Term[], value: Operand | undefined, mode: "once" | "merge" | "set", setKey?: Term): void {
    const keys = (i: number, cur: number): void => {
      const k = path[i];
      this.planTerm(k, (kop) => {
        if (i === path.length - 1) {
          if (mode === "once") {
            this.emit("ObjectInsertOnceStmt", { key: kop, value: value!, object: cur });
          } else if (mode === "merge") {
            const ex = this.local();
            this.emit("ResetLocalStmt", { target: ex });
            this.emit("BlockStmt", { blocks: [this.block(() => this.emit("DotStmt", { source: this.lop(cur), key: kop, target: ex }))] });
            const merged = this.local();
            this.emit("BlockStmt", { blocks: [
              this.block(() => {
                this.emit("IsDefinedStmt", { source: ex });
                this.emit("ObjectMergeStmt", { a: ex, b: (value as { value: number }).value, target: merged });
                this.emit("ObjectInsertStmt", { key: kop, value: this.lop(merged), object: cur });
              }),
              this.block(() => {
                this.emit("IsUndefinedStmt", { source: ex });
                this.emit("ObjectInsertStmt", { key: kop, value: value!, object: cur });
              }),
            ] });
          } else {
            const s = this.getOrCreate(cur, kop, "MakeSetStmt");
            this.planTerm(setKey!, (sop) => this.emit("SetAddStmt", { value: sop, set: s }));
          }
          return;
        }
        const next = this.getOrCreate(cur, kop, "MakeObjectStmt");
        keys(i + 1, next);
      });
    };
    if (!path.length) {
      if (mode === "set") this.planTerm(setKey!, (sop) => this.emit("SetAddStmt", { value: sop, set: obj }));
      return;
    }
    keys(0, obj);
  }

  /**
   * The collection at obj[key], created if missing. An existing one may be
   * another rule's value (possibly a read-only constant): it is copied first.
   */
  private getOrCreate(obj: number, key: Operand, make: string): number {
    const t = this.local();
    this.emit("ResetLocalStmt", { target: t });
    this.emit("BlockStmt", { blocks: [this.block(() => this.emit("DotStmt", { source: this.lop(obj), key, target: t }))] });
    this.emit("BlockStmt", { blocks: [
      this.block(() => {
        this.emit("IsUndefinedStmt", { source: t });
        this.emit(make, { target: t });
        this.emit("ObjectInsertStmt", { key, value: this.lop(t), object: obj });
      }),
      this.block(() => {
        this.emit("IsDefinedStmt", { source: t });
        const e = this.local(), c = this.local();
        if (make === "MakeObjectStmt") {
          this.emit("IsObjectStmt", { source: this.lop(t) });
          this.emit("MakeObjectStmt", { target: e });
          this.emit("ObjectMergeStmt", { a: t, b: e, target: c });
        } else {
          this.emit("IsSetStmt", { source: this.lop(t) });
          this.emit("MakeSetStmt", { target: e });
          this.useBuiltin("or");
          this.emit("CallStmt", { func: "or", args: [this.lop(t), this.lop(e)], result: c });
        }
        this.emit("AssignVarStmt", { source: this.lop(c), target: t });
        this.emit("ObjectInsertStmt", { key, value: this.lop(t), object: obj });
      }),
    ] });
    return t;
  }

  // ---------------------------------------------------------------- bodies

  private planExprs(body: Expr[], i: number, iter: Iter): void {
    if (i >= body.length) {
      iter();
      return;
    }
    this.planExpr(body[i], () => this.planExprs(body, i + 1, iter));
  }

  private planExpr(e: Expr, iter: Iter): void {
    this.setLoc(e.loc);
    if (e.with.length) {
      this.planWith(e, iter);
      return;
    }
    const b = e.body;
    switch (b.type) {
      case "term": {
        const t = b.term;
        if (t.type === "boolean" && t.value) { iter(); return; }
        this.planTerm(t, (op) => {
          this.emit("NotEqualStmt", { a: op, b: { type: "bool", value: false } });
          iter();
        });
        return;
      }
      case "call":
        this.planCallExpr(b.op, b.args, iter);
        return;
      case "not": {
        const blk = this.block(() => this.scoped(() => this.planExprs(b.body, 0, () => {})));
        this.emit("NotStmt", { block: blk });
        iter();
        return;
      }
      case "every":
        this.planEvery(b, iter);
        return;
      default:
        throw new PlanError(`cannot plan ${b.type} expression`);
    }
  }

  private planEvery(b: Extract<Expr["body"], { type: "every" }>, iter: Iter): void {
    this.planTerm(b.domain, (dop) => {
      const d = this.toLocal(dop);
      const flag = this.local();
      this.emit("ResetLocalStmt", { target: flag });
      // the domain must be a collection
      this.emit("BlockStmt", { blocks: [this.block(() => {
        this.emit("BlockStmt", { blocks: [
          this.block(() => { this.emit("IsArrayStmt", { source: this.lop(d) }); this.emit("BreakStmt", { index: 1 }); }),
          this.block(() => { this.emit("IsObjectStmt", { source: this.lop(d) }); this.emit("BreakStmt", { index: 1 }); }),
          this.block(() => { this.emit("IsSetStmt", { source: this.lop(d) }); this.emit("BreakStmt", { index: 1 }); }),
        ] });
        this.emit("BreakStmt", { index: 1 });
      })] });
      const k = this.local(), v = this.local();
      const body = this.block(() => this.scoped(() => {
        const ok = this.local();
        const bind = (pat: Term | undefined, l: number, then: Iter) => {
          if (!pat) return then();
          if (pat.type === "var") {
            this.bindVar(pat.name, this.lop(l));
            then();
          } else this.unifyLocal(pat, l, then);
        };
        bind(b.key, k, () => {
          this.emit("ResetLocalStmt", { target: ok });
          const inner = this.block(() => this.scoped(() => bind(b.value, v, () => this.planExprs(b.body, 0, () => {
            this.emit("AssignVarStmt", { source: { type: "bool", value: true }, target: ok });
          }))));
          this.emit("BlockStmt", { blocks: [inner] });
          this.emit("IsUndefinedStmt", { source: ok });
          this.emit("AssignVarStmt", { source: { type: "bool", value: true }, target: flag });
        });
      }));
      this.emit("ScanStmt", { source: d, key: k, value: v, block: body });
      this.emit("IsUndefinedStmt", { source: flag });
      iter();
    });
  }

  // ---------------------------------------------------------------- with

  private planWith(e: Expr, iter: Iter): void {
    const withs = e.with as (Expr["with"][number] & { target2?: WithTarget; fn?: string; fnBuiltin?: boolean })[];
    const inner: Expr = { ...e, with: [] };
    // plan the values first (in the current context)
    const vals: (Operand | undefined)[] = [];
    const planVals = (i: number, then: Iter): void => {
      if (i === withs.length) return then();
      const w = withs[i];
      if (w.fn) {
        vals.push(undefined);
        planVals(i + 1, then);
        return;
      }
      this.planTerm(w.value, (op) => {
        vals.push(op);
        planVals(i + 1, then);
      });
    };
    planVals(0, () => {
      const outer = this.gen;
      let dataPaths = [...outer.dataPaths];
      const funcs = new Map(outer.funcs);
      const sets: { local: number; path: string[]; value: Operand }[] = [];
      withs.forEach((w, i) => {
        const t = w.target2!;
        if (t.kind === "input") sets.push({ local: 0, path: t.path, value: vals[i]! });
        else if (t.kind === "data") {
          sets.push({ local: 1, path: t.path, value: vals[i]! });
          if (this.touchesRules(t.path)) {
            dataPaths = dataPaths.filter((p) => !isPrefix(t.path, p));
            dataPaths.push(t.path);
          }
        } else {
          if (w.fn) funcs.set(t.name, { kind: "func", name: w.fn, builtin: !!w.fnBuiltin });
          else {
            const id = String(++this.mockSeq);
            sets.push({ local: 1, path: [MOCK_KEY, id], value: vals[i]! });
            funcs.set(t.name, { kind: "value", id });
          }
        }
      });
      const gen = this.genFor(dataPaths, funcs);
      const saveIn = sets.some((s) => s.local === 0) ? this.local() : -1;
      const saveData = sets.some((s) => s.local === 1) ? this.local() : -1;
      if (saveIn >= 0) this.emit("AssignVarStmt", { source: this.lop(0), target: saveIn });
      if (saveData >= 0) this.emit("AssignVarStmt", { source: this.lop(1), target: saveData });
      const nest = (i: number): void => {
        if (i === sets.length) {
          this.gen = gen;
          this.planExpr(inner, () => {
            this.gen = outer;
            // undo for the rest of the query
            const undo: [number, number][] = [];
            if (saveIn >= 0) undo.push([0, saveIn]);
            if (saveData >= 0) undo.push([1, saveData]);
            const u = (j: number): void => {
              if (j === undo.length) { iter(); return; }
              const blk = this.block(() => u(j + 1));
              this.emit("WithStmt", { local: undo[j][0], path: [], value: this.lop(undo[j][1]), block: blk });
            };
            u(0);
            this.gen = gen;
          });
          this.gen = outer;
          return;
        }
        const s = sets[i];
        const blk = this.block(() => nest(i + 1));
        this.emit("WithStmt", { local: s.local, path: s.path.map((p) => this.str(p)), value: s.value, block: blk });
      };
      nest(0);
    });
  }

  /** Does a data path overlap any rule set (at, above or below it)? */
  private touchesRules(path: string[]): boolean {
    let n: Node | undefined = this.root;
    for (const p of path) {
      if (n.rs) return true;
      n = n.children.get(p);
      if (!n) return false;
    }
    return true;
  }

  private genFor(dataPaths: string[][], funcs: Map<string, Replacement>): Gen {
    const key = JSON.stringify([dataPaths.map((p) => p.join("\u0000")).sort(), [...funcs].sort(([a], [b]) => (a < b ? -1 : 1))]);
    if (!dataPaths.length && !funcs.size) return this.gens.get("")!;
    let g = this.gens.get(key);
    if (!g) {
      g = { id: this.gens.size, dataPaths, funcs };
      this.gens.set(key, g);
    }
    return g;
  }

  // ---------------------------------------------------------------- calls

  private planCallExpr(opTerm: Term, args: Term[], iter: Iter): void {
    const name = refName(opTerm) ?? "";
    if (name === "eq") {
      this.unify(args[0], args[1], iter);
      return;
    }
    let arity: number;
    const isData = name.startsWith("data.");
    if (isData) arity = this.policy.ruleSets.get(pathKey(name.split(".").slice(1)))?.arity ?? args.length;
    else arity = BUILTINS[name]?.args.length ?? this.policy.customBuiltins[name] ?? args.length;
    if (args.length < arity) throw new PlanError(`${name}: too few arguments`);
    const ins = args.slice(0, arity);
    const out = args.length > arity ? args[arity] : undefined;
    if (!out && (name === "equal" || name === "neq") && !this.gen.funcs.has(name)) {
      // `a == b` / `a != b` as an expression: a comparison statement, no call
      this.planTerms(ins, (ops) => {
        this.emit(name === "equal" ? "EqualStmt" : "NotEqualStmt", { a: ops[0], b: ops[1] });
        iter();
      });
      return;
    }
    this.planTerms(ins, (ops) => {
      this.callFunc(name, ops, (r) => {
        if (RELATIONS.has(name) && !this.gen.funcs.has(name)) {
          // relation: iterate the result
          const k = this.local(), v = this.local();
          const blk = this.block(() => {
            if (out) this.unifyLocal(out, v, iter);
            else iter();
          });
          this.emit("ScanStmt", { source: r, key: k, value: v, block: blk });
          return;
        }
        if (out) this.unifyLocal(out, r, iter);
        else {
          this.emit("NotEqualStmt", { a: this.lop(r), b: { type: "bool", value: false } });
          iter();
        }
      });
    });
  }

  /** Emits a call (user function, builtin, or its mock) and passes the result local. */
  private callFunc(name: string, ops: Operand[], then: (r: number) => void): void {
    const mock = this.gen.funcs.get(name.startsWith("data.") ? name.slice(5) : name);
    if (mock) {
      if (mock.kind === "value") {
        const m = this.local(), r = this.local();
        this.emit("DotStmt", { source: this.lop(1), key: { type: "string_index", value: this.str(MOCK_KEY) }, target: m });
        this.emit("DotStmt", { source: this.lop(m), key: { type: "string_index", value: this.str(mock.id) }, target: r });
        then(r);
        return;
      }
      const r = this.local();
      if (mock.builtin) {
        this.useBuiltin(mock.name);
        this.emit("CallStmt", { func: mock.name, args: ops, result: r });
      } else {
        const rs = this.policy.ruleSets.get(pathKey(mock.name.split(".")))!;
        const f = this.funcName(rs, this.gens.get("")!);
        this.emit("CallStmt", { func: f, args: [this.lop(0), this.lop(1), ...ops.slice(0, rs.arity)], result: r });
      }
      then(r);
      return;
    }
    const r = this.local();
    if (name.startsWith("data.")) {
      const rs = this.policy.ruleSets.get(pathKey(name.split(".").slice(1)));
      if (!rs) throw new PlanError(`unknown function ${name}`);
      this.emit("CallStmt", { func: this.funcName(rs, this.gen), args: [this.lop(0), this.lop(1), ...ops], result: r });
    } else {
      this.useBuiltin(name);
      this.emit("CallStmt", { func: name, args: ops, result: r });
    }
    then(r);
  }

  // ---------------------------------------------------------------- unification

  private unify(a: Term, b: Term, iter: Iter): void {
    if (a.type === "var" && !this.bound(a.name)) {
      this.planTerm(b, (op) => { this.bindVar(a.name, op); iter(); });
      return;
    }
    if (b.type === "var" && !this.bound(b.name)) {
      this.planTerm(a, (op) => { this.bindVar(b.name, op); iter(); });
      return;
    }
    if (a.type === "array" && b.type === "array") {
      if (a.items.length !== b.items.length) { this.fail(); return; }
      const pairs = a.items.map((x, i) => [x, b.items[i]] as [Term, Term]);
      this.unifyPairs(pairs, 0, iter);
      return;
    }
    if (a.type === "object" && b.type === "object") {
      if (a.items.length !== b.items.length) { this.fail(); return; }
      const pairs: [Term, Term][] = [];
      for (const [k, v] of a.items) {
        const m = b.items.find(([k2]) => groundEq(k, k2));
        if (!m) {
          if (!isGroundScalar(k) || !b.items.every(([k2]) => isGroundScalar(k2))) {
            // dynamic keys: compare as values
            this.planTerm(a, (oa) => this.planTerm(b, (ob) => { this.emit("EqualStmt", { a: oa, b: ob }); iter(); }));
            return;
          }
          this.fail();
          return;
        }
        pairs.push([v, m[1]]);
      }
      this.unifyPairs(pairs, 0, iter);
      return;
    }
    if (!this.known(a) && this.known(b)) {
      this.planTerm(b, (op) => this.unifyLocal(a, this.toLocal(op), iter));
      return;
    }
    if (!this.known(b)) {
      this.planTerm(a, (op) => this.unifyLocal(b, this.toLocal(op), iter));
      return;
    }
    this.planTerm(a, (oa) => this.planTerm(b, (ob) => {
      this.emit("EqualStmt", { a: oa, b: ob });
      iter();
    }));
  }

  private unifyPairs(pairs: [Term, Term][], i: number, iter: Iter): void {
    if (i === pairs.length) { iter(); return; }
    // prefer pairs that can bind now
    this.unify(pairs[i][0], pairs[i][1], () => this.unifyPairs(pairs, i + 1, iter));
  }

  /** Checks that local `l` is an array or object (`typeStmt`) of `length` items. */
  private emitShapeCheck(typeStmt: "IsArrayStmt" | "IsObjectStmt", l: number, length: number): void {
    this.emit(typeStmt, { source: this.lop(l) });
    const n = this.local(), c = this.local();
    this.emit("LenStmt", { source: this.lop(l), target: n });
    this.emit("MakeNumberIntStmt", { value: length, target: c });
    this.emit("EqualStmt", { a: this.lop(n), b: this.lop(c) });
  }

  /** Unifies a pattern term with the value in a local. */
  private unifyLocal(pat: Term, l: number, iter: Iter): void {
    switch (pat.type) {
      case "var":
        if (!this.bound(pat.name)) {
          this.bindVar(pat.name, this.lop(l));
          iter();
          return;
        }
        break;
      case "array":
        if (!this.known(pat)) {
          this.emitShapeCheck("IsArrayStmt", l, pat.items.length);
          const step = (i: number): void => {
            if (i === pat.items.length) { iter(); return; }
            const idx = this.local(), el = this.local();
            this.emit("MakeNumberIntStmt", { value: i, target: idx });
            this.emit("DotStmt", { source: this.lop(l), key: this.lop(idx), target: el });
            this.unifyLocal(pat.items[i], el, () => step(i + 1));
          };
          step(0);
          return;
        }
        break;
      case "object":
        if (!this.known(pat)) {
          this.emitShapeCheck("IsObjectStmt", l, pat.items.length);
          const step = (i: number): void => {
            if (i === pat.items.length) { iter(); return; }
            const [k, v] = pat.items[i];
            this.planTerm(k, (kop) => {
              const el = this.local();
              this.emit("DotStmt", { source: this.lop(l), key: kop, target: el });
              this.unifyLocal(v, el, () => step(i + 1));
            });
          };
          step(0);
          return;
        }
        break;
      default:
        break;
    }
    this.planTerm(pat, (op) => {
      this.emit("EqualStmt", { a: op, b: this.lop(l) });
      iter();
    });
  }

  // ---------------------------------------------------------------- terms

  private planTerms(ts: Term[], iter: (ops: Operand[]) => void): void {
    const ops: Operand[] = [];
    // terms that bind vars (refs) first, terms needing those vars last
    const order = ts.map((_, i) => i);
    const late = (t: Term) => (t.type === "var" || t.type === "array" || t.type === "object" || t.type === "set") && !this.known(t);
    order.sort((a, b) => Number(late(ts[a])) - Number(late(ts[b])));
    const step = (j: number): void => {
      if (j === order.length) { iter([...ops]); return; }
      const i = order[j];
      this.planTerm(ts[i], (op) => {
        ops[i] = op;
        step(j + 1);
      });
    };
    step(0);
  }

  private planTerm(t: Term, iter: TermIter): void {
    switch (t.type) {
      case "null": {
        const l = this.local();
        this.emit("MakeNullStmt", { target: l });
        iter(this.lop(l));
        return;
      }
      case "boolean":
        iter({ type: "bool", value: t.value });
        return;
      case "number": {
        const l = this.local();
        this.emit("MakeNumberRefStmt", { Index: this.str(t.value), target: l });
        iter(this.lop(l));
        return;
      }
      case "string":
        iter({ type: "string_index", value: this.str(t.value) });
        return;
      case "var": {
        if (t.name === "input") {
          this.emit("IsDefinedStmt", { source: 0 });
          iter(this.lop(0));
          return;
        }
        if (t.name === "data") {
          this.planDataRef({ type: "ref", terms: [t], loc: t.loc }, iter);
          return;
        }
        const l = this.st.vars.get(t.name);
        if (l === undefined) throw new PlanError(`unbound var ${t.name}`);
        iter(this.lop(l));
        return;
      }
      case "ref":
        this.planRef(t, iter);
        return;
      case "array": case "set": case "object": {
        const c = groundConst(t);
        if (c && !isEmptyConst(c)) {
          const l = this.local();
          this.emit("MakeConstStmt", { value: c, target: l });
          iter(this.lop(l));
          return;
        }
        this.planComposite(t, iter);
        return;
      }
      case "arraycomp": case "setcomp": case "objectcomp": {
        this.planComprehension(t, iter);
        return;
      }
      case "call": {
        // not expected after flattening; plan as a call expression with an output
        const v = `$call${this.local()}`;
        this.planCallExpr(t.op, [...t.args, { type: "var", name: v, loc: t.loc }], () => iter(this.lop(this.st.vars.get(v)!)));
        return;
      }
    }
  }

  private planComposite(t: Term, iter: TermIter): void {
    switch (t.type) {
      case "array":
        this.planTerms(t.items, (ops) => {
          const l = this.local();
          this.emit("MakeArrayStmt", { capacity: ops.length, target: l });
          for (const op of ops) this.emit("ArrayAppendStmt", { value: op, array: l });
          iter(this.lop(l));
        });
        return;
      case "set":
        this.planTerms(t.items, (ops) => {
          const l = this.local();
          this.emit("MakeSetStmt", { target: l });
          for (const op of ops) this.emit("SetAddStmt", { value: op, set: l });
          iter(this.lop(l));
        });
        return;
      case "object": {
        const flat: Term[] = [];
        for (const [k, v] of t.items) flat.push(k, v);
        this.planTerms(flat, (ops) => {
          const l = this.local();
          this.emit("MakeObjectStmt", { target: l });
          for (let i = 0; i < ops.length; i += 2) this.emit("ObjectInsertStmt", { key: ops[i], value: ops[i + 1], object: l });
          iter(this.lop(l));
        });
        return;
      }
      default:
        throw new PlanError(`not a composite: ${t.type}`);
    }
  }

  private planComprehension(t: Term, iter: TermIter): void {
    switch (t.type) {
      case "arraycomp": case "setcomp": case "objectcomp": {
        const l = this.local();
        const make = t.type === "arraycomp" ? "MakeArrayStmt" : t.type === "setcomp" ? "MakeSetStmt" : "MakeObjectStmt";
        this.emit(make, t.type === "arraycomp" ? { capacity: 0, target: l } : { target: l });
        const loc = this.loc;
        const blk = this.block(() => this.scoped(() => this.planExprs(t.body, 0, () => {
          this.loc = loc;
          if (t.type === "arraycomp") this.planTerm(t.term, (op) => this.emit("ArrayAppendStmt", { value: op, array: l }));
          else if (t.type === "setcomp") this.planTerm(t.term, (op) => this.emit("SetAddStmt", { value: op, set: l }));
          else this.planTerm(t.key, (k) => this.planTerm(t.value, (v) => this.emit("ObjectInsertOnceStmt", { key: k, value: v, object: l })));
        })));
        this.emit("BlockStmt", { blocks: [blk] });
        iter(this.lop(l));
        return;
      }
      default:
        throw new PlanError(`not a comprehension: ${t.type}`);
    }
  }

  private planRef(t: TermOf<"ref">, iter: TermIter): void {
    const head = t.terms[0];
    if (head.type === "var") {
      if (head.name === "data") { this.planDataRef(t, iter); return; }
      if (head.name === "input") { this.planRefRest(0, t.terms, 1, iter); return; }
      const l = this.st.vars.get(head.name);
      if (l === undefined) throw new PlanError(`unbound var ${head.name}`);
      this.planRefRest(l, t.terms, 1, iter);
      return;
    }
    this.planTerm(head, (op) => this.planRefRest(this.toLocal(op), t.terms, 1, iter));
  }

  private planRefRest(src: number, terms: Term[], i: number, iter: TermIter): void {
    if (i === terms.length) {
      iter(this.lop(src));
      return;
    }
    const k = terms[i];
    if (k.type === "var" && !this.bound(k.name)) {
      const kl = this.local(), vl = this.local();
      const blk = this.block(() => {
        this.st.vars.set(k.name, kl);
        this.planRefRest(vl, terms, i + 1, iter);
      });
      this.emit("ScanStmt", { source: src, key: kl, value: vl, block: blk });
      return;
    }
    if ((k.type === "array" || k.type === "object") && !this.known(k)) {
      const kl = this.local(), vl = this.local();
      const blk = this.block(() => this.unifyLocal(k, kl, () => this.planRefRest(vl, terms, i + 1, iter)));
      this.emit("ScanStmt", { source: src, key: kl, value: vl, block: blk });
      return;
    }
    this.planTerm(k, (kop) => {
      const t = this.local();
      this.emit("DotStmt", { source: this.lop(src), key: kop, target: t });
      this.planRefRest(t, terms, i + 1, iter);
    });
  }

  // ---------------------------------------------------------------- data refs

  private mocked(path: string[]): boolean {
    return this.gen.dataPaths.some((p) => isPrefix(p, path));
  }

  private planDataRef(t: TermOf<"ref">, iter: TermIter): void {
    const terms = t.terms;
    let node = this.root;
    let i = 1;
    for (;;) {
      if (this.mocked(node.path) && node !== this.root) {
        this.planRefRest(1, terms, 1, iter);
        return;
      }
      if (node.rs) {
        if (node.rs.kind === "func") { this.fail(); return; }
        const r = this.local();
        this.emit("CallStmt", { func: this.funcName(node.rs, this.gen), args: [this.lop(0), this.lop(1)], result: r });
        this.planRefRest(r, terms, i, iter);
        return;
      }
      if (i >= terms.length) break;
      const k = terms[i];
      if (k.type === "number" || k.type === "boolean" || k.type === "null") {
        // no rule can have a non-string name: base data only
        this.planRefRest(1, terms, 1, iter);
        return;
      }
      if (k.type !== "string") {
        if (this.known(k) && terms.slice(i + 1).every((x) => this.known(x) && x.type !== "ref")) {
          this.planDataSwitch(node, terms, i, iter);
          return;
        }
        break;
      }
      const c = node.children.get(k.value);
      if (!c) {
        // outside the rule tree: base data
        this.planRefRest(1, terms, 1, iter);
        return;
      }
      node = c;
      i++;
    }
    if (node === this.root && !node.children.size) {
      this.planRefRest(1, terms, 1, iter);
      return;
    }
    // the ref reaches a virtual subtree: build it, merged with base data
    const ext = this.extent(node);
    this.planRefRest(ext, terms, i, iter);
  }

  /**
   * `data.<node>[k]<rest>` with k bound and no iteration in rest: dispatch on
   * k's value over the node's children (falling back to base data) instead of
   * building the node's whole extent.
   */
  private planDataSwitch(node: Node, terms: Term[], i: number, iter: TermIter): void {
    this.planTerm(terms[i], (kop) => {
      const r = this.local();
      this.emit("ResetLocalStmt", { target: r });
      const blocks: Block[] = [];
      const rest = terms.slice(i + 1);
      for (const c of [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        blocks.push(this.block(() => this.scoped(() => {
          this.emit("IsUndefinedStmt", { source: r });
          this.emit("EqualStmt", { a: kop, b: { type: "string_index", value: this.str(c.name) } });
          const ref: TermOf<"ref"> = { type: "ref", loc: terms[0].loc, terms: [terms[0], ...c.path.map((p) => ({ type: "string", value: p, loc: terms[0].loc } as Term)), ...rest] };
          this.planDataRef(ref, (op) => this.emit("AssignVarStmt", { source: op, target: r }));
        })));
      }
      blocks.push(this.block(() => this.scoped(() => {
        this.emit("IsUndefinedStmt", { source: r });
        let cur = 1;
        for (const p of node.path) {
          const n = this.local();
          this.emit("DotStmt", { source: this.lop(cur), key: { type: "string_index", value: this.str(p) }, target: n });
          cur = n;
        }
        const n = this.local();
        this.emit("DotStmt", { source: this.lop(cur), key: kop, target: n });
        this.planRefRest(n, [terms[0], ...rest], 1, (op) => this.emit("AssignVarStmt", { source: op, target: r }));
      })));
      this.emit("BlockStmt", { blocks });
      this.emit("IsDefinedStmt", { source: r });
      iter(this.lop(r));
    });
  }

  /** Object of all virtual documents below a node, merged with the base document at its path. */
  private extent(node: Node): number {
    const v = this.virtualObject(node);
    const res = this.local();
    const inner = this.block(() => {
      let cur = 1;
      for (const p of node.path) {
        const n = this.local();
        this.emit("DotStmt", { source: this.lop(cur), key: { type: "string_index", value: this.str(p) }, target: n });
        cur = n;
      }
      this.emit("ObjectMergeStmt", { a: cur, b: v, target: res });
      this.emit("BreakStmt", { index: 1 });
    });
    const outer = this.block(() => {
      this.emit("BlockStmt", { blocks: [inner] });
      this.emit("AssignVarStmt", { source: this.lop(v), target: res });
    });
    this.emit("BlockStmt", { blocks: [outer] });
    return res;
  }

  private virtualObject(node: Node): number {
    const v = this.local();
    this.emit("MakeObjectStmt", { target: v });
    for (const c of [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (this.mocked(c.path)) continue;
      const key: Operand = { type: "string_index", value: this.str(c.name) };
      if (c.rs) {
        if (c.rs.kind === "func") continue;
        const blk = this.block(() => {
          const r = this.local();
          this.emit("CallStmt", { func: this.funcName(c.rs!, this.gen), args: [this.lop(0), this.lop(1)], result: r });
          this.emit("ObjectInsertStmt", { key, value: this.lop(r), object: v });
        });
        this.emit("BlockStmt", { blocks: [blk] });
      } else {
        const sub = this.virtualObject(c);
        this.emit("ObjectInsertStmt", { key, value: this.lop(sub), object: v });
      }
    }
    return v;
  }
}

// ---------------------------------------------------------------- constants

const enc = new TextEncoder();

function isEmptyConst(c: ConstValue): boolean {
  return ("arr" in c && !c.arr.length) || ("set" in c && !c.set.length) || ("obj" in c && !c.obj.length);
}

/** A ground term as a constant (sets and object keys sorted, deduplicated), or undefined. */
function groundConst(t: Term, budget = { n: 4096 }): ConstValue | undefined {
  if (--budget.n < 0) return undefined;
  switch (t.type) {
    case "null": return { null: true };
    case "boolean": return { bool: t.value };
    case "number": return /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t.value) ? { num: t.value } : undefined;
    case "string": return { str: t.value };
    case "array": {
      const items = t.items.map((x) => groundConst(x, budget));
      return items.every(Boolean) ? { arr: items as ConstValue[] } : undefined;
    }
    case "set": {
      const items = t.items.map((x) => groundConst(x, budget));
      if (!items.every(Boolean)) return undefined;
      const sorted = (items as ConstValue[]).sort(cmpConst).filter((x, i, a) => i === 0 || cmpConst(a[i - 1], x) !== 0);
      return { set: sorted };
    }
    case "object": {
      const pairs: [ConstValue, ConstValue][] = [];
      for (const [k, v] of t.items) {
        const ck = groundConst(k, budget), cv = groundConst(v, budget);
        if (!ck || !cv) return undefined;
        pairs.push([ck, cv]);
      }
      pairs.sort((a, b) => cmpConst(a[0], b[0]));
      for (let i = 1; i < pairs.length; i++) if (cmpConst(pairs[i - 1][0], pairs[i][0]) === 0) return undefined;
      return { obj: pairs };
    }
    default: return undefined;
  }
}

function rank(v: ConstValue): number {
  return "null" in v ? 0 : "bool" in v ? 1 : "num" in v ? 2 : "str" in v ? 3 : "arr" in v ? 4 : "obj" in v ? 5 : 6;
}

/** Rego's total order on constants (as the runtime's compare). */
function cmpConst(a: ConstValue, b: ConstValue): number {
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if ("bool" in a) return Number(a.bool) - Number((b as { bool: boolean }).bool);
  if ("num" in a) {
    const x = a.num, y = (b as { num: string }).num;
    if (/^-?\d+$/.test(x) && /^-?\d+$/.test(y)) { const d = BigInt(x) - BigInt(y); return d < 0n ? -1 : d > 0n ? 1 : 0; }
    const d = Number(x) - Number(y);
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }
  if ("str" in a) return Buffer.compare(Buffer.from(enc.encode(a.str)), Buffer.from(enc.encode((b as { str: string }).str)));
  const seq = (xs: ConstValue[], ys: ConstValue[]) => {
    for (let i = 0; i < Math.min(xs.length, ys.length); i++) { const c = cmpConst(xs[i], ys[i]); if (c) return c; }
    return xs.length - ys.length < 0 ? -1 : xs.length > ys.length ? 1 : 0;
  };
  if ("arr" in a) return seq(a.arr, (b as { arr: ConstValue[] }).arr);
  if ("set" in a) return seq(a.set, (b as { set: ConstValue[] }).set);
  const xo = (a as { obj: [ConstValue, ConstValue][] }).obj, yo = (b as { obj: [ConstValue, ConstValue][] }).obj;
  for (let i = 0; i < Math.min(xo.length, yo.length); i++) {
    const c = cmpConst(xo[i][0], yo[i][0]) || cmpConst(xo[i][1], yo[i][1]);
    if (c) return c;
  }
  return xo.length < yo.length ? -1 : xo.length > yo.length ? 1 : 0;
}

function isPrefix(p: string[], path: string[]): boolean {
  if (p.length > path.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== path[i]) return false;
  return true;
}

function isGroundScalar(t: Term): boolean {
  return t.type === "string" || t.type === "number" || t.type === "boolean" || t.type === "null";
}

function groundEq(a: Term, b: Term): boolean {
  if (a.type === "var" && b.type === "var") return a.name === b.name;
  if (!isGroundScalar(a) || !isGroundScalar(b) || a.type !== b.type) return false;
  if (a.type === "null") return true;
  return (a as { value: unknown }).value === (b as { value: unknown }).value;
}

export function planPolicy(p: CompiledPolicy, opts: PlanOptions = {}): Policy {
  try {
    return new Planner(p, opts).plan();
  } catch (e) {
    if (e instanceof PlanError) throw new RegoError("rego_compile_error", "<planner>", 0, 0, e.message);
    throw e;
  }
}
