// Term and expression traversal helpers for the compiler passes.

import type { Expr, Term } from "../parser/ast.ts";

/** Calls f on every term (pre-order), descending into refs, collections and calls, and into closures if `closures`. */
export function walkTerm(t: Term, f: (t: Term) => boolean | void, closures = true): void {
  if (f(t) === false) return;
  switch (t.type) {
    case "ref": for (const x of t.terms) walkTerm(x, f, closures); break;
    case "array": case "set": for (const x of t.items) walkTerm(x, f, closures); break;
    case "object": for (const [k, v] of t.items) { walkTerm(k, f, closures); walkTerm(v, f, closures); } break;
    case "call": walkTerm(t.op, f, closures); for (const x of t.args) walkTerm(x, f, closures); break;
    case "arraycomp": case "setcomp":
      if (closures) { walkTerm(t.term, f, closures); walkBody(t.body, f, closures); }
      break;
    case "objectcomp":
      if (closures) { walkTerm(t.key, f, closures); walkTerm(t.value, f, closures); walkBody(t.body, f, closures); }
      break;
  }
}

/** Does `t` hold a call term (outside closures)? */
export function hasCall(t: Term): boolean {
  let found = false;
  walkTerm(t, (x) => { if (x.type === "call") found = true; return !found; }, false);
  return found;
}

export function walkExpr(e: Expr, f: (t: Term) => boolean | void, closures = true): void {
  const b = e.body;
  switch (b.type) {
    case "term": walkTerm(b.term, f, closures); break;
    case "call": walkTerm(b.op, f, closures); for (const a of b.args) walkTerm(a, f, closures); break;
    case "some": for (const v of b.vars) walkTerm(v, f, closures); break;
    case "somein": if (b.key) walkTerm(b.key, f, closures); walkTerm(b.value, f, closures); walkTerm(b.domain, f, closures); break;
    case "every":
      if (b.key) walkTerm(b.key, f, closures);
      walkTerm(b.value, f, closures);
      walkTerm(b.domain, f, closures);
      if (closures) walkBody(b.body, f, closures);
      break;
    case "not": if (closures) walkBody(b.body, f, closures); break;
  }
  for (const w of e.with) { walkTerm(w.target, f, closures); walkTerm(w.value, f, closures); }
}

export function walkBody(body: Expr[], f: (t: Term) => boolean | void, closures = true): void {
  for (const e of body) walkExpr(e, f, closures);
}

/** Names of vars in a term; call operators are skipped. */
export function termVars(t: Term, out = new Set<string>(), closures = true): Set<string> {
  walkTerm(t, (x) => {
    if (x.type === "var") out.add(x.name);
    if (x.type === "call") {
      for (const a of x.args) termVars(a, out, closures);
      return false;
    }
    if (x.type === "arraycomp" || x.type === "setcomp" || x.type === "objectcomp") {
      if (!closures) return false;
      if (x.type === "objectcomp") { termVars(x.key, out, closures); termVars(x.value, out, closures); }
      else termVars(x.term, out, closures);
      for (const e of x.body) for (const v of exprVars(e, closures)) out.add(v);
      return false;
    }
  }, closures);
  return out;
}

/** Vars of an expression: call operators and `with` targets are not vars. */
export function exprVars(e: Expr, closures = true): Set<string> {
  const out = new Set<string>();
  const b = e.body;
  switch (b.type) {
    case "term": termVars(b.term, out, closures); break;
    case "call": for (const a of b.args) termVars(a, out, closures); break;
    case "some": for (const v of b.vars) termVars(v, out, closures); break;
    case "somein": if (b.key) termVars(b.key, out, closures); termVars(b.value, out, closures); termVars(b.domain, out, closures); break;
    case "every":
      if (b.key) termVars(b.key, out, closures);
      termVars(b.value, out, closures);
      termVars(b.domain, out, closures);
      if (closures) for (const x of b.body) for (const v of exprVars(x, closures)) out.add(v);
      break;
    case "not": if (closures) for (const x of b.body) for (const v of exprVars(x, closures)) out.add(v); break;
  }
  for (const w of e.with) termVars(w.value, out, closures);
  return out;
}

export function bodyVars(body: Expr[], closures = true): Set<string> {
  const out = new Set<string>();
  for (const e of body) for (const v of exprVars(e, closures)) out.add(v);
  return out;
}

export function cloneTerm<T extends Term>(t: T): T {
  return structuredCloneTerm(t) as T;
}

function structuredCloneTerm(t: Term): Term {
  switch (t.type) {
    case "ref": return { ...t, terms: t.terms.map(structuredCloneTerm) };
    case "array": return { ...t, items: t.items.map(structuredCloneTerm) };
    case "set": return { ...t, items: t.items.map(structuredCloneTerm) };
    case "object": return { ...t, items: t.items.map(([k, v]) => [structuredCloneTerm(k), structuredCloneTerm(v)] as [Term, Term]) };
    case "call": return { ...t, op: structuredCloneTerm(t.op), args: t.args.map(structuredCloneTerm) };
    case "arraycomp": case "setcomp": return { ...t, term: structuredCloneTerm(t.term), body: t.body.map(cloneExpr) };
    case "objectcomp": return { ...t, key: structuredCloneTerm(t.key), value: structuredCloneTerm(t.value), body: t.body.map(cloneExpr) };
    default: return { ...t };
  }
}

export function cloneExpr(e: Expr): Expr {
  const b = e.body;
  let nb: Expr["body"];
  switch (b.type) {
    case "term": nb = { type: "term", term: cloneTerm(b.term) }; break;
    case "call": nb = { type: "call", op: cloneTerm(b.op), args: b.args.map(cloneTerm) }; break;
    case "some": nb = { type: "some", vars: b.vars.map(cloneTerm) }; break;
    case "somein": nb = { type: "somein", key: b.key && cloneTerm(b.key), value: cloneTerm(b.value), domain: cloneTerm(b.domain) }; break;
    case "every": nb = { type: "every", key: b.key && cloneTerm(b.key), value: cloneTerm(b.value), domain: cloneTerm(b.domain), body: b.body.map(cloneExpr) }; break;
    case "not": nb = { type: "not", body: b.body.map(cloneExpr) }; break;
  }
  return { ...e, body: nb, with: e.with.map((w) => ({ ...w, target: cloneTerm(w.target), value: cloneTerm(w.value) })) };
}
