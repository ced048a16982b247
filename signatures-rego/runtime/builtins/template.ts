// internal.template_string: what template strings (`$"…{expr}…"`) compile
// to (host/build/rego/parser/parser.ts parseTemplate). Its argument is the
// array of parts: literal text and scalar expressions as themselves, every
// other expression as the set of its values, so that an undefined one is an
// empty set. Strings are written as they are, other values as OPA prints them
// (`[1, "a"]`, `{"k": 1}`, `set()`); an empty set is "<undefined>", and an
// expression with several values is an error (undefined here, as builtin errors are).

import { bufNew, bufBytes, bufAscii } from "../buf";
import { T_STRING, T_SET } from "../number";
import { strPtr, strLen, arrLen, arrGet, setLen, setGet } from "../value";
import { dumpTo } from "../json";
import { isArr, bufToStr } from "./util";

export function b_internal__template_string(parts: usize): usize {
  if (!isArr(parts)) return 0;
  let b = bufNew(64);
  let n = arrLen(parts);
  for (let i: usize = 0; i < n; i++) {
    let v = arrGet(parts, i);
    if (load<u8>(v) == T_SET) {
      let m = setLen(v);
      if (m == 0) { bufAscii(b, "<undefined>"); continue; }
      if (m > 1) return 0;
      v = setGet(v, 0);
    }
    if (load<u8>(v) == T_STRING) bufBytes(b, strPtr(v), strLen(v));
    else dumpTo(b, v, true, false, true);
  }
  return bufToStr(b);
}
