// Compiled representation handed from the compiler passes to the planner.

import type { Expr, Loc, Term } from "../parser/ast.ts";

export type RuleKind = "complete" | "set" | "object" | "func" | "tree";

/** One rule definition after all compiler passes. */
export interface CRule {
  kind: RuleKind;
  /** Ground data path of the rule set (tree rules: the ground prefix). */
  path: string[];
  /** Ref terms after `path` (object rules: [key]; tree rules: the rest of the head ref). */
  rest: Term[];
  /** Set element (set rules). */
  key?: Term;
  /** Value (complete, object, tree rules and functions). */
  value?: Term;
  /** Function argument patterns. */
  args?: Term[];
  /** Vars of the function arguments (already bound when the body runs). */
  argVars?: string[];
  body: Expr[];
  else?: CRule;
  default: boolean;
  loc: Loc;
  /** Source file of the rule. */
  file: string;
}

export interface RuleSet {
  path: string[];
  kind: RuleKind;
  rules: CRule[];
  default?: CRule;
  /** Functions: number of arguments. */
  arity?: number;
}

/** A `with` modifier after classification. */
export type WithTarget =
  | { kind: "input"; path: string[] }
  | { kind: "data"; path: string[] }
  | { kind: "func"; name: string; builtin: boolean };

export interface CompiledPolicy {
  /** Rule sets by joined path (`a/b/c`). */
  ruleSets: Map<string, RuleSet>;
  /** Compiled query bodies by entrypoint name. */
  queries: { name: string; body: Expr[]; vars: string[]; resultTerm?: Term }[];
  /** Package paths of all modules (packages without rules still exist as empty objects). */
  packages: string[][];
  /** Builtins referenced (names). */
  builtins: Set<string>;
  /** Host-supplied builtins accepted (name → arity): the planner needs their arity to find a call's output argument. */
  customBuiltins: Record<string, number>;
}

export const pathKey = (p: string[]): string => p.join("\u0000");
