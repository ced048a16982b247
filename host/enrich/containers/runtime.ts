/**
 * What every runtime client answers, and the error it throws. A client talks
 * to one runtime over one unix socket; it never caches (the enricher does)
 * and every request is bounded by the client's timeout.
 */
import { TraceeError } from '../../errors.ts';
import type { RuntimeKind } from './cgroup-path.ts';

/** What a runtime reports about one container; Tracee's container{} and kubernetes{} fields. */
export interface ContainerMetadata {
  id: string;
  name: string;
  image: string;
  imageDigest: string;
  podName: string;
  podNamespace: string;
  podUID: string;
  podSandbox: boolean;
}

export interface LookupHint {
  /** containerd namespace to look in first (plain containerd paths, CRI → k8s.io). */
  namespace?: string;
}

export interface RuntimeClient {
  readonly runtime: RuntimeKind;
  readonly socket: string;
  /**
   * The container's metadata, or null when this runtime does not know the id.
   * Throws RuntimeError when the runtime cannot answer: socket missing or
   * refused, no answer within the timeout, or an answer that is not what the
   * API promises.
   */
  inspect(id: string, hint?: LookupHint): Promise<ContainerMetadata | null>;
  /** containerd only: its namespaces (plain containerd cgroup paths are /<namespace>/<id>). */
  namespaces?(fresh?: boolean): Promise<string[]>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

export type RuntimeFailure = 'unavailable' | 'timeout' | 'bad-response';

/** A runtime did not answer usefully. Match on `code` (TRC_ERR_RUNTIME) and `failure`. */
export class RuntimeError extends TraceeError {
  constructor(
    readonly runtime: RuntimeKind,
    readonly socket: string,
    readonly failure: RuntimeFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('TRC_ERR_RUNTIME', `containers: ${runtime} at ${socket}: ${message}`, options);
  }
}

/** Kubernetes labels every runtime carries through (Tracee's PodNameLabel etc.). */
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
/** Sandbox markers, one per runtime. */
export const DOCKER_TYPE_LABEL = 'io.kubernetes.docker.type';
export const CONTAINERD_KIND_LABEL = 'io.cri-containerd.kind';
export const CRIO_TYPE_LABEL = 'io.kubernetes.cri-o.ContainerType';

export function podFields(labels: Record<string, string> | undefined | null): Pick<ContainerMetadata, 'podName' | 'podNamespace' | 'podUID'> {
  return {
    podName: str(labels?.[POD_NAME_LABEL]),
    podNamespace: str(labels?.[POD_NAMESPACE_LABEL]),
    podUID: str(labels?.[POD_UID_LABEL]),
  };
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** "repo:tag" or "repo@sha256:…" → "repo" (a registry port's colon is kept). */
export function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(0, colon) : image;
}
