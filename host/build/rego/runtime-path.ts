// Location of the built OPA-ABI runtime module.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const RUNTIME_DIR = resolve(here, "../../../signatures-rego/runtime");
export const RUNTIME_WASM = join(RUNTIME_DIR, "build", "runtime.wasm");
