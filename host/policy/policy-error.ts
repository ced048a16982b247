/**
 * The one error of policy parsing and validation. It names where the bad
 * input came from (a policy file, or the `--scope`/`--events` flag), the
 * field inside it, and what is allowed there, e.g.
 *
 *   policy policies/tmp.yaml: spec.rules[0].filters[1] "comm>x": operator ">" is not allowed for comm (allowed: =, !=)
 *
 * Raised before anything is started, so a bad policy never leaves tracee
 * half-configured. Match on `code` (TRC_ERR_POLICY).
 */
import { TraceeError } from '../errors.ts';

/** Where an input sits: its origin (file path or flag) and the field path inside it. */
export interface Where {
  /** "policy FILE" for files, "--scope" / "--events" for flags, "policies" for cross-policy checks. */
  origin: string;
  /** e.g. "spec.rules[2].filters[0]"; empty when the error is about the whole origin. */
  field: string;
}

export class PolicyError extends TraceeError {
  readonly origin: string;
  readonly field: string;
  constructor(where: Where, problem: string, options?: { cause?: unknown }) {
    super('TRC_ERR_POLICY', where.field ? `${where.origin}: ${where.field}: ${problem}` : `${where.origin}: ${problem}`, options);
    this.origin = where.origin;
    this.field = where.field;
  }
}

/** Names within `max` edits of `name` (or sharing its prefix), best first: for "did you mean". */
export function nearNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const scored: Array<[number, string]> = [];
  const max = name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
  for (const c of candidates) {
    const d = editDistance(name, c, max);
    if (d <= max) scored.push([d, c]);
    else if (name.length >= 4 && c.startsWith(name)) scored.push([max + 1, c]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, limit).map(([, c]) => c);
}

/** Levenshtein distance, giving up (returning max + 1) once it must exceed max. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (cur[j] < best) best = cur[j];
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = nearNames(name, candidates);
  return near.length ? ` (did you mean ${near.join(', ')}?)` : '';
}
