// Type predicates and type_name.

import { T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET } from "../number";
import { boolV, strAscii } from "../value";

// Like OPA's wasm runtime, is_* return false (not undefined) for other types.
export function b_is_number(v: usize): usize { return boolV(load<u8>(v) == T_NUMBER); }
export function b_is_string(v: usize): usize { return boolV(load<u8>(v) == T_STRING); }
export function b_is_boolean(v: usize): usize { return boolV(load<u8>(v) == T_BOOL); }
export function b_is_array(v: usize): usize { return boolV(load<u8>(v) == T_ARRAY); }
export function b_is_set(v: usize): usize { return boolV(load<u8>(v) == T_SET); }
export function b_is_object(v: usize): usize { return boolV(load<u8>(v) == T_OBJECT); }
export function b_is_null(v: usize): usize { return boolV(load<u8>(v) == T_NULL); }

export function b_type_name(v: usize): usize {
  switch (load<u8>(v)) {
    case T_NULL: return strAscii("null");
    case T_BOOL: return strAscii("boolean");
    case T_NUMBER: return strAscii("number");
    case T_STRING: return strAscii("string");
    case T_ARRAY: return strAscii("array");
    case T_OBJECT: return strAscii("object");
    case T_SET: return strAscii("set");
  }
  return 0;
}
