/**
 * Build diagnostics of `tracee-rules build`: compile errors and bundle
 * problems, always located in a real source file (never the generated entry)
 * and printed as `file:line:col message`, the form editors and CI annotate.
 * Build errors are returned, not thrown: one bad signature does not stop the
 * others from building.
 */
import path from 'node:path';
import { TraceeError } from '../errors.ts';

export class BuildError extends TraceeError {
  /**
   * @param file absolute path of the file the problem is in (normally the signature)
   * @param line 1-based
   * @param column 1-based
   * @param detail the problem, prefixed by its compiler code when it has one ("TS2322: …")
   */
  constructor(readonly file: string, readonly line: number, readonly column: number, readonly detail: string) {
    super('TRC_ERR_BUILD', `${displayPath(file)}:${line}:${column} ${detail}`);
  }

  /** `file:line:col message`; the file is relative to the working directory when inside it. */
  get text(): string {
    return this.message;
  }

  override toString(): string {
    return this.message;
  }
}

/** 1-based line and column of a character offset in `text`. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.max(0, Math.min(offset, text.length));
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** `file` relative to the working directory when inside it, else as is. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
