/**
 * Unary gRPC calls over a unix socket (@grpc/grpc-js with our own minimal
 * .proto files in ./proto). The gRPC packages are imported on first use, so
 * nothing is loaded unless a containerd or CRI-O socket is configured.
 *
 * Every call has a deadline; grpc status codes become RuntimeError failures:
 * DEADLINE_EXCEEDED → timeout, UNAVAILABLE → unavailable, anything else
 * (including an answer that does not parse) → bad-response. NOT_FOUND is
 * returned as null: "this runtime does not know the id".
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as GrpcJs from '@grpc/grpc-js';
import type { RuntimeKind } from './cgroup-path.ts';
import { RuntimeError } from './runtime.ts';
import { TraceeError } from '../../errors.ts';

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'proto');
const PROTO_FILES = ['containerd-namespaces.proto', 'containerd-containers.proto', 'containerd-images.proto', 'cri.proto'];

interface MethodDef {
  path: string;
  requestSerialize: (value: object) => Buffer;
  responseDeserialize: (bytes: Buffer) => unknown;
}
type PackageDefinition = Record<string, Record<string, MethodDef> | object>;

interface Loaded {
  grpc: typeof GrpcJs;
  definition: PackageDefinition;
}

let loading: Promise<Loaded> | undefined;

function load(): Promise<Loaded> {
  loading ??= (async () => {
    const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
    const definition = await loader.load(PROTO_FILES.map((f) => join(PROTO_DIR, f)), {
      keepCase: false, longs: String, enums: String, defaults: true, oneofs: true,
    }) as unknown as PackageDefinition;
    return { grpc: (grpc as unknown as { default?: typeof GrpcJs }).default ?? grpc, definition };
  })();
  return loading;
}

/** gRPC status codes we distinguish. */
const NOT_FOUND = 5;
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;

export class GrpcChannel {
  #client: GrpcJs.Client | undefined;
  #closed = false;

  constructor(readonly runtime: RuntimeKind, readonly socket: string, readonly timeoutMs: number) {}

  /**
   * Calls `service`/`method` (service by full name, e.g.
   * "containerd.services.containers.v1.Containers") and resolves with the
   * decoded answer, or null when the runtime answers NOT_FOUND.
   */
  async call<T>(service: string, method: string, request: object, headers: Record<string, string> = {}): Promise<T | null> {
    const { grpc, definition } = await load();
    const def = (definition[service] as Record<string, MethodDef> | undefined)?.[method];
    if (!def) throw new TraceeError('TRC_ERR_RUNTIME_PROTO', `containers: ${service}/${method} is not in ${PROTO_FILES.join(', ')}`);
    if (this.#closed) throw new RuntimeError(this.runtime, this.socket, 'unavailable', 'client closed');
    this.#client ??= new grpc.Client(`unix://${this.socket}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 << 20,
      'grpc.enable_retries': 0,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
    const what = `${service.split('.').pop()}/${method}`;
    return new Promise<T | null>((resolve, reject) => {
      this.#client!.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata,
        { deadline: Date.now() + this.timeoutMs },
        (err: GrpcJs.ServiceError | null, value?: unknown) => {
          if (!err) { resolve(value as T); return; }
          if (err.code === NOT_FOUND) { resolve(null); return; }
          const failure = err.code === DEADLINE_EXCEEDED ? 'timeout' : err.code === UNAVAILABLE ? 'unavailable' : 'bad-response';
          const detail = failure === 'timeout' ? `no answer within ${this.timeoutMs} ms` : err.details || err.message;
          reject(new RuntimeError(this.runtime, this.socket, failure, `${what}: ${detail}`, { cause: err }));
        });
    });
  }

  close(): void {
    this.#closed = true;
    this.#client?.close();
    this.#client = undefined;
  }
}
