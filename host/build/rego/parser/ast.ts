// Rego abstract syntax tree, shared by the parser, the compiler passes and
// the planner. Terms and expressions are plain objects; passes that rewrite
// them build new objects or mutate in place where documented.

export interface Loc {
  file: string;
  row: number;
  col: number;
}

export type Term =
  | { type: "null"; loc: Loc }
  | { type: "boolean"; value: boolean; loc: Loc }
  | { type: "number"; value: string; loc: Loc }
  | { type: "string"; value: string; loc: Loc }
  | { type: "var"; name: string; loc: Loc }
  | { type: "ref"; terms: Term[]; loc: Loc }
  | { type: "array"; items: Term[]; loc: Loc }
  | { type: "object"; items: [Term, Term][]; loc: Loc }
  | { type: "set"; items: Term[]; loc: Loc }
  | { type: "arraycomp"; term: Term; body: Expr[]; loc: Loc }
  | { type: "setcomp"; term: Term; body: Expr[]; loc: Loc }
  | { type: "objectcomp"; key: Term; value: Term; body: Expr[]; loc: Loc }
  | { type: "call"; op: Term; args: Term[]; loc: Loc };

export type TermOf<K extends Term["type"]> = Extract<Term, { type: K }>;

export interface With {
  target: Term;
  value: Term;
  loc: Loc;
}

/** The body of an expression (OPA's Expr.Terms). */
export type ExprBody =
  | { type: "term"; term: Term }
  | { type: "call"; op: Term; args: Term[] }
  | { type: "some"; vars: Term[] }
  | { type: "somein"; key?: Term; value: Term; domain: Term }
  | { type: "every"; key?: Term; value: Term; domain: Term; body: Expr[] }
  /** Negation of a body (built by the compiler from `not` expressions). */
  | { type: "not"; body: Expr[] };

export interface Expr {
  body: ExprBody;
  negated: boolean;
  with: With[];
  loc: Loc;
  /** Set by compiler passes for expressions they generate. */
  generated?: boolean;
}

export interface Head {
  /** Rule reference: first term is a var (the rule name), then strings or other terms. */
  ref: Term[];
  /** Function arguments. */
  args?: Term[];
  /** Multi-value (partial set) key. */
  key?: Term;
  /** Single-value rule or function value (true when omitted). */
  value?: Term;
  assign: boolean;
  loc: Loc;
}

export interface Rule {
  head: Head;
  body: Expr[];
  default: boolean;
  else?: Rule;
  loc: Loc;
  /** Set by the parser: the module the rule belongs to. */
  module?: Module;
}

export interface Import {
  path: Term; // ref term
  alias?: string;
  loc: Loc;
}

export interface Module {
  file: string;
  package: Term[]; // full ref terms, starting with var `data`
  imports: Import[];
  rules: Rule[];
  /** Rego version the module was parsed with. */
  v1: boolean;
  loc: Loc;
  /** `# METADATA` annotations (YAML), normalised, with what they are attached to. */
  annotations?: Annotation[];
}

export interface Annotation {
  /** "package", "subpackages", "rule" or "document". */
  scope: string;
  /** The rule annotated (rule and document scopes). */
  rule?: Rule;
  value: Record<string, unknown>;
  loc: Loc;
}

// ---- helpers ----

export const loc0: Loc = { file: "", row: 0, col: 0 };

export function mkVar(name: string, loc: Loc = loc0): TermOf<"var"> {
  return { type: "var", name, loc };
}
export function mkString(value: string, loc: Loc = loc0): TermOf<"string"> {
  return { type: "string", value, loc };
}
export function mkBool(value: boolean, loc: Loc = loc0): TermOf<"boolean"> {
  return { type: "boolean", value, loc };
}
export function mkRef(terms: Term[], loc: Loc = terms[0]?.loc ?? loc0): TermOf<"ref"> {
  return { type: "ref", terms, loc };
}
export function mkExpr(body: ExprBody, loc: Loc, extra: Partial<Expr> = {}): Expr {
  return { body, negated: false, with: [], loc, ...extra };
}
export function mkCallExpr(op: string, args: Term[], loc: Loc): Expr {
  return mkExpr({ type: "call", op: opRef(op, loc), args }, loc);
}

/** A ref term naming an operator or function, e.g. `strings.replace_n`. */
export function opRef(name: string, loc: Loc = loc0): TermOf<"ref"> {
  const parts = name.split(".");
  return mkRef([mkVar(parts[0], loc), ...parts.slice(1).map((p) => mkString(p, loc))], loc);
}

/** The dotted name of an operator ref (`data.x.f`, `count`), or undefined when it is not static. */
export function refName(t: Term): string | undefined {
  if (t.type === "var") return t.name;
  if (t.type !== "ref") return undefined;
  const h = t.terms[0];
  if (h.type !== "var") return undefined;
  const parts = [h.name];
  for (const x of t.terms.slice(1)) {
    if (x.type !== "string") return undefined;
    parts.push(x.value);
  }
  return parts.join(".");
}

export function isScalar(t: Term): boolean {
  return t.type === "null" || t.type === "boolean" || t.type === "number" || t.type === "string";
}

/** True when the term contains no variables, refs, calls or comprehensions. */
export function isGround(t: Term): boolean {
  switch (t.type) {
    case "null": case "boolean": case "number": case "string": return true;
    case "array": case "set": return t.items.every(isGround);
    case "object": return t.items.every(([k, v]) => isGround(k) && isGround(v));
    default: return false;
  }
}

/** Rego source text of a term (for messages and debugging). */
export function termString(t: Term): string {
  switch (t.type) {
    case "null": return "null";
    case "boolean": return String(t.value);
    case "number": return t.value;
    case "string": return JSON.stringify(t.value);
    case "var": return t.name;
    case "ref": {
      let s = termString(t.terms[0]);
      for (const x of t.terms.slice(1)) {
        if (x.type === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(x.value)) s += "." + x.value;
        else s += "[" + termString(x) + "]";
      }
      return s;
    }
    case "array": return "[" + t.items.map(termString).join(", ") + "]";
    case "set": return t.items.length ? "{" + t.items.map(termString).join(", ") + "}" : "set()";
    case "object": return "{" + t.items.map(([k, v]) => termString(k) + ": " + termString(v)).join(", ") + "}";
    case "arraycomp": return "[" + termString(t.term) + " | " + bodyString(t.body) + "]";
    case "setcomp": return "{" + termString(t.term) + " | " + bodyString(t.body) + "}";
    case "objectcomp": return "{" + termString(t.key) + ": " + termString(t.value) + " | " + bodyString(t.body) + "}";
    case "call": return termString(t.op) + "(" + t.args.map(termString).join(", ") + ")";
  }
}

export function exprString(e: Expr): string {
  let s = "";
  const b = e.body;
  switch (b.type) {
    case "term": s = termString(b.term); break;
    case "call": s = termString(b.op) + "(" + b.args.map(termString).join(", ") + ")"; break;
    case "some": s = "some " + b.vars.map(termString).join(", "); break;
    case "somein": s = "some " + (b.key ? termString(b.key) + ", " : "") + termString(b.value) + " in " + termString(b.domain); break;
    case "every": s = "every " + (b.key ? termString(b.key) + ", " : "") + termString(b.value) + " in " + termString(b.domain) + " { " + bodyString(b.body) + " }"; break;
    case "not": s = "not { " + bodyString(b.body) + " }"; break;
  }
  if (e.negated) s = "not " + s;
  for (const w of e.with) s += " with " + termString(w.target) + " as " + termString(w.value);
  return s;
}

export function bodyString(body: Expr[]): string {
  return body.map(exprString).join("; ");
}

export function locString(l: Loc): string {
  return `${l.file}:${l.row}:${l.col}`;
}
