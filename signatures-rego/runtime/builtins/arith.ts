// Arithmetic, rounding, bits and numbers.range.

import { numInt, numFloat, numToF64, T_NUMBER, T_SET, numCompare } from "../number";
import { arrNew, arrAppend, setNew, setAdd, setLen, setGet, setFind } from "../value";
import { asInt, argInt, isNum, isSet } from "./util";

const I64_MIN: i64 = -9223372036854775807 - 1;

function bothInts(a: usize, b: usize): bool {
  if (!asInt(a)) return false;
  ia = argInt;
  if (!asInt(b)) return false;
  ib = argInt;
  return true;
}
let ia: i64 = 0;
let ib: i64 = 0;

export function b_plus(a: usize, b: usize): usize {
  if (!isNum(a) || !isNum(b)) return 0;
  if (bothInts(a, b)) {
    let r = ia + ib;
    if (((ia ^ r) & (ib ^ r)) >= 0) return numInt(r);
  }
  return numFloat(numToF64(a) + numToF64(b));
}

export function b_minus(a: usize, b: usize): usize {
  if (isSet(a) && isSet(b)) {
    let r = setNew();
    let n = setLen(a);
    for (let i: usize = 0; i < n; i++) {
      let x = setGet(a, i);
      if (setFind(b, x) < 0) setAdd(r, x);
    }
    return r;
  }
  if (!isNum(a) || !isNum(b)) return 0;
  if (bothInts(a, b)) {
    let r = ia - ib;
    if (((ia ^ ib) & (ia ^ r)) >= 0) return numInt(r);
  }
  return numFloat(numToF64(a) - numToF64(b));
}

export function b_mul(a: usize, b: usize): usize {
  if (!isNum(a) || !isNum(b)) return 0;
  if (bothInts(a, b)) {
    let r = ia * ib;
    if (ia == 0 || (r / ia == ib && !(ia == -1 && ib == I64_MIN) && !(ib == -1 && ia == I64_MIN))) return numInt(r);
  }
  return numFloat(numToF64(a) * numToF64(b));
}

export function b_div(a: usize, b: usize): usize {
  if (!isNum(a) || !isNum(b)) return 0;
  let y = numToF64(b);
  if (y == 0) return 0;
  if (bothInts(a, b) && ib != 0 && ia % ib == 0 && !(ib == -1 && ia == I64_MIN)) return numInt(ia / ib);
  return numFloat(numToF64(a) / y);
}

export function b_rem(a: usize, b: usize): usize {
  if (!isNum(a) || !isNum(b)) return 0;
  if (bothInts(a, b)) {
    if (ib == 0) return 0;
    if (ib == -1) return numInt(0);
    return numInt(ia % ib);
  }
  return 0;
}

export function b_abs(a: usize): usize {
  if (!isNum(a)) return 0;
  if (asInt(a) && argInt != I64_MIN) return numInt(argInt < 0 ? -argInt : argInt);
  return numFloat(Math.abs(numToF64(a)));
}

export function b_round(a: usize): usize {
  if (!isNum(a)) return 0;
  if (asInt(a)) return a;
  let f = numToF64(a);
  let r = Math.floor(Math.abs(f) + 0.5);
  return numFloat(f < 0 ? -r : r);
}

export function b_ceil(a: usize): usize {
  if (!isNum(a)) return 0;
  if (asInt(a)) return a;
  return numFloat(Math.ceil(numToF64(a)));
}

export function b_floor(a: usize): usize {
  if (!isNum(a)) return 0;
  if (asInt(a)) return a;
  return numFloat(Math.floor(numToF64(a)));
}

export function b_numbers__range(a: usize, b: usize): usize {
  if (!bothInts(a, b)) return 0;
  let n = ia <= ib ? ib - ia + 1 : ia - ib + 1;
  if (n > 10000000) return 0;
  let r = arrNew(<usize>n);
  if (ia <= ib) for (let i = ia; i <= ib; i++) arrAppend(r, numInt(i));
  else for (let i = ia; i >= ib; i--) arrAppend(r, numInt(i));
  return r;
}

export function b_bits__or(a: usize, b: usize): usize { return bothInts(a, b) ? numInt(ia | ib) : 0; }
export function b_bits__and(a: usize, b: usize): usize { return bothInts(a, b) ? numInt(ia & ib) : 0; }
export function b_bits__xor(a: usize, b: usize): usize { return bothInts(a, b) ? numInt(ia ^ ib) : 0; }
export function b_bits__negate(a: usize): usize { return asInt(a) ? numInt(~argInt) : 0; }
export function b_bits__lsh(a: usize, b: usize): usize {
  if (!bothInts(a, b) || ib < 0) return 0;
  if (ib >= 64) return ia == 0 ? numInt(0) : numFloat(<f64>ia * Math.pow(2, <f64>ib));
  let r = ia << ib;
  if ((r >> ib) != ia) return numFloat(<f64>ia * Math.pow(2, <f64>ib));
  return numInt(r);
}
export function b_bits__rsh(a: usize, b: usize): usize {
  if (!bothInts(a, b) || ib < 0) return 0;
  if (ib >= 64) return numInt(ia < 0 ? -1 : 0);
  return numInt(ia >> ib);
}
