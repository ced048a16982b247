/**
 * The shared grammar of scope and filter expressions, as Tracee's flags use
 * it: `field`, or `field OP value[,value...]` with OP one of
 * `= != < > <= >=`. The field ends at the first of `= ! < >`.
 */
import { PolicyError, type Where } from './policy-error.ts';
import type { Operator } from './model.ts';

export interface RawExpression {
  field: string;
  /** '' when the expression is a bare field ("follow", "container"). */
  operator: Operator | '';
  /** The comma-separated values, unsplit ('' for a bare field). */
  rawValues: string;
}

export const ALL_OPERATORS: readonly Operator[] = ['=', '!=', '<', '>', '<=', '>='];
export const EQUALITY_OPERATORS: readonly Operator[] = ['=', '!='];

/** Splits `text` into field, operator and values; throws naming the problem. */
export function splitExpression(expression: string, where: Where, text = expression): RawExpression {
  if (expression.trim() === '') throw new PolicyError(where, 'empty expression');
  const i = expression.search(/[=!<>]/);
  if (i === -1) return { field: expression.trim(), operator: '', rawValues: '' };
  const field = expression.slice(0, i).trim();
  const rest = expression.slice(i);
  const operator = (['!=', '<=', '>=', '=', '<', '>'] as const).find((op) => rest.startsWith(op));
  if (!operator) throw new PolicyError(where, `"${text}": "${rest[0]}" is not an operator (allowed: ${ALL_OPERATORS.join(' ')})`);
  const rawValues = rest.slice(operator.length);
  if (field === '') throw new PolicyError(where, `"${text}": missing the field before "${operator}"`);
  if (/^[=!<>]/.test(rawValues)) throw new PolicyError(where, `"${text}": "${rest.slice(0, operator.length + 1)}" is not an operator (allowed: ${ALL_OPERATORS.join(' ')})`);
  if (rawValues.trim() === '') throw new PolicyError(where, `"${text}": missing a value after "${operator}"`);
  return { field, operator, rawValues };
}

/** Splits values on commas; an empty value ("a,,b", "a,") is an error. */
export function splitValues(text: string, rawValues: string, where: Where): string[] {
  const values = rawValues.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new PolicyError(where, `"${text}": empty value in "${rawValues}"`);
  return values;
}

export function checkOperator(text: string, field: string, operator: Operator, allowed: readonly Operator[], where: Where): void {
  if (!allowed.includes(operator)) {
    throw new PolicyError(where, `"${text}": operator "${operator}" is not allowed for ${field} (allowed: ${allowed.join(', ')})`);
  }
}

/** A decimal (or 0x hex) integer, possibly negative; undefined if not one. */
export function parseInteger(value: string): bigint | undefined {
  if (/^-?\d+$/.test(value)) return BigInt(value);
  if (/^0x[0-9a-f]+$/i.test(value)) return BigInt(value);
  return undefined;
}

/**
 * A string value with Tracee's wildcards: `abc*` prefix, `*abc` suffix,
 * `*abc*` contains. "*" and "**" alone are rejected, as in Tracee.
 */
export type StringMatchKind = 'exact' | 'prefix' | 'suffix' | 'contains';

export function stringMatchKind(value: string): { kind: StringMatchKind; text: string } | undefined {
  if (value === '*' || value === '**') return undefined;
  const starts = value.startsWith('*');
  const ends = value.endsWith('*');
  if (starts && ends) return { kind: 'contains', text: value.slice(1, -1) };
  if (ends) return { kind: 'prefix', text: value.slice(0, -1) };
  if (starts) return { kind: 'suffix', text: value.slice(1) };
  return { kind: 'exact', text: value };
}
