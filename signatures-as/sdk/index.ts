/**
 * The AssemblyScript signature SDK: everything a signature file imports
 * (`import { … } from "../sdk"`). See docs/sdk.md.
 */
export { Event, Bytes, StringList, StringIter } from "./event";
export { Metadata, Origin, register, Handler, DISABLED_BY_DEFAULT_TAG } from "./signature";
export { emit, finding, Finding, Log } from "./finding";
export { PtraceRequest, OpenFlags, MemProtAlert, isFileWrite, isFileRead, isMemoryPath, isElf } from "./constants";
export { ArgIndex, openedForWrite, openedForRead } from "./helpers";
export { SockAddr, AddressFamily } from "./sockaddr";
export { Container, ContainerField, container } from "./containers";
export { StateTable, copyBytes } from "./state-table";
export * from "./gen/events";
