// Builds the OPA-ABI runtime (signatures-rego/runtime/*.ts, AssemblyScript)
// into signatures-rego/runtime/build/runtime.wasm. The build is skipped when
// a hash of the sources and options matches the previous build.
//
// Usage: tsx host/build/rego/build-runtime.ts [--force]

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME_DIR, RUNTIME_WASM } from "./runtime-path.ts";

const HASH_FILE = join(RUNTIME_DIR, "build", "runtime.hash");

const ASC_OPTIONS = [
  "--runtime", "stub",
  "--importMemory",
  "--initialMemory", "1",
  "--use", "abort=",
  "--noAssert",
  "-O3",
  "--converge",
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "build" || name === "node_modules") continue;
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

function sourceHash(): string {
  const h = createHash("sha256");
  h.update(ASC_OPTIONS.join(" "));
  for (const f of sources(RUNTIME_DIR)) {
    h.update(relative(RUNTIME_DIR, f));
    h.update(readFileSync(f));
  }
  return h.digest("hex");
}

/** Builds the runtime if its sources changed; returns the wasm path. */
export async function buildRuntime(opts: { force?: boolean; quiet?: boolean } = {}): Promise<string> {
  const hash = sourceHash();
  if (!opts.force && existsSync(RUNTIME_WASM) && existsSync(HASH_FILE) && readFileSync(HASH_FILE, "utf8") === hash) {
    return RUNTIME_WASM;
  }
  const { default: asc } = await import("assemblyscript/asc");
  mkdirSync(dirname(RUNTIME_WASM), { recursive: true });
  let wasm: Uint8Array | undefined;
  const stderr: string[] = [];
  const result = await asc.main([join(RUNTIME_DIR, "index.ts"), "--outFile", "runtime.wasm", ...ASC_OPTIONS], {
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith(".wasm") && typeof contents !== "string") wasm = contents;
    },
    stderr: { write(s: string | Uint8Array) { stderr.push(String(s)); return true; } } as never,
    stdout: { write() { return true; } } as never,
  });
  if (result.error || !wasm) {
    throw new Error(`build-runtime: asc failed: ${result.error?.message ?? "no output"}\n${stderr.join("")}`);
  }
  writeFileSync(RUNTIME_WASM, wasm);
  writeFileSync(HASH_FILE, hash);
  if (!opts.quiet) console.log(`build-runtime: wrote ${relative(process.cwd(), RUNTIME_WASM)} (${wasm.length} bytes)`);
  return RUNTIME_WASM;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildRuntime({ force: process.argv.includes("--force") }).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
