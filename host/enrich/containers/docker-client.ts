/**
 * Docker Engine API client over a unix socket, for dockerd and for podman's
 * Docker-compatible service (undici 7). Unversioned paths, which every
 * engine serves at its own current API version.
 *
 * As Tracee's docker enricher: container inspect gives Name (without the
 * leading "/"), Config.Image and Config.Labels; an image inspect of the
 * container's image id then gives its tags (the image: the run name if it is one of them, else RepoTags[0]) and RepoDigests[0]
 * (the digest; absent for images loaded with `docker load`). Sandbox:
 * label io.kubernetes.docker.type=sandbox.
 */
import { Agent, request } from 'undici';
import type { RuntimeKind } from './cgroup-path.ts';
import { type ContainerMetadata, type RuntimeClient, RuntimeError, DOCKER_TYPE_LABEL, podFields, str } from './runtime.ts';

export interface DockerClientOptions {
  /** Per request, connect included. Default 2000 ms. */
  timeoutMs?: number;
}

interface JsonResponse {
  status: number;
  body: unknown;
}

export class DockerClient implements RuntimeClient {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(readonly runtime: Extract<RuntimeKind, 'docker' | 'podman'>, readonly socket: string, options: DockerClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#agent = new Agent({ connect: { socketPath: socket }, connections: 4, keepAliveTimeout: 10_000, pipelining: 1 });
  }

  async inspect(id: string): Promise<ContainerMetadata | null> {
    const c = await this.#get(`/containers/${encodeURIComponent(id)}/json`);
    if (c.status === 404) return null;
    if (c.status !== 200) throw this.#bad(`container ${id}: HTTP ${c.status}`);
    const body = c.body as { Id?: unknown; Name?: unknown; Image?: unknown; Config?: { Image?: unknown; Labels?: unknown } | null };
    if (typeof body !== 'object' || body === null || typeof body.Id !== 'string') throw this.#bad(`container ${id}: inspect answer has no Id`);
    const labels = (body.Config?.Labels ?? {}) as Record<string, string>;
    const meta: ContainerMetadata = {
      id: body.Id,
      name: str(body.Name).replace(/^\//, ''),
      image: str(body.Config?.Image),
      imageDigest: '',
      ...podFields(labels),
      podSandbox: labels[DOCKER_TYPE_LABEL] === 'sandbox',
    };
    const imageId = str(body.Image);
    if (imageId !== '') {
      const img = await this.#get(`/images/${encodeURIComponent(imageId)}/json`);
      if (img.status === 200 && typeof img.body === 'object' && img.body !== null) {
        const { RepoTags, RepoDigests } = img.body as { RepoTags?: unknown; RepoDigests?: unknown };
        // The name the container was run with when it is one of the image's tags (an image can have
        // several); otherwise (run by id, or re-tagged since) the image's first tag, as Tracee reports.
        const tags = Array.isArray(RepoTags) ? RepoTags.filter((t): t is string => typeof t === 'string') : [];
        if (tags.length && !tags.includes(meta.image)) meta.image = tags[0];
        if (Array.isArray(RepoDigests) && typeof RepoDigests[0] === 'string') meta.imageDigest = RepoDigests[0];
      }
    }
    return meta;
  }

  async close(): Promise<void> {
    if (!this.#agent.closed && !this.#agent.destroyed) await this.#agent.destroy();
  }

  async #get(path: string): Promise<JsonResponse> {
    let res;
    try {
      res = await request(`http://localhost${path}`, {
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      throw this.#transport(path, err);
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return { status: 404, body: null };
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.#transport(path, err);
    }
    if (res.statusCode !== 200) return { status: res.statusCode, body: null };
    try {
      return { status: 200, body: JSON.parse(text) };
    } catch {
      throw this.#bad(`GET ${path}: answer is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
    }
  }

  #transport(path: string, err: unknown): RuntimeError {
    const e = err as { name?: string; code?: unknown; message?: string };
    const code = typeof e.code === 'string' ? e.code : '';
    const timeout = e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const garbage = e.name === 'HTTPParserError' || code.startsWith('HPE_');
    return new RuntimeError(this.runtime, this.socket, timeout ? 'timeout' : garbage ? 'bad-response' : 'unavailable',
      timeout ? `GET ${path}: no answer within ${this.#timeoutMs} ms` : `GET ${path}: ${code} ${e.message ?? String(err)}`.replace(/ +/g, ' '),
      { cause: err });
  }

  #bad(message: string): RuntimeError {
    return new RuntimeError(this.runtime, this.socket, 'bad-response', message);
  }
}
