/**
 * Container and Kubernetes enrichment: the stage between capture and engine
 * (ContainerEnricher), the runtime clients it uses, the option parsers the
 * CLI calls, and the containers data source. See docs/containers.md.
 */
export { ContainerEnricher, CGROUP_MKDIR, CGROUP_RMDIR } from './enricher.ts';
export type { ContainerEnricherOptions, ContainerEnricherStats } from './enricher.ts';
export { parseCgroupPath, plainContainerdCandidate } from './cgroup-path.ts';
export type { CgroupContainer, RuntimeKind } from './cgroup-path.ts';
export { RuntimeError } from './runtime.ts';
export type { ContainerMetadata, RuntimeClient, RuntimeFailure, LookupHint } from './runtime.ts';
export { DockerClient } from './docker-client.ts';
export { ContainerdClient } from './containerd-client.ts';
export { CriClient } from './cri-client.ts';
export {
  DEFAULT_SOCKETS, parseCriFlag, parseEnrichmentFlag, parseContainersFlag, parseRuntimeName, enrichmentFromEnv, connectRuntimes, clientFor, containerConfig,
} from './sockets.ts';
export type { RuntimeSocket, ContainerFlagResult, ContainerFlags, ContainerConfig } from './sockets.ts';
export { ContainersDataSource, CONTAINERS_DATASOURCE, CONTAINERS_SCHEMA, REGO_CONTAINERS_BUILTIN, regoContainersBuiltin } from './datasource.ts';
export type { ContainerRecord, ContainerDirectory } from './datasource.ts';
