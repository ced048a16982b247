// Recursive-descent parser for Rego v0 and v1.
//
// v1 (OPA 1.x syntax, `import rego.v1`): `if` before rule bodies,
// `contains` for multi-value rules, and `p[x] if ...` is a single-value rule
// (an object entry). v0 (Tracee's signatures): bodies in braces, `p[x] {...}`
// is a partial set; `import future.keywords[.kw]` enables `if`, `contains`,
// `in` and `every`. Expression precedence follows OPA: `=`/`:=` <
// `in` < comparisons < `|` < `&` < `+ -` < `* / %`.

import {
  type Expr, type ExprBody, type Head, type Import, type Loc, type Module, type Rule, type Term,
  mkBool, mkExpr, mkRef, mkString, mkVar, opRef,
} from "./ast.ts";
import { RegoSyntaxError } from "./errors.ts";
import { lex, type Comment, type Token } from "./lexer.ts";
import { parse as parseYaml } from "yaml";

export interface ParseOptions {
  /** Parse as Rego v1 unless the module says otherwise (default true). */
  v1?: boolean;
}

const FUTURE_KEYWORDS = ["if", "contains", "in", "every"];
const RESERVED = new Set(["not", "with", "as", "default", "else", "import", "package", "some", "true", "false", "null"]);

const REL_OPS: Record<string, string> = { "==": "equal", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte" };
const ARITH_OPS: Record<string, string> = { "+": "plus", "-": "minus" };
const FACTOR_OPS: Record<string, string> = { "*": "mul", "/": "div", "%": "rem" };

let wildcardSeq = 0;
/** Vars of the comprehensions template-string expressions become (`$` vars cannot clash with the source's). */
let templateSeq = 0;

export class Parser {
  private toks: Token[];
  private p = 0;
  private kw = new Set<string>();
  private v1: boolean;
  private noOr = false;
  private comments: Comment[] = [];

  constructor(private src: string, private file: string, opts: ParseOptions = {}) {
    this.toks = lex(src, file, this.comments);
    this.v1 = opts.v1 ?? true;
    if (this.v1) for (const k of FUTURE_KEYWORDS) this.kw.add(k);
  }

  // ---- token helpers ----

  private get tok(): Token { return this.toks[this.p]; }
  private peek(k = 1): Token { return this.toks[Math.min(this.p + k, this.toks.length - 1)]; }
  private next(): Token { return this.toks[this.p++]; }
  private loc(t: Token = this.tok): Loc { return { file: this.file, row: t.row, col: t.col }; }
  private is(text: string, t: Token = this.tok): boolean {
    if (t.kind === "punct") return t.text === text;
    return t.kind === "ident" && t.text === text && !(RESERVED.has(text) && this.kwAsName(t));
  }
  private isKw(k: string, t: Token = this.tok): boolean {
    return t.kind === "ident" && t.text === k && (RESERVED.has(k) || this.kw.has(k)) && !this.kwAsName(t);
  }
  /** A keyword directly followed by `.` or `(` is a name (`as.foo := 1`, `contains(s, t)`). */
  private kwAsName(t: Token): boolean {
    const i = this.toks.indexOf(t);
    const n = this.toks[i + 1];
    return !!n && n.kind === "punct" && (n.text === "." || n.text === "(") && !n.ws;
  }
  private isKeywordTok(t: Token): boolean {
    return t.kind === "ident" && (RESERVED.has(t.text) || this.kw.has(t.text)) && !this.kwAsName(t);
  }
  private err(msg: string, t: Token = this.tok): never {
    throw new RegoSyntaxError(this.file, t.row, t.col, msg);
  }
  private unexpected(t: Token = this.tok): never {
    if (t.kind === "eof") this.err("unexpected eof token", t);
    if (t.kind === "ident" && (RESERVED.has(t.text) || this.kw.has(t.text))) this.err(`unexpected ${t.text} keyword`, t);
    if (t.kind === "string") this.err("unexpected string token", t);
    if (t.kind === "number") this.err("unexpected number token", t);
    if (t.kind === "ident") this.err(`unexpected identifier token`, t);
    this.err(`unexpected ${t.text} token`, t);
  }
  private expect(text: string): Token {
    if (!this.is(text)) this.err(`expected ${text}, found ${this.tok.kind === "eof" ? "eof" : JSON.stringify(this.tok.text)}`);
    return this.next();
  }

  // ---- module ----

  parseModule(): Module {
    const start = this.tok;
    if (!this.is("package")) this.err("package expected");
    this.next();
    const pkg = this.parsePackagePath();
    const imports: Import[] = [];
    while (this.is("import")) imports.push(this.parseImport());
    for (const imp of imports) this.applyImport(imp);
    const mod: Module = { file: this.file, package: pkg, imports, rules: [], v1: this.v1, loc: this.loc(start) };
    while (this.tok.kind !== "eof") {
      if (this.is("import")) this.err("imports must appear before rules");
      if (this.is("package")) this.err("unexpected package keyword (one package per module)");
      for (const r of this.parseRules()) {
        r.module = mod;
        mod.rules.push(r);
      }
    }
    this.attachAnnotations(mod);
    return mod;
  }

  /** `# METADATA` comment blocks (YAML) annotate the package or rule that follows them. */
  private attachAnnotations(mod: Module): void {
    const cs = this.comments;
    const out: NonNullable<Module["annotations"]> = [];
    for (let i = 0; i < cs.length; i++) {
      if (cs[i].text.trim() !== "METADATA") continue;
      const start = cs[i];
      const lines: string[] = [];
      let last = start.row;
      let j = i + 1;
      for (; j < cs.length && cs[j].row === last + 1; j++) {
        lines.push(cs[j].text.startsWith(" ") ? cs[j].text.slice(1) : cs[j].text);
        last = cs[j].row;
      }
      i = j - 1;
      let value: unknown;
      try {
        value = parseYaml(lines.join("\n")) ?? {};
      } catch (e) {
        throw new RegoSyntaxError(this.file, start.row, start.col, `invalid METADATA block: ${(e as Error).message.split("\n")[0]}`);
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new RegoSyntaxError(this.file, start.row, start.col, "METADATA block must be a YAML mapping");
      }
      const v = value as Record<string, unknown>;
      const loc = { file: this.file, row: start.row, col: start.col };
      const rule = mod.rules.find((r) => r.loc.row > last);
      const onPackage = mod.loc.row > last && (!rule || rule.loc.row > mod.loc.row);
      const scope = typeof v.scope === "string" ? v.scope : onPackage ? "package" : "rule";
      if (Array.isArray(v.authors)) {
        v.authors = v.authors.map((a) => {
          if (typeof a !== "string") return a;
          const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(a);
          return m ? (m[1] ? { name: m[1], email: m[2] } : { email: m[2] }) : { name: a };
        });
      }
      v.scope = scope;
      out.push({ scope, rule: onPackage ? undefined : rule, value: v, loc });
    }
    if (out.length) mod.annotations = out;
  }

  private parsePackagePath(): Term[] {
    const first = this.tok;
    if (first.kind !== "ident") this.err("package name expected");
    this.next();
    const terms: Term[] = [mkVar("data", this.loc(first)), mkString(first.text, this.loc(first))];
    for (;;) {
      if (this.is(".") && !this.tok.ws) {
        this.next();
        const t = this.tok;
        if (t.kind !== "ident") this.unexpected();
        this.next();
        terms.push(mkString(t.text, this.loc(t)));
      } else if (this.is("[") && !this.tok.ws) {
        this.next();
        const t = this.tok;
        if (t.kind !== "string") this.err("package path must contain strings only");
        this.next();
        terms.push(mkString(t.text, this.loc(t)));
        this.expect("]");
      } else break;
    }
    return terms;
  }

  private parseImport(): Import {
    const start = this.next();
    const t = this.tok;
    if (t.kind !== "ident") this.err("import path expected");
    const path = this.parseRefOnly();
    const head = path.type === "ref" ? path.terms[0] : path;
    if (head.type !== "var" || !["data", "input", "future", "rego"].includes(head.name)) {
      this.err("invalid import path: must begin with input, data, future or rego", t);
    }
    let alias: string | undefined;
    if (this.is("as")) {
      this.next();
      const a = this.tok;
      if (a.kind !== "ident") this.unexpected();
      this.next();
      alias = a.text;
    }
    return { path, alias, loc: this.loc(start) };
  }

  private applyImport(imp: Import): void {
    const parts = refParts(imp.path);
    if (!parts) return;
    if (parts[0] === "rego" && parts[1] === "v1" && parts.length === 2) {
      this.v1 = true;
      for (const k of FUTURE_KEYWORDS) this.kw.add(k);
    } else if (parts[0] === "future" && parts[1] === "keywords") {
      if (parts.length === 2) for (const k of FUTURE_KEYWORDS) this.kw.add(k);
      else if (parts.length === 3 && FUTURE_KEYWORDS.includes(parts[2])) this.kw.add(parts[2]);
      else this.err(`unexpected future keyword import ${parts.join(".")}`);
    }
  }

  /** var(.ident | [term])* without calls. */
  private parseRefOnly(): Term {
    const t = this.next();
    const head = mkVar(t.text, this.loc(t));
    const terms: Term[] = [head];
    for (;;) {
      if (this.is(".") && !this.tok.ws) {
        this.next();
        const n = this.tok;
        if (n.kind !== "ident") this.unexpected();
        this.next();
        terms.push(mkString(n.text, this.loc(n)));
      } else if (this.is("[") && !this.tok.ws) {
        this.next();
        terms.push(this.parseTermIn());
        this.expect("]");
      } else break;
    }
    return terms.length === 1 ? head : mkRef(terms, head.loc);
  }

  // ---- rules ----

  private parseRules(): Rule[] {
    const start = this.tok;
    let isDefault = false;
    if (this.is("default")) {
      this.next();
      isDefault = true;
    }
    const head = this.parseHead(isDefault);
    const rule: Rule = { head, body: [], default: isDefault, loc: this.loc(start) };
    if (isDefault) {
      if (head.key) this.err("default rules cannot be multi-value (partial set) rules", start);
      if (!head.value) this.err("default rule value expected", start);
      if (this.isKw("if") || this.is("{")) this.err("default rules must not have a body", this.tok);
      rule.body = [trueExpr(head.loc)];
      return [rule];
    }
    const rules = [rule];
    let hasBody = false;
    if (this.isKw("if")) {
      this.next();
      rule.body = this.parseRuleBodyAfterIf();
      hasBody = true;
    } else if (this.is("{")) {
      if (this.v1) this.err("`if` keyword is required before rule body");
      rule.body = this.parseBraceBody();
      hasBody = true;
    } else {
      rule.body = [trueExpr(head.loc)];
      if (!head.value && !head.key && !head.args) {
        // `p` alone is a rule with value true in v1; in v0 it is an error unless it is a ref head.
        if (!this.v1 && head.ref.length === 1) this.err(`rule must have a value or a body`, start);
      }
    }
    // v0: several bodies for one head, `p { a } { b }`.
    while (hasBody && this.is("{") && !this.v1) {
      const extra: Rule = { head, body: this.parseBraceBody(), default: false, loc: this.loc() };
      rules.push(extra);
    }
    // else chain
    let cur = rule;
    while (this.is("else")) {
      if (head.key) this.err("else keyword cannot be used on multi-value rules");
      if (!hasBody) this.err("else keyword cannot be used on rules with variables in head");
      const et = this.next();
      const elseHead: Head = { ref: head.ref, args: head.args, assign: head.assign, loc: this.loc(et) };
      if (this.is("=") || this.is(":=")) {
        elseHead.assign = this.next().text === ":=";
        elseHead.value = this.parseTermIn();
      } else elseHead.value = mkBool(true, this.loc(et));
      const e: Rule = { head: elseHead, body: [], default: false, loc: this.loc(et) };
      if (this.isKw("if")) {
        this.next();
        e.body = this.parseRuleBodyAfterIf();
      } else if (this.is("{")) {
        if (this.v1) this.err("`if` keyword is required before rule body");
        e.body = this.parseBraceBody();
      } else e.body = [trueExpr(elseHead.loc)];
      cur.else = e;
      cur = e;
    }
    return rules;
  }

  private parseHead(isDefault: boolean): Head {
    const t = this.tok;
    if (t.kind !== "ident") this.unexpected();
    if (this.isKeywordTok(t)) this.unexpected();
    this.next();
    const loc = this.loc(t);
    const ref: Term[] = [mkVar(t.text, loc)];
    for (;;) {
      if (this.is(".") && !this.tok.ws) {
        this.next();
        const n = this.tok;
        if (n.kind !== "ident") this.unexpected();
        this.next();
        ref.push(mkString(n.text, this.loc(n)));
      } else if (this.is("[") && !this.tok.ws) {
        this.next();
        ref.push(this.parseTermIn());
        this.expect("]");
      } else break;
    }
    const head: Head = { ref, assign: false, loc };
    if (this.is("(") && !this.tok.ws) {
      this.next();
      const args: Term[] = [];
      while (!this.is(")")) {
        args.push(this.parseTermIn());
        if (this.is(",")) this.next();
        else if (!this.is(")")) this.unexpected();
      }
      this.next();
      head.args = args;
      if (ref.some((x, i) => i > 0 && x.type !== "string")) this.err("function name must be a static reference", t);
    }
    if (this.isKw("contains")) {
      this.next();
      if (head.args) this.err("functions cannot use contains");
      head.key = this.parseTermIn();
      return head;
    }
    if (this.is("=") || this.is(":=")) {
      head.assign = this.next().text === ":=";
      head.value = this.parseTermIn();
      return head;
    }
    if (isDefault) return head;
    if (!head.args && ref.length > 1 && ref[ref.length - 1].type !== "string" && !this.v1) {
      // v0: `p[x] { ... }` is a partial set.
      head.key = ref.pop();
    }
    return head;
  }

  private parseRuleBodyAfterIf(): Expr[] {
    if (this.is("{")) {
      // `if {` starts a body, unless the brace opens an object/set term followed by more of an expression.
      const save = this.p;
      try {
        return this.parseBraceBody();
      } catch (e) {
        this.p = save;
        const lit = this.parseLiteral();
        return [lit];
      }
    }
    return [this.parseLiteral()];
  }

  private parseBraceBody(): Expr[] {
    const open = this.expect("{");
    const body = this.parseBody("}");
    if (!body.length) this.err("found empty body", open);
    this.expect("}");
    return body;
  }

  /** Literals separated by `;` or newlines until `end` (not consumed). */
  parseBody(end: string): Expr[] {
    const body: Expr[] = [];
    for (;;) {
      if (end === "eof" ? this.tok.kind === "eof" : this.is(end)) break;
      body.push(this.parseLiteral());
      if (this.is(";")) {
        this.next();
        continue;
      }
      if (end === "eof" ? this.tok.kind === "eof" : this.is(end)) break;
      if (!this.tok.nl) this.unexpected();
    }
    return body;
  }

  // ---- literals ----

  parseLiteral(): Expr {
    const start = this.tok;
    const loc = this.loc(start);
    if (this.is("some")) {
      this.next();
      return this.withClauses(this.parseSome(loc));
    }
    if (this.isKw("every")) {
      this.next();
      return this.withClauses(this.parseEvery(loc));
    }
    let negated = false;
    if (this.is("not")) {
      this.next();
      negated = true;
    }
    const body = this.parseExprBody();
    const e = mkExpr(body, loc, { negated });
    return this.withClauses(e);
  }

  private withClauses(e: Expr): Expr {
    while (this.is("with")) {
      const w = this.next();
      const tt = this.tok;
      if (tt.kind !== "ident") this.unexpected();
      const target = this.parseRefOnly();
      if (!this.is("as")) this.err("expected as keyword");
      this.next();
      const value = this.parseTermIn();
      e.with.push({ target, value, loc: this.loc(w) });
    }
    return e;
  }

  private parseSome(loc: Loc): Expr {
    const first = this.parseTermRel();
    if (this.is(",")) {
      const terms = [first];
      while (this.is(",")) {
        this.next();
        terms.push(this.parseTermRel());
      }
      if (this.isKw("in")) {
        if (terms.length !== 2) this.err("unexpected , in some ... in");
        this.next();
        const domain = this.parseTermRel();
        return mkExpr({ type: "somein", key: terms[0], value: terms[1], domain }, loc);
      }
      for (const t of terms) if (t.type !== "var") this.err("expected var in some declaration");
      return mkExpr({ type: "some", vars: terms }, loc);
    }
    if (this.isKw("in")) {
      this.next();
      const domain = this.parseTermRel();
      return mkExpr({ type: "somein", value: first, domain }, loc);
    }
    if (first.type === "call" && isOp(first, "internal.member_2")) {
      return mkExpr({ type: "somein", value: first.args[0], domain: first.args[1] }, loc);
    }
    if (first.type !== "var") this.err("expected var in some declaration");
    return mkExpr({ type: "some", vars: [first] }, loc);
  }

  private parseEvery(loc: Loc): Expr {
    const first = this.parseTermRel();
    let key: Term | undefined;
    let value = first;
    if (this.is(",")) {
      this.next();
      key = first;
      value = this.parseTermRel();
    }
    if (!this.isKw("in")) this.err("expected in keyword after every");
    this.next();
    const domain = this.parseTermRel();
    const body = this.parseBraceBody();
    if (key && key.type !== "var") this.err("every key must be a var");
    if (value.type !== "var") this.err("every value must be a var");
    return mkExpr({ type: "every", key, value, domain, body }, loc);
  }

  private parseExprBody(): ExprBody {
    const lhs = this.parseTermIn();
    if (this.is(",") && this.kw.has("in")) {
      // `k, v in xs`
      const save = this.p;
      this.next();
      const v = this.parseTermRel();
      if (this.isKw("in")) {
        this.next();
        const d = this.parseTermRel();
        return { type: "call", op: opRef("internal.member_3", lhs.loc), args: [lhs, v, d] };
      }
      this.p = save;
    }
    if ((this.is("=") || this.is(":=")) && !this.tok.nl) {
      const op = this.next().text === ":=" ? "assign" : "eq";
      const rhs = this.parseTermIn();
      return { type: "call", op: opRef(op, lhs.loc), args: [lhs, rhs] };
    }
    if (lhs.type === "call") return { type: "call", op: lhs.op, args: lhs.args };
    return { type: "term", term: lhs };
  }

  // ---- terms ----

  parseTermIn(): Term {
    return this.binaryLevel(() => this.parseTermRel(), () => (this.isKw("in") ? "internal.member_2" : undefined));
  }

  private parseTermRel(): Term {
    return this.binaryLevel(() => this.parseTermOr(), () => this.punctOp(REL_OPS));
  }

  private parseTermOr(): Term {
    return this.binaryLevel(() => this.parseTermAnd(), () => (this.is("|") && !this.noOr ? "or" : undefined));
  }

  private parseTermAnd(): Term {
    return this.binaryLevel(() => this.parseTermArith(), () => (this.is("&") ? "and" : undefined));
  }

  private parseTermArith(): Term {
    return this.binaryLevel(() => this.parseTermFactor(), () => this.punctOp(ARITH_OPS));
  }

  private parseTermFactor(): Term {
    return this.binaryLevel(() => this.parseTermUnary(), () => this.punctOp(FACTOR_OPS));
  }

  /**
   * One left-associative precedence level: operands from `operand`, joined by
   * the operator `operator()` names at the current token (undefined: none);
   * an operator on a new line ends the expression.
   */
  private binaryLevel(operand: () => Term, operator: () => string | undefined): Term {
    let lhs = operand();
    for (let op = operator(); op !== undefined && !this.tok.nl; op = operator()) {
      const t = this.next();
      const rhs = operand();
      lhs = { type: "call", op: opRef(op, this.loc(t)), args: [lhs, rhs], loc: lhs.loc };
    }
    return lhs;
  }

  /** The builtin of the punctuation operator at the current token, if `ops` has it. */
  private punctOp(ops: Record<string, string>): string | undefined {
    return this.tok.kind === "punct" ? ops[this.tok.text] : undefined;
  }

  private parseTermUnary(): Term {
    if (this.is("-") && this.peek().kind === "number" && !this.peek().ws) {
      const t = this.next();
      const n = this.next();
      return { type: "number", value: "-" + n.text, loc: this.loc(t) };
    }
    if (this.is("-")) {
      const t = this.next();
      const x = this.parseTermUnary();
      return { type: "call", op: opRef("minus", this.loc(t)), args: [{ type: "number", value: "0", loc: this.loc(t) }, x], loc: this.loc(t) };
    }
    return this.parsePrimary();
  }

  /** Collection element: a term where `|` separates a comprehension body. */
  private parseElem(first: boolean): Term {
    const save = this.noOr;
    this.noOr = first;
    try {
      return this.parseTermIn();
    } finally {
      this.noOr = save;
    }
  }

  private withNoOr<T>(v: boolean, f: () => T): T {
    const save = this.noOr;
    this.noOr = v;
    try { return f(); } finally { this.noOr = save; }
  }

  private parsePrimary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    let head: Term;
    switch (t.kind) {
      case "number":
        this.next();
        return { type: "number", value: t.text, loc };
      case "string":
        this.next();
        head = { type: "string", value: t.text, loc };
        break;
      case "template":
        this.next();
        return this.parseTemplate(t, loc);
      case "ident":
        if (this.isKeywordTok(t)) {
          if (t.text === "true" || t.text === "false") { this.next(); return mkBool(t.text === "true", loc); }
          if (t.text === "null") { this.next(); return { type: "null", loc }; }
          this.unexpected();
        }
        this.next();
        head = t.text === "_" ? mkVar(`$${wildcardSeq++}`, loc) : mkVar(t.text, loc);
        break;
      case "punct":
        if (t.text === "[") head = this.parseArray();
        else if (t.text === "{") head = this.parseBraces();
        else if (t.text === "(") {
          this.next();
          head = this.withNoOr(false, () => {
            const a = this.parseTermIn();
            if (this.is(",") && this.kw.has("in")) {
              this.next();
              const v = this.parseTermRel();
              if (!this.isKw("in")) this.unexpected();
              this.next();
              const d = this.parseTermRel();
              return { type: "call", op: opRef("internal.member_3", a.loc), args: [a, v, d], loc: a.loc } as Term;
            }
            return a;
          });
          this.expect(")");
          // Parenthesised terms can still be followed by a ref only when composite; keep it simple.
          return this.parseRefTail(head);
        } else this.unexpected();
        break;
      default:
        this.unexpected();
    }
    return this.parseRefTail(head!);
  }

  /**
   * `$"…{expr}…"`, lowered as OPA does: internal.template_string([parts]).
   * Text and scalar parts are themselves; any other expression (with its
   * `with`s) is the set comprehension {$t | $t = expr}, so an undefined one
   * is an empty set, which the builtin renders "<undefined>", instead of the
   * whole string being undefined. (OPA writes a local var or a rule known to
   * be defined as the set {x}; that is the same set, and which rules are
   * "known to be defined" is not known before the compiler resolves names.)
   */
  private parseTemplate(t: Token, loc: Loc): Term {
    const items: Term[] = [];
    for (const part of t.parts!) {
      if ("text" in part) { items.push(mkString(part.text, loc)); continue; }
      const e = this.inTokens(part.toks, () => this.parseLiteral());
      const b = e.body;
      const op = b.type === "call" ? refParts(b.op)?.join(".") : undefined;
      const bad = e.negated ? "negation ('not')"
        : op === "eq" ? "unification ('=')"
        : op === "assign" ? "assignment (':=')"
        : b.type === "every" ? "'every'" : b.type === "some" || b.type === "somein" ? "'some'" : undefined;
      if (bad) throw new RegoSyntaxError(this.file, e.loc.row, e.loc.col, `unexpected ${bad} in template-string expression`);
      const term: Term = b.type === "term" ? b.term : { type: "call", op: (b as { op: Term }).op, args: (b as { args: Term[] }).args, loc: e.loc };
      if (!e.with.length && ["string", "number", "boolean", "null"].includes(term.type)) items.push(term);
      else {
        const v = mkVar(`$t${templateSeq++}`, e.loc);
        const eq = mkExpr({ type: "call", op: opRef("eq", e.loc), args: [v, term] }, e.loc, { with: e.with });
        items.push({ type: "setcomp", term: v, body: [eq], loc: e.loc });
      }
    }
    return { type: "call", op: opRef("internal.template_string", loc), args: [{ type: "array", items, loc }], loc };
  }

  /** Runs `f` on a template expression's tokens (they end with an eof token at its `}`); `f` must consume them all. */
  private inTokens<T>(toks: Token[], f: () => T): T {
    const save = { toks: this.toks, p: this.p, noOr: this.noOr };
    this.toks = toks; this.p = 0; this.noOr = false;
    try {
      const r = f();
      if (this.tok.kind !== "eof") this.err("expected } to end template string expression");
      return r;
    } finally {
      this.toks = save.toks; this.p = save.p; this.noOr = save.noOr;
    }
  }

  private parseRefTail(head: Term): Term {
    let terms: Term[] = [head];
    let cur: Term = head;
    const flush = (): Term => (terms.length === 1 ? terms[0] : mkRef(terms, head.loc));
    for (;;) {
      if (this.is(".") && !this.tok.ws) {
        if (head.type === "string" || head.type === "number") this.unexpected();
        this.next();
        const n = this.tok;
        if (n.kind !== "ident") this.unexpected();
        this.next();
        terms.push(mkString(n.text, this.loc(n)));
        cur = flush();
      } else if (this.is("[") && !this.tok.ws) {
        if (head.type === "string" || head.type === "number") break;
        this.next();
        const k = this.withNoOr(false, () => this.parseTermIn());
        this.expect("]");
        terms.push(k);
        cur = flush();
      } else if (this.is("(") && !this.tok.ws) {
        const op = flush();
        if (!isOpTerm(op)) this.unexpected();
        const open = this.next();
        const args: Term[] = [];
        this.withNoOr(false, () => {
          while (!this.is(")")) {
            args.push(this.parseTermIn());
            if (this.is(",")) this.next();
            else if (!this.is(")")) this.unexpected();
          }
        });
        this.next();
        const opRefTerm = op.type === "var" ? mkRef([op], op.loc) : op;
        let call: Term = { type: "call", op: opRefTerm, args, loc: head.loc };
        if (op.type === "var" && op.name === "set" && args.length === 0) call = { type: "set", items: [], loc: head.loc };
        void open;
        head = call;
        terms = [call];
        cur = call;
      } else break;
    }
    return cur;
  }

  private parseArray(): Term {
    const open = this.next();
    const loc = this.loc(open);
    if (this.is("]")) {
      this.next();
      return { type: "array", items: [], loc };
    }
    const first = this.parseElem(true);
    if (this.is("|")) {
      this.next();
      const body = this.withNoOr(false, () => this.parseBody("]"));
      this.expect("]");
      return { type: "arraycomp", term: first, body, loc };
    }
    const items = [first];
    while (this.is(",")) {
      this.next();
      if (this.is("]")) break;
      items.push(this.parseElem(false));
    }
    this.expect("]");
    return { type: "array", items, loc };
  }

  private parseBraces(): Term {
    const open = this.next();
    const loc = this.loc(open);
    if (this.is("}")) {
      this.next();
      return { type: "object", items: [], loc };
    }
    const first = this.parseElem(true);
    if (this.is(":")) {
      this.next();
      const v = this.parseElem(true);
      if (this.is("|")) {
        this.next();
        const body = this.withNoOr(false, () => this.parseBody("}"));
        this.expect("}");
        return { type: "objectcomp", key: first, value: v, body, loc };
      }
      const items: [Term, Term][] = [[first, v]];
      while (this.is(",")) {
        this.next();
        if (this.is("}")) break;
        const k = this.parseElem(false);
        this.expect(":");
        items.push([k, this.parseElem(false)]);
      }
      this.expect("}");
      return { type: "object", items, loc };
    }
    if (this.is("|")) {
      this.next();
      const body = this.withNoOr(false, () => this.parseBody("}"));
      this.expect("}");
      return { type: "setcomp", term: first, body, loc };
    }
    const items = [first];
    while (this.is(",")) {
      this.next();
      if (this.is("}")) break;
      items.push(this.parseElem(false));
    }
    this.expect("}");
    return { type: "set", items, loc };
  }

  // ---- queries ----

  parseQuery(): Expr[] {
    const body = this.parseBody("eof");
    if (this.tok.kind !== "eof") this.unexpected();
    if (!body.length) this.err("empty query");
    return body;
  }
}

function trueExpr(loc: Loc): Expr {
  return mkExpr({ type: "term", term: mkBool(true, loc) }, loc);
}

function isOp(t: Term, name: string): boolean {
  if (t.type !== "call") return false;
  return refParts(t.op)?.join(".") === name;
}

function isOpTerm(t: Term): boolean {
  if (t.type === "var") return true;
  if (t.type !== "ref") return false;
  return t.terms[0].type === "var" && t.terms.slice(1).every((x) => x.type === "string");
}

export function refParts(t: Term): string[] | undefined {
  if (t.type === "var") return [t.name];
  if (t.type !== "ref" || t.terms[0].type !== "var") return undefined;
  const out = [t.terms[0].name];
  for (const x of t.terms.slice(1)) {
    if (x.type !== "string") return undefined;
    out.push(x.value);
  }
  return out;
}

/** Parses one module. A module importing `rego.v1` is v1 whatever the option says. */
export function parseModule(text: string, file: string, opts: ParseOptions = {}): Module {
  return new Parser(text, file, opts).parseModule();
}

/** Parses a query (a body: literals separated by `;` or newlines). */
export function parseQuery(text: string, file = "<query>", opts: ParseOptions = {}): Expr[] {
  return new Parser(text, file, { v1: opts.v1 ?? true }).parseQuery();
}

/** Parses a single term (e.g. a value in a test). */
export function parseTerm(text: string, file = "<term>"): Term {
  const p = new Parser(text, file, { v1: true });
  return p.parseTermIn();
}
