/**
 * Binaryen steps of the bundle build, on the module asc produced:
 *  - exposeStart: a copy whose start function is an export instead, so the
 *    build can run registration with the memory already reachable (an abort
 *    during the wasm start function leaves no instance to read its message from);
 *  - finalizeBundle: the shipped bundle. The build-only `tracee_metadata`
 *    export is removed, the module re-optimised so the metadata serialiser
 *    goes with it, and the metadata written as the `tracee.signature` custom
 *    section for the host to read without running code.
 * Both are deterministic: same input bytes, same output bytes.
 */
import binaryen from 'binaryen';

/** The features asc enables by default (asc --help, "Features"); binaryen needs them to read and optimise the module. */
const ASC_FEATURES = binaryen.Features.MutableGlobals | binaryen.Features.SignExt
  | binaryen.Features.NontrappingFPToInt | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt;

export const START_EXPORT = '__tracee_start';

function read(binary: Uint8Array): binaryen.Module {
  const module = binaryen.readBinary(binary);
  module.setFeatures(ASC_FEATURES);
  return module;
}

/** The module with its start function exported as START_EXPORT (if it has one) and not run at instantiation. */
export function exposeStart(binary: Uint8Array): Uint8Array {
  const module = read(binary);
  try {
    const start = module.getStart();
    if (start) {
      module.addFunctionExport(binaryen.getFunctionInfo(start).name, START_EXPORT);
      module.setStart(0);
    }
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** The shipped bundle: metadata export removed, re-optimised, metadata section added. */
export function finalizeBundle(binary: Uint8Array, metadataExport: string, section: string, metadataJson: string): Uint8Array {
  const module = read(binary);
  // Optimisation levels are global to binaryen (and shared with asc): restore them after.
  const levels = [binaryen.getOptimizeLevel(), binaryen.getShrinkLevel()] as const;
  try {
    module.removeExport(metadataExport);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(0);
    module.optimize();
    if (!module.validate()) throw new Error('binaryen: the optimised bundle does not validate');
    module.addCustomSection(section, new TextEncoder().encode(metadataJson));
    return module.emitBinary();
  } finally {
    binaryen.setOptimizeLevel(levels[0]);
    binaryen.setShrinkLevel(levels[1]);
    module.dispose();
  }
}
