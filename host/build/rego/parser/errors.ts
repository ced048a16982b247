// Errors of the Rego front end, all formatted `file:line:col: kind: message`.

export type RegoErrorKind =
  | "rego_parse_error"
  | "rego_compile_error"
  | "rego_unsafe_var_error"
  | "rego_recursion_error"
  | "rego_type_error";

export class RegoError extends Error {
  readonly code = "TRC_ERR_REGO";
  constructor(
    readonly kind: RegoErrorKind,
    readonly file: string,
    readonly row: number,
    readonly col: number,
    readonly msg: string,
  ) {
    super(`${file}:${row}:${col}: ${kind}: ${msg}`);
  }
}

export class RegoSyntaxError extends RegoError {
  constructor(file: string, row: number, col: number, msg: string) {
    super("rego_parse_error", file, row, col, msg);
  }
}

/** Several errors at once (the compiler reports all it finds in a stage). */
export class RegoErrors extends Error {
  readonly code = "TRC_ERR_REGO";
  constructor(readonly errors: RegoError[]) {
    super(errors.map((e) => e.message).join("\n"));
  }
}
