/**
 * The text/template executor: walks a tree against a data value, with Go's
 * rules for fields and map keys, variables and their scopes, pipelines
 * (the previous value becomes the last argument), short-circuit and/or,
 * if/with/range/else, break/continue, {{template}}, and Go's printing of the
 * values actions produce (nil and missing values print "<no value>").
 */
import type { ArgNode, BranchNode, ChainNode, CommandNode, FieldNode, IdentifierNode, Node, PipeNode, TemplateNode, Tree, VariableNode } from './ast.ts';
import { nodeString } from './ast.ts';
import { TemplateExecError } from './errors.ts';
import type { FuncDef, FuncMap, ParamType } from './funcs.ts';
import { LAZY_FUNCS } from './funcs.ts';
import { formatValue } from './go-fmt.ts';
import { location } from './lexer.ts';
import { GoStruct, isTrue, kindOf, sortedKeys, typeName } from './values.ts';

/** "No value from the previous pipeline stage", distinct from a missing (undefined) value. */
const MISSING = Symbol('missing');
type Final = unknown;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

export const MAX_TEMPLATE_DEPTH = 1000;

type ErrorNode = ArgNode | CommandNode | Node;

export function executeTree(trees: ReadonlyMap<string, Tree>, funcs: FuncMap, tree: Tree, data: unknown): string {
  const state = new State(trees, funcs, tree, data, 0);
  state.walk(data, tree.root);
  return state.out;
}

class State {
  out = '';
  private vars: Array<{ name: string; value: unknown }>;
  private node: ErrorNode | undefined;

  constructor(
    private readonly trees: ReadonlyMap<string, Tree>,
    private readonly funcs: FuncMap,
    private readonly tree: Tree,
    data: unknown,
    private readonly depth: number,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  private at(node: ErrorNode): void {
    this.node = node;
  }

  private fail(message: string, cause?: unknown): never {
    const node = this.node;
    const pos = node ? node.pos : 0;
    const { line, col } = location(this.tree.text, pos);
    const context = node ? nodeString(node) : '';
    throw new TemplateExecError(this.tree.parseName, line, col, this.tree.name, context, message, cause ? { cause } : undefined);
  }

  // --- variables ---

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return this.fail(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) { this.vars[i].value = value; return; }
    }
    this.fail(`undefined variable: ${name}`);
  }

  /** Sets the n-th variable from the top (1 is the top). */
  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n].value = value;
  }

  // --- statements ---

  walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out += printValue(val);
        return;
      }
      case 'break': throw BREAK;
      case 'continue': throw CONTINUE;
      case 'comment': return;
      case 'if':
      case 'with': return this.walkIfOrWith(dot, node);
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range': return this.walkRange(dot, node);
      case 'template': return this.walkTemplate(dot, node);
      case 'text':
        this.out += node.text;
        return;
    }
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0].ident[0], decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1].ident[0], elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e === BREAK) return false;
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
        return true;
      };
      let count = 0;
      switch (kindOf(val)) {
        case 'slice':
        case 'bytes': {
          const a = val as ArrayLike<unknown>;
          for (let i = 0; i < a.length; i++) { count++; if (!one(i, a[i])) break; }
          break;
        }
        case 'map': {
          const m = val as Record<string, unknown>;
          for (const k of sortedKeys(m)) { count++; if (!one(k, m[k])) break; }
          break;
        }
        case 'int': {
          if (decl.length > 1) this.fail(`can't use ${formatValue(val)} to iterate over more than one variable`);
          const n = Number(val);
          for (let i = 0; i < n; i++) { count++; if (!one(i, i)) break; }
          break;
        }
        case 'invalid':
        case 'nil':
          break; // a nil map or slice: nothing to iterate, not an error
        default:
          this.at(r);
          this.fail(`range can't iterate over ${formatValue(val)}`);
      }
      if (count === 0 && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const tree = this.trees.get(t.name);
    if (!tree) this.fail(`template "${t.name}" not defined`);
    if (this.depth + 1 >= MAX_TEMPLATE_DEPTH) this.fail(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const inner = new State(this.trees, this.funcs, tree!, newDot, this.depth + 1);
    inner.out = '';
    inner.walk(newDot, tree!.root);
    this.out += inner.out;
  }

  // --- pipelines and commands ---

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0], value);
      else this.vars.push({ name: v.ident[0], value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field': return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain': return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.fail('nil is not a command');
      case 'number': return first.value;
      case 'string': return first.text;
    }
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.fail(`can't give argument to non-function ${nodeString(args[0])}`);
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: ArgNode[], final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: ArgNode[], final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.fail(`indirection through explicit nil in ${nodeString(chain)}`);
    const receiver = this.evalArg(dot, 'any', chain.node, true);
    this.at(chain);
    return this.evalFieldChain(receiver, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: ArgNode[], final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(receiver: unknown, node: ErrorNode, ident: string[], args: ArgNode[], final: Final): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(ident[i], node, [], MISSING, receiver);
    return this.evalField(ident[n - 1], node, args, final, receiver);
  }

  private evalField(name: string, node: ErrorNode, args: ArgNode[], final: Final, receiver: unknown): unknown {
    if (receiver === undefined) return undefined;
    this.at(node);
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    const kind = kindOf(receiver);
    if (kind === 'struct') {
      const r = (receiver as GoStruct).field(name);
      if (r.found) {
        if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
        return r.value === undefined ? null : r.value;
      }
    } else if (kind === 'map') {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      const m = receiver as Record<string, unknown>;
      return Object.hasOwn(m, name) ? m[name] : undefined;
    }
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: CommandNode | IdentifierNode, args: ArgNode[], final: Final): unknown {
    this.at(node);
    const name = node.name;
    const def = this.funcs[name];
    if (!def) this.fail(`"${name}" is not a defined function`);
    if (LAZY_FUNCS.has(name)) {
      const given = args.length - 1 + (final !== MISSING ? 1 : 0);
      if (given < 1) this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const a of args.slice(1)) {
        v = this.evalArg(dot, 'any', a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final === undefined ? null : final;
      return v;
    }
    return this.evalCall(dot, def, cmd, name, args, final);
  }

  private evalCall(dot: unknown, def: FuncDef, node: ErrorNode, name: string, args: ArgNode[], final: Final): unknown {
    const argNodes = args.slice(1);
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const fixed = def.params.length;
    if (def.variadic) {
      if (numIn < fixed) this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${numIn}`);
    } else if (numIn !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }
    const typeAt = (i: number): ParamType => (i < fixed ? def.params[i] : def.variadic!);
    const argv = argNodes.map((a, i) => this.evalArg(dot, typeAt(i), a));
    if (final !== MISSING) argv.push(this.validateType(final, typeAt(argv.length)));
    try {
      return def.fn(...argv);
    } catch (err) {
      this.at(node);
      return this.fail(`error calling ${name}: ${(err as Error).message ?? String(err)}`, err);
    }
  }

  /** Evaluates one argument; `receiver` keeps a missing value (for a chain's base). */
  private evalArg(dot: unknown, type: ParamType, n: ArgNode, receiver = false): unknown {
    this.at(n);
    let v: unknown;
    switch (n.type) {
      case 'dot': v = dot; break;
      case 'nil': v = null; break;
      case 'field': v = this.evalFieldNode(dot, n, [n], MISSING); break;
      case 'variable': v = this.evalVariableNode(dot, n, [], MISSING); break;
      case 'pipe': v = this.evalPipeline(dot, n); break;
      case 'identifier': v = this.evalFunction(dot, n, n, [], MISSING); break;
      case 'chain': v = this.evalChainNode(dot, n, [], MISSING); break;
      case 'bool': v = n.value; break;
      case 'number': v = n.value; break;
      case 'string': v = n.text; break;
    }
    this.at(n);
    return receiver ? v : this.validateType(v, type);
  }

  private validateType(v: unknown, type: ParamType): unknown {
    if (type === 'any') return v === undefined ? null : v;
    const ok = type === 'string' ? typeof v === 'string'
      : type === 'bool' ? typeof v === 'boolean'
        : kindOf(v) === 'int';
    if (ok) return v;
    if (v === undefined || v === null) this.fail(`invalid value; expected ${type}`);
    return this.fail(`wrong type for value; expected ${type}; got ${typeName(v)}`);
  }
}

/** What an action prints: Go prints nil interfaces and missing values as "<no value>". */
function printValue(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  return formatValue(v);
}
