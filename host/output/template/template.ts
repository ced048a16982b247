/**
 * Compiled templates: parse once, execute many times. Files are compiled
 * once per resolved path and cached; the template takes the file's base
 * name, as Go's ParseFiles names it (so errors read "template: simple.tmpl:3:14: …").
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Tree } from './ast.ts';
import { TemplateError } from './errors.ts';
import { executeTree } from './exec.ts';
import { DEFAULT_FUNCS, userFuncs, type FuncMap } from './funcs.ts';
import { parseTemplate } from './parser.ts';

export interface TemplateOptions {
  /** Extra functions, callable from the template (any arguments). */
  funcs?: Record<string, (...args: any[]) => unknown>;
}

export class Template {
  private constructor(
    readonly name: string,
    private readonly trees: ReadonlyMap<string, Tree>,
    private readonly funcs: FuncMap,
  ) {}

  /** Parses `text`; throws TemplateError (code TRC_ERR_TEMPLATE_PARSE) naming the line and column. */
  static compile(name: string, text: string, options: TemplateOptions = {}): Template {
    const funcs = options.funcs ? { ...DEFAULT_FUNCS, ...userFuncs(options.funcs) } : DEFAULT_FUNCS;
    const trees = parseTemplate(name, text, (fn) => Object.hasOwn(funcs, fn));
    return new Template(name, trees, funcs);
  }

  /** Renders the template; throws TemplateExecError (code TRC_ERR_TEMPLATE_EXEC). Safe to call concurrently. */
  execute(data: unknown): string {
    return this.executeTemplate(this.name, data);
  }

  /** Renders one of the templates this one defines ({{define "x"}}). */
  executeTemplate(name: string, data: unknown): string {
    const tree = this.trees.get(name);
    if (!tree) throw new TemplateError(this.name, 0, 0, `no template "${name}" associated with template "${this.name}"`, { code: 'TRC_ERR_TEMPLATE_EXEC' });
    return executeTree(this.trees, this.funcs, tree, data);
  }

  /** Names of every template defined in the source, the main one included. */
  templateNames(): string[] {
    return [...this.trees.keys()];
  }
}

/** Go-style alias of Template.compile. */
export function compileTemplate(name: string, text: string, options?: TemplateOptions): Template {
  return Template.compile(name, text, options);
}

const fileCache = new Map<string, Template>();

/**
 * Reads and compiles a template file, once per resolved path. A missing or
 * unreadable file throws TemplateError with code TRC_ERR_TEMPLATE_FILE.
 */
export function loadTemplateFile(path: string): Template {
  const full = resolve(path);
  const cached = fileCache.get(full);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new TemplateError(basename(full), 0, 0, `reading template file ${full}: ${(err as Error).message}`, { cause: err, code: 'TRC_ERR_TEMPLATE_FILE' });
  }
  const t = Template.compile(basename(full), text);
  fileCache.set(full, t);
  return t;
}

/** Forgets cached template files (tests; a reload after editing a file). */
export function clearTemplateCache(): void {
  fileCache.clear();
}
