/**
 * Go text/template-compatible templates for findings (docs/outputs.md).
 * Public surface only: re-exports.
 */
export { Template, compileTemplate, loadTemplateFile, clearTemplateCache, type TemplateOptions } from './template.ts';
export { TemplateError, TemplateExecError } from './errors.ts';
export { findingTemplateData, traceEventStruct } from './finding-data.ts';
export { renderFinding } from './render.ts';
export { GoStruct, GoStructType, GoTime, type GoField } from './values.ts';
export { formatValue, sprint, sprintf } from './go-fmt.ts';
export { marshalJson } from './go-json.ts';
export { formatTime } from './go-time.ts';
