/**
 * Container identification from a cgroup path, anchored on the path shapes
 * the runtimes actually create (Tracee: parseContainerIdFromCgroupPath in
 * pkg/containers/, v0.24). Never "any long hex string": this machine's own
 * processes sit in `/process_api/<32hex>`, and a pod-level or conmon cgroup is
 * not a container either.
 *
 * Shapes, scanned from the last path component to the first (so processes in
 * a sub-cgroup of a container still belong to it), `.scope` trimmed:
 *   libpod-<64hex>                     podman (libpod-conmon-… is skipped)
 *   docker-<64hex>                     docker under systemd
 *   crio-<64hex>                       CRI-O (crio-conmon-… is skipped)
 *   cri-containerd-<64hex>, …:cri-containerd:<64hex>   containerd (CRI, systemd driver)
 *   <64hex> under docker/ or actions_job/              docker (cgroupfs driver)
 *   <64hex> under pod<uid>/ (kubepods, cgroupfs)        a Kubernetes container, runtime unknown
 * and, separately, plain containerd `/<namespace>/<id>` (any id), which is only
 * a candidate until containerd confirms it (see plainContainerdCandidate).
 */

export type RuntimeKind = 'docker' | 'podman' | 'containerd' | 'crio';

export interface CgroupContainer {
  /** The container id as the runtime knows it. */
  id: string;
  /** The runtime the path shape names; undefined for a kubepods path, which any CRI runtime can create. */
  runtime?: RuntimeKind;
  /** The pod uid when the path has a pod<uid> level (dashes restored). */
  podUid?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const PREFIXED = /^(libpod|docker|crio|cri-containerd)-([0-9a-f]{64})$/;
const POD_LEVEL = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

const PREFIX_RUNTIME: Record<string, RuntimeKind> = {
  libpod: 'podman',
  docker: 'docker',
  crio: 'crio',
  'cri-containerd': 'containerd',
};

/** The container a cgroup path belongs to, or undefined for a host cgroup. */
export function parseCgroupPath(path: string): CgroupContainer | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  for (let i = parts.length - 1; i >= 0; i--) {
    let part = parts[i];
    if (part.length < 64) continue;
    if (part.endsWith('.scope')) part = part.slice(0, -'.scope'.length);
    const colon = part.lastIndexOf(':cri-containerd:');
    if (colon >= 0) {
      const id = part.slice(colon + ':cri-containerd:'.length);
      if (HEX64.test(id)) return withPod({ id, runtime: 'containerd' }, parts, i);
      continue;
    }
    const m = PREFIXED.exec(part);
    if (m) return withPod({ id: m[2], runtime: PREFIX_RUNTIME[m[1]] }, parts, i);
    if (!HEX64.test(part) || i === 0) continue;
    const parent = parts[i - 1];
    if (parent === 'docker' || parent === 'actions_job') return { id: part, runtime: 'docker' };
    if (POD_LEVEL.test(parent)) return withPod({ id: part }, parts, i);
  }
  return undefined;
}

function withPod(c: CgroupContainer, parts: string[], at: number): CgroupContainer {
  for (let i = at - 1; i >= 0; i--) {
    const m = POD_LEVEL.exec(parts[i]);
    if (m) return { ...c, podUid: m[1].replace(/_/g, '-') };
  }
  return c;
}

/**
 * Plain containerd (`ctr run`) puts a container at `/<namespace>/<id>`, the id
 * being any string the user picked. The path is only a candidate when its
 * first level is a namespace containerd reports; the enricher still asks
 * containerd for the container before calling it one.
 */
export function plainContainerdCandidate(path: string, namespaces: ReadonlySet<string>): { namespace: string; id: string } | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length !== 2 || !namespaces.has(parts[0])) return undefined;
  return { namespace: parts[0], id: parts[1] };
}
