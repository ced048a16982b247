// Builtins OPA's own wasm runtime implements natively (the `builtinsFunctions`
// map of OPA's internal/compiler/wasm). This defines the corpus's "native"
// subset; which of them *we* implement natively is the runtime's business.
export const OPA_NATIVE_BUILTINS: ReadonlySet<string> = new Set([
  "plus", "minus", "mul", "div", "abs", "round", "ceil", "floor", "rem",
  "array.concat", "array.slice",
  "and", "or", "intersection", "union",
  "is_number", "is_string", "is_boolean", "is_array", "is_set", "is_object", "is_null", "type_name",
  "bits.or", "bits.and", "bits.negate", "bits.xor", "bits.lsh", "bits.rsh",
  "count", "sum", "product", "max", "min", "sort", "all", "any",
  "base64.is_valid", "base64.decode", "base64.encode", "base64url.encode", "base64url.decode",
  "net.cidr_contains", "net.cidr_overlap", "net.cidr_intersects",
  "equal", "gt", "gte", "lt", "lte", "neq",
  "glob.match",
  "json.marshal", "json.unmarshal", "json.remove", "json.filter",
  "object.filter", "object.get", "object.remove", "object.union",
  "concat", "format_int", "indexof", "substring", "lower", "upper", "contains", "startswith", "endswith",
  "split", "replace", "strings.replace_n", "trim", "trim_left", "trim_right", "trim_prefix", "trim_suffix", "trim_space",
  "numbers.range", "to_number", "walk", "graph.reachable",
  "regex.is_valid", "regex.match", "regex.find_all_string_submatch_n", "re_match",
  "internal.member_2", "internal.member_3",
]);
