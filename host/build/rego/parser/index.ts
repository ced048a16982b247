// Rego front end: lexer and parser for Rego v0 and v1.
export * from "./ast.ts";
export { RegoError, RegoErrors, RegoSyntaxError } from "./errors.ts";
export type { RegoErrorKind } from "./errors.ts";
export { parseModule, parseQuery, parseTerm, refParts } from "./parser.ts";
export type { ParseOptions } from "./parser.ts";
