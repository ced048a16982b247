// OPA's intermediate representation ("plan", `opa build -t plan`) as JSON.
// Mirrors internal/ir/ir.go of open-policy-agent/opa; only the fields the
// code generator reads are typed. Note MakeNumberRefStmt's capital "Index".

export type Operand =
  | { type: "local"; value: number }
  | { type: "string_index"; value: number }
  | { type: "bool"; value: boolean };

export interface Location { file?: number; row?: number; col?: number }

export interface Block { stmts: Stmt[] | null }

export type Stmt = { type: string; stmt: Record<string, any> & Location };

export interface Func {
  name: string;
  params: number[];
  return: number;
  blocks: Block[];
  path?: string[];
}

export interface Plan { name: string; blocks: Block[] }

export interface BuiltinFunc { name: string; decl?: unknown }

export interface Policy {
  static: {
    strings?: { value: string }[] | null;
    builtin_funcs?: BuiltinFunc[] | null;
    files?: { value: string }[] | null;
  };
  plans: { plans: Plan[] | null };
  funcs?: { funcs: Func[] | null } | null;
}
