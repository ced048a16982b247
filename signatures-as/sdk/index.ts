/**
 * The AssemblyScript signature SDK: everything a signature file imports
 * (`import { … } from "../sdk"`). See docs/sdk.md.
 */
export { Event, Bytes, StringList, StringIter } from "./event";
export { Metadata, Origin, register, Handler } from "./signature";
export { emit, finding, Finding, Log } from "./finding";
export { PtraceRequest, OpenFlags, isFileWrite, isFileRead, isMemoryPath } from "./constants";
export * from "./gen/events";
