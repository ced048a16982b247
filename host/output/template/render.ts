/**
 * Rendering findings with a template: the one call the printers and the
 * webhook sender make.
 */
import type { DecodeOptions } from '../../events/batch-reader.ts';
import type { Finding } from '../../engine/finding.ts';
import { findingTemplateData } from './finding-data.ts';
import type { Template } from './template.ts';

/** Renders one finding as Tracee's templates see it. Throws TemplateExecError. */
export function renderFinding(template: Template, finding: Finding, options: DecodeOptions = {}): string {
  return template.execute(findingTemplateData(finding, options));
}
