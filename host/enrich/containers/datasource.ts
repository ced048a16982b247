/**
 * The containers data source signatures read (Tracee: namespace "tracee",
 * id "containers", version 1, keyed by container id), answered from the
 * enricher's live containers and the ContainerTable. The SDK import that
 * exposes it to bundles is added with the catalogue; a Rego bundle gets the
 * same record through the `tracee.containers` custom builtin
 * (host/engine/rego-glue.ts).
 */
import type { ContainerInfo, ContainerTable } from '../../events/containers.ts';

/** One container, in Tracee's schema (pkg/containers/datasource.go). */
export interface ContainerRecord {
  container_id: string;
  /** Creation time of the container's cgroup, ns since the Unix epoch. */
  container_ctime: bigint;
  container_name: string;
  container_image: string;
  k8s_pod_id: string;
  k8s_pod_name: string;
  k8s_pod_namespace: string;
  k8s_pod_sandbox: boolean;
}

export const CONTAINERS_DATASOURCE = { namespace: 'tracee', id: 'containers', version: 1 } as const;

export const CONTAINERS_SCHEMA: Readonly<Record<keyof ContainerRecord, string>> = {
  container_id: 'string',
  container_ctime: 'int',
  container_name: 'string',
  container_image: 'string',
  k8s_pod_id: 'string',
  k8s_pod_name: 'string',
  k8s_pod_namespace: 'string',
  k8s_pod_sandbox: 'bool',
};

/** What the data source needs from the enricher (ContainerEnricher implements it). */
export interface ContainerDirectory {
  describe(id: string): { info: ContainerInfo; ctimeNs: bigint } | undefined;
}

/**
 * A directory over a ContainerTable alone, where there is no enricher (the
 * table the engine gives bundles; tracee-rules' replay table): every
 * container id the table holds, with ctime 0 — the table does not know
 * creation times. Refs are handed out in order and never reused, so ids are
 * indexed by reading on from the last ref seen; nothing is registered.
 */
export class ContainerTableDirectory implements ContainerDirectory {
  private readonly refs = new Map<string, number>();
  private next = 1;

  constructor(private readonly table: ContainerTable) {}

  describe(id: string): { info: ContainerInfo; ctimeNs: bigint } | undefined {
    if (!this.refs.has(id)) {
      for (let c = this.table.get(this.next); c !== undefined; c = this.table.get(++this.next)) this.refs.set(c.id, this.next);
    }
    const ref = this.refs.get(id);
    const info = ref === undefined ? undefined : this.table.get(ref);
    return info ? { info, ctimeNs: 0n } : undefined;
  }
}

export class ContainersDataSource {
  readonly namespace = CONTAINERS_DATASOURCE.namespace;
  readonly id = CONTAINERS_DATASOURCE.id;
  readonly version = CONTAINERS_DATASOURCE.version;
  readonly schema = CONTAINERS_SCHEMA;

  constructor(private readonly directory: ContainerDirectory) {}

  /** Key types accepted (Tracee: ["string"]). */
  keys(): string[] {
    return ['string'];
  }

  /** The record of container `key`, or undefined when the key is not a live container id. */
  get(key: unknown): ContainerRecord | undefined {
    if (typeof key !== 'string' || key === '') return undefined;
    const found = this.directory.describe(key);
    if (!found) return undefined;
    const { info, ctimeNs } = found;
    return {
      container_id: info.id,
      container_ctime: ctimeNs,
      container_name: info.name,
      container_image: info.image,
      k8s_pod_id: info.podUID,
      k8s_pod_name: info.podName,
      k8s_pod_namespace: info.podNamespace,
      k8s_pod_sandbox: info.podSandbox,
    };
  }
}

/** Name of the Rego custom builtin: `tracee.containers(id)` → the record, or null. */
export const REGO_CONTAINERS_BUILTIN = 'tracee.containers';

/**
 * The Rego builtin's implementation (OPA custom builtins get and return JSON
 * values): container_ctime becomes a number, exact to the microsecond.
 */
export function regoContainersBuiltin(source: ContainersDataSource): (id: unknown) => Record<string, unknown> | null {
  return (id) => {
    const r = source.get(id);
    return r ? { ...r, container_ctime: Number(r.container_ctime) } : null;
  };
}
