/**
 * Kubernetes CRI RuntimeService (runtime.v1) status look-ups: the container
 * client for CRI-O, and the Kubernetes view of containerd's `k8s.io`
 * namespace (containerd serves CRI on its own socket).
 *
 * A container id is asked with ContainerStatus; an id CRI does not know as a
 * container is asked again as a pod sandbox (PodSandboxStatus), which is how
 * a sandbox (pause) cgroup gets podSandbox=true. Pod fields come from the
 * io.kubernetes.pod.* labels, else from the sandbox's metadata.
 */
import { GrpcChannel } from './grpc-channel.ts';
import { type ContainerMetadata, type RuntimeClient, CONTAINER_NAME_LABEL, CRIO_TYPE_LABEL, podFields, str } from './runtime.ts';

const SERVICE = 'runtime.v1.RuntimeService';
/** Annotation the CRI plugins put on a container: its sandbox id. */
const SANDBOX_ID_ANNOTATIONS = ['io.kubernetes.cri.sandbox-id', 'io.kubernetes.cri-o.SandboxID'];

interface CriContainerStatus {
  id: string;
  metadata?: { name?: string } | null;
  image?: { image?: string } | null;
  imageRef?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface CriSandboxStatus {
  id: string;
  metadata?: { name?: string; uid?: string; namespace?: string } | null;
  labels?: Record<string, string>;
}

export class CriClient implements RuntimeClient {
  readonly #channel: GrpcChannel;

  /** `runtime` is the runtime serving CRI on `socket` (crio, or containerd for its CRI plugin). */
  constructor(readonly runtime: 'crio' | 'containerd', readonly socket: string, options: { timeoutMs?: number; channel?: GrpcChannel } = {}) {
    this.#channel = options.channel ?? new GrpcChannel(runtime, socket, options.timeoutMs ?? 2000);
  }

  async inspect(id: string): Promise<ContainerMetadata | null> {
    const c = await this.#channel.call<{ status?: CriContainerStatus | null }>(SERVICE, 'ContainerStatus', { containerId: id, verbose: false });
    if (c?.status) return this.#fromContainer(c.status);
    const s = await this.sandboxStatus(id);
    if (!s) return null;
    return { id: s.id || id, name: '', image: '', imageDigest: '', ...sandboxPod(s), podSandbox: true };
  }

  async sandboxStatus(id: string): Promise<CriSandboxStatus | null> {
    const r = await this.#channel.call<{ status?: CriSandboxStatus | null }>(SERVICE, 'PodSandboxStatus', { podSandboxId: id, verbose: false });
    return r?.status ?? null;
  }

  async #fromContainer(status: CriContainerStatus): Promise<ContainerMetadata> {
    const labels = status.labels ?? {};
    const image = str(status.image?.image);
    const meta: ContainerMetadata = {
      id: status.id,
      name: str(status.metadata?.name) || str(labels[CONTAINER_NAME_LABEL]),
      image,
      // CRI-O answers repo@sha256:…; containerd answers the image id (its client prefers the image store's digest)
      imageDigest: str(status.imageRef),
      ...podFields(labels),
      podSandbox: labels[CRIO_TYPE_LABEL] === 'sandbox',
    };
    if (!meta.podName || !meta.podUID) {
      const sandboxId = SANDBOX_ID_ANNOTATIONS.map((k) => status.annotations?.[k]).find((v) => v);
      const s = sandboxId ? await this.sandboxStatus(sandboxId) : null;
      if (s) {
        const pod = sandboxPod(s);
        meta.podName ||= pod.podName;
        meta.podNamespace ||= pod.podNamespace;
        meta.podUID ||= pod.podUID;
      }
    }
    return meta;
  }

  async close(): Promise<void> {
    this.#channel.close();
  }
}

function sandboxPod(s: CriSandboxStatus): Pick<ContainerMetadata, 'podName' | 'podNamespace' | 'podUID'> {
  const fromLabels = podFields(s.labels);
  return {
    podName: fromLabels.podName || str(s.metadata?.name),
    podNamespace: fromLabels.podNamespace || str(s.metadata?.namespace),
    podUID: fromLabels.podUID || str(s.metadata?.uid),
  };
}
