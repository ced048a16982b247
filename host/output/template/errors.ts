/**
 * Template errors. Messages read like Go's text/template:
 *   template: NAME:LINE:COL: MESSAGE                              (parse)
 *   template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE  (execution)
 * COL counts the characters before the offending token on its line (Go's
 * convention: 0 is the first column). Go prints no column for parse errors;
 * we add it.
 */
import { TraceeError } from '../../errors.ts';

export class TemplateError extends TraceeError {
  constructor(
    readonly template: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
    options?: { cause?: unknown; code?: string },
  ) {
    // Line 0: an error about the template as a whole (a file that cannot be read, an unknown name).
    const where = line > 0 ? `${template}:${line}:${col}` : template;
    super(options?.code ?? 'TRC_ERR_TEMPLATE_PARSE', `template: ${where}: ${detail}`, options);
  }
}

/** An error raised while executing a template (bad field, failing function, …). */
export class TemplateExecError extends TemplateError {
  constructor(template: string, line: number, col: number, executing: string, context: string, message: string, options?: { cause?: unknown }) {
    super(template, line, col, `executing "${executing}" at <${context}>: ${message}`, { ...options, code: 'TRC_ERR_TEMPLATE_EXEC' });
  }
}
