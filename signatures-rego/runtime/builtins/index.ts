// Natively implemented builtins. Each is exported as `b_<name>` with dots
// replaced by "__"; arguments and result are value pointers, 0 = undefined.
export * from "./compare";
export * from "./arith";
export * from "./types";
export * from "./aggregates";
export * from "./strings";
export * from "./objects";
export * from "./encoding";
export * from "./glob";
export * from "./cidr";
export * from "./regex";
export * from "./template";
