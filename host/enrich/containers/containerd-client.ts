/**
 * containerd over gRPC: Namespaces/List, Containers/Get and Images/Get, each
 * call (but the namespace list) scoped by the `containerd-namespace` header.
 * A container is looked for in the hinted namespace first, then in every
 * namespace containerd reports (default, k8s.io, moby, …).
 *
 * As Tracee's containerd enricher: the name is the io.kubernetes.container.name
 * label (plain `ctr` containers have none), the image is the container's image
 * reference, pod fields come from the io.kubernetes.pod.* labels, and
 * io.cri-containerd.kind=sandbox marks a sandbox. Beyond Tracee: the digest is
 * the image store's target digest, written "repo@sha256:…" like Docker's
 * RepoDigests; and for the k8s.io namespace the CRI plugin on the same socket
 * fills in the container name and pod fields that labels lack.
 */
import { GrpcChannel } from './grpc-channel.ts';
import { CriClient } from './cri-client.ts';
import { type ContainerMetadata, type LookupHint, type RuntimeClient, CONTAINER_NAME_LABEL, CONTAINERD_KIND_LABEL, RuntimeError, podFields, repositoryOf, str } from './runtime.ts';

const NAMESPACES = 'containerd.services.namespaces.v1.Namespaces';
const CONTAINERS = 'containerd.services.containers.v1.Containers';
const IMAGES = 'containerd.services.images.v1.Images';
/** The namespace the CRI plugin uses. */
export const K8S_NAMESPACE = 'k8s.io';

interface ContainerdContainer {
  id: string;
  labels?: Record<string, string>;
  image?: string;
}

export interface ContainerdClientOptions {
  timeoutMs?: number;
  /** Ask the CRI plugin for k8s.io containers. Default true; a containerd without CRI just answers UNIMPLEMENTED once. */
  cri?: boolean;
  /** How long a namespace list is reused. Default 5000 ms. */
  namespacesTtlMs?: number;
}

export class ContainerdClient implements RuntimeClient {
  readonly runtime = 'containerd' as const;
  readonly #channel: GrpcChannel;
  #cri: CriClient | null;
  readonly #ttlMs: number;
  #namespaces: { list: string[]; at: number } | undefined;
  #listing: Promise<string[]> | undefined;

  constructor(readonly socket: string, options: ContainerdClientOptions = {}) {
    this.#channel = new GrpcChannel('containerd', socket, options.timeoutMs ?? 2000);
    this.#cri = options.cri === false ? null : new CriClient('containerd', socket, { channel: this.#channel });
    this.#ttlMs = options.namespacesTtlMs ?? 5000;
  }

  /** containerd's namespaces, from a cache younger than the TTL unless `fresh`. */
  async namespaces(fresh = false): Promise<string[]> {
    if (!fresh && this.#namespaces && Date.now() - this.#namespaces.at < this.#ttlMs) return this.#namespaces.list;
    this.#listing ??= (async () => {
      try {
        const r = await this.#channel.call<{ namespaces?: { name?: string }[] }>(NAMESPACES, 'List', {});
        if (!r || !Array.isArray(r.namespaces)) throw new RuntimeError('containerd', this.socket, 'bad-response', 'Namespaces/List: no namespace list');
        const list = r.namespaces.map((n) => str(n.name)).filter((n) => n !== '');
        this.#namespaces = { list, at: Date.now() };
        return list;
      } finally {
        this.#listing = undefined;
      }
    })();
    return this.#listing;
  }

  async inspect(id: string, hint: LookupHint = {}): Promise<ContainerMetadata | null> {
    const order = hint.namespace ? [hint.namespace] : [];
    let found: { ns: string; c: ContainerdContainer } | null = null;
    for (const ns of order) found ??= await this.#get(ns, id);
    if (!found) {
      for (const ns of await this.namespaces()) {
        if (order.includes(ns)) continue;
        found = await this.#get(ns, id);
        if (found) break;
      }
    }
    if (!found) return null;
    const { ns, c } = found;
    const labels = c.labels ?? {};
    const image = str(c.image);
    const meta: ContainerMetadata = {
      id: c.id || id,
      name: str(labels[CONTAINER_NAME_LABEL]),
      image,
      imageDigest: '',
      ...podFields(labels),
      podSandbox: labels[CONTAINERD_KIND_LABEL] === 'sandbox',
    };
    if (ns === K8S_NAMESPACE && this.#cri) await this.#fromCri(meta);
    if (meta.image !== '' && !meta.image.startsWith('sha256:')) {
      const img = await this.#channel.call<{ image?: { target?: { digest?: string } } }>(IMAGES, 'Get', { name: meta.image }, { 'containerd-namespace': ns });
      const digest = str(img?.image?.target?.digest);
      if (digest !== '') meta.imageDigest = `${repositoryOf(meta.image)}@${digest}`;
    }
    return meta;
  }

  async #get(ns: string, id: string): Promise<{ ns: string; c: ContainerdContainer } | null> {
    const r = await this.#channel.call<{ container?: ContainerdContainer | null }>(CONTAINERS, 'Get', { id }, { 'containerd-namespace': ns });
    if (r === null) return null;
    if (!r.container) throw new RuntimeError('containerd', this.socket, 'bad-response', `Containers/Get ${id}: answer has no container`);
    return { ns, c: r.container };
  }

  /** Kubernetes names from CRI; a containerd without the CRI plugin is asked only once. */
  async #fromCri(meta: ContainerMetadata): Promise<void> {
    let cri: ContainerMetadata | null;
    try {
      cri = await this.#cri!.inspect(meta.id);
    } catch (err) {
      if (err instanceof RuntimeError && err.failure === 'bad-response') this.#cri = null;
      return;
    }
    if (!cri) return;
    meta.name ||= cri.name;
    meta.podName ||= cri.podName;
    meta.podNamespace ||= cri.podNamespace;
    meta.podUID ||= cri.podUID;
    if (meta.image === '' || meta.image.startsWith('sha256:')) meta.image = cri.image || meta.image;
    meta.podSandbox ||= cri.podSandbox;
  }

  async close(): Promise<void> {
    this.#channel.close();
  }
}
