/**
 * The text/template parser: tokens → trees. Follows Go's grammar and checks
 * what Go checks at parse time: functions must be defined, variables must be
 * declared, {{break}}/{{continue}} only inside {{range}}, pipelines must not
 * start a later stage with a constant, one {{end}} per control structure.
 */
import type { ArgNode, BranchNode, CommandNode, ListNode, Node, PipeNode, TemplateNode, Tree, VariableNode } from './ast.ts';
import { isEmptyList } from './ast.ts';
import { TemplateError } from './errors.ts';
import { lex, location, type Token } from './lexer.ts';

const END = Symbol('end');
const ELSE = Symbol('else');
type Terminator = { kind: typeof END | typeof ELSE; pos: number; chained?: 'if' | 'with' };

/** Parses `text` into its trees: the main one (named `name`) plus any {{define}}/{{block}}. */
export function parseTemplate(name: string, text: string, hasFunction: (name: string) => boolean): Map<string, Tree> {
  return new Parser(name, text, hasFunction).parse();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private readonly trees = new Map<string, Tree>();

  constructor(private readonly name: string, private readonly text: string, private readonly hasFunction: (name: string) => boolean) {
    this.tokens = lex(name, text);
  }

  parse(): Map<string, Tree> {
    const root: ListNode = { type: 'list', pos: 0, nodes: [] };
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const save = this.i;
        const delim = this.next();
        const kw = this.nextNonSpace();
        if (kw.type === 'keyword' && kw.value === 'define') {
          this.parseDefinition(delim);
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (isTerminator(n)) this.fail(n.pos, `unexpected {{${n.kind === END ? 'end' : 'else'}}}`);
      root.nodes.push(n as Node);
    }
    this.add({ name: this.name, parseName: this.name, text: this.text, root });
    return this.trees;
  }

  // --- token helpers ---

  private peek(): Token { return this.tokens[this.i]; }
  private next(): Token { return this.tokens[this.i++]; }
  private peekNonSpace(): Token {
    while (this.tokens[this.i].type === 'space') this.i++;
    return this.tokens[this.i];
  }
  private nextNonSpace(): Token {
    this.peekNonSpace();
    return this.tokens[this.i++];
  }
  private expect(type: Token['type'], context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private fail(pos: number, message: string): never {
    const { line, col } = location(this.text, pos);
    throw new TemplateError(this.name, line, col, message);
  }

  private unexpected(t: Token, context: string): never {
    if (t.type === 'eof') this.fail(t.pos, `unexpected EOF in ${context}`);
    const what = t.type === 'rightDelim' ? '"}}"' : t.type === 'leftDelim' ? '"{{"' : t.type === 'keyword' ? `<${t.value}>` : t.type === 'space' ? 'space' : JSON.stringify(t.value);
    this.fail(t.pos, `unexpected ${what} in ${context}`);
  }

  private add(tree: Tree): void {
    const existing = this.trees.get(tree.name);
    if (existing && !isEmptyList(existing.root) && !isEmptyList(tree.root)) {
      this.fail(tree.root.pos, `template: multiple definition of template "${tree.name}"`);
    }
    if (!existing || isEmptyList(existing.root)) this.trees.set(tree.name, tree);
  }

  // --- structure ---

  /** {{define "name"}} … {{end}} at top level. */
  private parseDefinition(delim: Token): void {
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, 'define clause');
    const defName = unquote(nameTok.value, (m) => this.fail(nameTok.pos, m));
    this.expect('rightDelim', 'define clause');
    const saved = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.kind !== END) this.fail(end.pos, `unexpected {{else}} in define clause`);
    this.vars = saved;
    this.add({ name: defName, parseName: this.name, text: this.text, root: { ...list, pos: delim.pos } });
  }

  private itemList(): [ListNode, Terminator] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (isTerminator(n)) return [list, n];
      list.nodes.push(n);
    }
    this.fail(this.peek().pos, 'unexpected EOF');
  }

  private textOrAction(): Node | Terminator {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'text': return { type: 'text', pos: t.pos, text: t.value };
      case 'leftDelim': {
        const c = this.peekNonSpace();
        if (c.type === 'comment') {
          this.next();
          this.expect('rightDelim', 'comment');
          return { type: 'comment', pos: c.pos, text: c.value };
        }
        return this.action();
      }
      default: this.unexpected(t, 'input');
    }
  }

  private action(): Node | Terminator {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'block': return this.blockControl(t);
        case 'break': return this.breakControl(t, 'break');
        case 'continue': return this.breakControl(t, 'continue');
        case 'else': return this.elseControl(t);
        case 'end': this.expect('rightDelim', 'end'); return { kind: END, pos: t.pos };
        case 'if': return this.control('if', t.pos);
        case 'range': return this.control('range', t.pos);
        case 'template': return this.templateControl(t);
        case 'with': return this.control('with', t.pos);
      }
    }
    this.i--;
    const pipe = this.pipeline('command', 'rightDelim');
    return { type: 'action', pos: t.pos, pipe };
  }

  private breakControl(t: Token, word: 'break' | 'continue'): Node {
    this.expect('rightDelim', word);
    if (this.rangeDepth === 0) this.fail(t.pos, `{{${word}}} outside {{range}}`);
    return { type: word, pos: t.pos };
  }

  private elseControl(t: Token): Terminator {
    const p = this.peekNonSpace();
    // "{{else if …}}" and "{{else with …}}" leave the keyword for the caller.
    if (p.type === 'keyword' && (p.value === 'if' || p.value === 'with')) return { kind: ELSE, pos: t.pos, chained: p.value };
    this.expect('rightDelim', 'else');
    return { kind: ELSE, pos: t.pos };
  }

  private control(kind: 'if' | 'range' | 'with', pos: number): BranchNode {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    const [list, term] = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (term.kind === ELSE) {
      if (term.chained && term.chained === kind) {
        // {{if a}}…{{else if b}}…{{end}} is {{if a}}…{{else}}{{if b}}…{{end}}{{end}}: one {{end}} closes both.
        const kw = this.nextNonSpace();
        elseList = { type: 'list', pos: kw.pos, nodes: [this.control(kind, kw.pos)] };
      } else {
        if (term.chained) this.fail(term.pos, `unexpected {{else ${term.chained}}} in ${kind}`);
        const [els, end] = this.itemList();
        if (end.kind !== END) this.fail(end.pos, 'expected end; found {{else}}');
        elseList = els;
      }
    }
    this.vars.length = mark;
    return { type: kind, pos, pipe, list, elseList };
  }

  private templateControl(t: Token): TemplateNode {
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, 'template clause');
    const name = unquote(nameTok.value, (m) => this.fail(nameTok.pos, m));
    let pipe: PipeNode | undefined;
    if (this.peekNonSpace().type !== 'rightDelim') pipe = this.pipeline('template clause', 'rightDelim');
    else this.next();
    return { type: 'template', pos: t.pos, name, pipe };
  }

  /** {{block "name" pipeline}} T {{end}}: defines "name" as T and runs it here. */
  private blockControl(t: Token): TemplateNode {
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, 'block clause');
    const name = unquote(nameTok.value, (m) => this.fail(nameTok.pos, m));
    const pipe = this.pipeline('block clause', 'rightDelim');
    const saved = this.vars;
    const savedDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    if (end.kind !== END) this.fail(end.pos, 'unexpected {{else}} in block clause');
    this.vars = saved;
    this.rangeDepth = savedDepth;
    this.add({ name, parseName: this.name, text: this.text, root: list });
    return { type: 'template', pos: t.pos, name, pipe };
  }

  // --- pipelines ---

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const pipe: PipeNode = { type: 'pipe', pos: this.peekNonSpace().pos, isAssign: false, decl: [], cmds: [] };
    // Declarations: $x := …, $x = …, and in range $k, $v := ….
    let afterComma = false;
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        this.next();
        pipe.isAssign = after.type === 'assign';
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.value] });
        if (after.type === 'declare') this.vars.push(v.value);
        else this.useVar(v.pos, v.value);
        break;
      }
      if (after.type === 'comma') {
        this.next();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.value] });
        this.vars.push(v.value);
        if (context === 'range' && pipe.decl.length < 2) {
          const n = this.peekNonSpace();
          if (n.type === 'variable') { afterComma = true; continue; }
          this.fail(n.pos, 'range can only initialize variables');
        }
        this.fail(v.pos, `too many declarations in ${context}`);
      }
      if (afterComma) this.fail(after.pos, 'range can only initialize variables');
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context, t.pos);
        return pipe;
      }
      switch (t.type) {
        case 'bool': case 'char': case 'dot': case 'field': case 'identifier': case 'number': case 'nil':
        case 'rawString': case 'string': case 'variable': case 'leftParen':
          this.i--;
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string, pos: number): void {
    if (pipe.cmds.length === 0) this.fail(pos, `missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const first = c.args[0].type;
      if (first === 'bool' || first === 'dot' || first === 'nil' || first === 'number' || first === 'string') {
        this.fail(c.pos, `non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.i--;
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail(cmd.pos, 'empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== 'field') return node;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1));
    switch (node.type) {
      case 'field': return { type: 'field', pos: node.pos, ident: [...node.ident, ...fields] };
      case 'variable': return { type: 'variable', pos: node.pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.fail(node.pos, `unexpected . after term "${node.type === 'string' ? node.quoted : node.type === 'number' ? node.text : node.type === 'dot' ? '.' : node.type === 'nil' ? 'nil' : String(node.value)}"`);
      default: return { type: 'chain', pos: node.pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.hasFunction(t.value)) this.fail(t.pos, `function "${t.value}" not defined`);
        return { type: 'identifier', pos: t.pos, name: t.value };
      case 'dot': return { type: 'dot', pos: t.pos };
      case 'nil': return { type: 'nil', pos: t.pos };
      case 'variable': return this.useVar(t.pos, t.value);
      case 'field': return { type: 'field', pos: t.pos, ident: [t.value.slice(1)] };
      case 'bool': return { type: 'bool', pos: t.pos, value: t.value === 'true' };
      case 'char': {
        const s = unquote(t.value, (m) => this.fail(t.pos, m));
        return { type: 'number', pos: t.pos, text: t.value, value: s.codePointAt(0) ?? 0 };
      }
      case 'number': return { type: 'number', pos: t.pos, text: t.value, value: parseNumber(t.value, (m) => this.fail(t.pos, m)) };
      case 'string': case 'rawString':
        return { type: 'string', pos: t.pos, quoted: t.value, text: unquote(t.value, (m) => this.fail(t.pos, m)) };
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
    }
    this.i--;
    return undefined;
  }

  private useVar(pos: number, name: string): VariableNode {
    const ident = name.split('.');
    if (!this.vars.includes(ident[0])) this.fail(pos, `undefined variable "${ident[0]}"`);
    return { type: 'variable', pos, ident };
  }
}

function isTerminator(n: Node | Terminator): n is Terminator {
  return 'kind' in n;
}

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** A template number constant: an int (number, or BigInt beyond 2^53) or a float. */
function parseNumber(text: string, fail: (m: string) => never): number | bigint {
  const clean = text.replace(/_/g, '');
  const neg = clean.startsWith('-');
  const body = clean.replace(/^[+-]/, '');
  let n: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(body) || /^0[bB][01]+$/.test(body) || /^0[oO][0-7]+$/.test(body)) n = BigInt(body.toLowerCase().replace(/^0o/, '0o'));
  else if (/^0[0-7]+$/.test(body)) n = BigInt('0o' + body.slice(1));
  else if (/^[0-9]+$/.test(body)) n = BigInt(body);
  if (n !== undefined) {
    if (neg) n = -n;
    if (n > UINT64_MAX || n < -INT64_MAX - 1n) fail(`integer overflow: "${text}"`);
    return Number.isSafeInteger(Number(n)) ? Number(n) : n;
  }
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(body)) return Number(clean);
  return fail(`illegal number syntax: "${text}"`);
}

/** Go's strconv.Unquote for "…", `…` and '…'. */
export function unquote(q: string, fail: (m: string) => never): string {
  if (q.startsWith('`')) return q.slice(1, -1).replace(/\r/g, '');
  const body = q.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') { out += c; continue; }
    const e = body[++i];
    switch (e) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': case "'":
        if (e !== q[0]) fail(`invalid syntax: ${q}`);
        out += e;
        break;
      case 'x': case 'u': case 'U': {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + len);
        if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) fail(`invalid syntax: ${q}`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) fail(`invalid syntax: ${q}`);
        out += String.fromCodePoint(cp);
        i += len;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          const oct = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(oct)) fail(`invalid syntax: ${q}`);
          out += String.fromCharCode(parseInt(oct, 8));
          i += 2;
        } else fail(`invalid syntax: ${q}`);
    }
  }
  if (q.startsWith("'") && [...out].length !== 1) fail(`malformed character constant: ${q}`);
  return out;
}
