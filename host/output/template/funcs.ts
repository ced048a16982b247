/**
 * The function registry a template is compiled against: Go's built-ins
 * (builtins.ts), the Sprig subset (sprig.ts) and any extra functions the
 * caller adds. Each function declares its parameter types so calls are
 * checked like Go checks them ("wrong number of args", "wrong type").
 */
import { BUILTINS } from './builtins.ts';
import { SPRIG } from './sprig.ts';

export type ParamType = 'any' | 'string' | 'int' | 'bool';

export interface FuncDef {
  /** Throw an Error to fail the call ("error calling NAME: message"). */
  fn: (...args: any[]) => unknown;
  params: readonly ParamType[];
  /** The type of any further arguments; without it the count is fixed. */
  variadic?: ParamType;
}

/** `and` and `or` are evaluated lazily by the executor; they are registered so the parser knows them. */
export const LAZY_FUNCS = new Set(['and', 'or']);

export type FuncMap = Record<string, FuncDef>;

export const DEFAULT_FUNCS: FuncMap = { ...SPRIG, ...BUILTINS };

/** Wraps plain JS functions (any arguments) as registry entries. */
export function userFuncs(funcs: Record<string, (...args: any[]) => unknown>): FuncMap {
  const out: FuncMap = {};
  for (const [name, fn] of Object.entries(funcs)) out[name] = { fn, params: [], variadic: 'any' };
  return out;
}
