/**
 * The policy model: what `-s/--scope`, `-e/--events` and `-p/--policy` YAML
 * files (Tracee's schema, tracee.aquasec.com/v1beta1 Policy) parse into, and
 * what the capture stage turns into in-kernel scope filters (scope) and
 * user-space event filters (rules). At most 64 policies; policy i is bit i of
 * a record's matchedPolicies.
 */

export const MAX_POLICIES = 64;

export type Operator = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** Tracee's scope fields (docs/docs/policies/scopes.md). */
export type ScopeField =
  | 'global' | 'uid' | 'pid' | 'mntns' | 'pidns' | 'tree' | 'uts' | 'comm'
  | 'container' | 'not-container' | 'executable' | 'follow';

/**
 * One scope expression, e.g. `uid>=1000`, `comm=bash,sh`, `container=new`,
 * `not-container`, `follow`. Values of one expression are OR'd; the
 * expressions of a policy are AND'd.
 */
export interface ScopeFilter {
  field: ScopeField;
  operator: Operator;
  /** Empty for flag-like fields (global, not-container, follow, bare container). */
  values: string[];
}

/** A rule filter, e.g. `data.pathname=/tmp*`, `retval>0`, `comm=bash` (scope fields as event filters). */
export interface EventFilter {
  kind: 'data' | 'retval' | 'scope';
  /** The argument name for data filters, the scope field for scope filters, '' for retval. */
  field: string;
  operator: Operator;
  values: string[];
}

export interface PolicyRule {
  /** An event name from the catalogue, or a signature's event name. */
  event: string;
  filters: EventFilter[];
}

export interface Policy {
  name: string;
  description: string;
  scope: ScopeFilter[];
  defaultActions: string[];
  rules: PolicyRule[];
  /** Where it came from (a file path, or "command line"), for error messages. */
  origin: string;
}
