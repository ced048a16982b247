/**
 * The parse tree of a template, mirroring text/template/parse's nodes. Every
 * node keeps its source offset for error positions; `nodeString` renders a
 * node back to source form, as Go's errors quote it ("at <.Data.x>").
 */

export interface TextNode { type: 'text'; pos: number; text: string }
export interface CommentNode { type: 'comment'; pos: number; text: string }
export interface ActionNode { type: 'action'; pos: number; pipe: PipeNode }
export interface BreakNode { type: 'break'; pos: number }
export interface ContinueNode { type: 'continue'; pos: number }
export interface ListNode { type: 'list'; pos: number; nodes: Node[] }
export interface BranchNode { type: 'if' | 'range' | 'with'; pos: number; pipe: PipeNode; list: ListNode; elseList?: ListNode }
export interface TemplateNode { type: 'template'; pos: number; name: string; pipe?: PipeNode }

export interface PipeNode { type: 'pipe'; pos: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode { type: 'command'; pos: number; args: ArgNode[] }

export interface FieldNode { type: 'field'; pos: number; ident: string[] }
/** ident[0] is the variable ("$x" or "$"), the rest a field chain. */
export interface VariableNode { type: 'variable'; pos: number; ident: string[] }
export interface ChainNode { type: 'chain'; pos: number; node: ArgNode; field: string[] }
export interface IdentifierNode { type: 'identifier'; pos: number; name: string }
export interface DotNode { type: 'dot'; pos: number }
export interface NilNode { type: 'nil'; pos: number }
export interface BoolNode { type: 'bool'; pos: number; value: boolean }
export interface NumberNode { type: 'number'; pos: number; text: string; value: number | bigint }
export interface StringNode { type: 'string'; pos: number; quoted: string; text: string }

export type ArgNode = FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | NumberNode | StringNode | PipeNode;
export type Node = TextNode | CommentNode | ActionNode | BreakNode | ContinueNode | ListNode | BranchNode | TemplateNode;

/** One parsed template: `name` is how {{template}} finds it, `parseName` the source it came from. */
export interface Tree {
  name: string;
  parseName: string;
  text: string;
  root: ListNode;
}

export function nodeString(n: ArgNode | CommandNode | Node): string {
  switch (n.type) {
    case 'field': return '.' + n.ident.join('.');
    case 'variable': return n.ident.join('.');
    case 'chain': return (n.node.type === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node)) + '.' + n.field.join('.');
    case 'identifier': return n.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number': return n.text;
    case 'string': return n.quoted;
    case 'pipe': {
      let s = '';
      if (n.decl.length) s = n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command': return n.args.map((a) => (a.type === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ');
    case 'text': return n.text;
    case 'comment': return '{{' + n.text + '}}';
    case 'action': return '{{' + nodeString(n.pipe) + '}}';
    case 'break': return '{{break}}';
    case 'continue': return '{{continue}}';
    case 'list': return n.nodes.map(nodeString).join('');
    case 'template': return `{{template ${JSON.stringify(n.name)}${n.pipe ? ' ' + nodeString(n.pipe) : ''}}}`;
    default: {
      const b = n as BranchNode;
      return `{{${b.type} ${nodeString(b.pipe)}}}${nodeString(b.list)}${b.elseList ? '{{else}}' + nodeString(b.elseList) : ''}{{end}}`;
    }
  }
}

/** A tree with nothing but white space and comments (Go's IsEmptyTree). */
export function isEmptyList(list: ListNode): boolean {
  return list.nodes.every((n) => n.type === 'comment' || (n.type === 'text' && n.text.trim() === ''));
}
