// Natively implemented builtins. Each is exported as `b_<name>` with dots
// replaced by "__"; arguments and result are value pointers, 0 = undefined.
export * from "./compare";
