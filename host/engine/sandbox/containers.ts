/**
 * The container table in the sandbox: the main thread's ContainerMirror
 * sends what changed (protocol.ts ContainersRequest) before a batch, when a
 * running bundle reads containers; each worker's MirroredContainers applies
 * it. With the host's container directory (the enricher), which containers
 * are live and their creation times go along, so that `tracee.containers`
 * answers in a worker as it does in-thread.
 */
import { ContainerTable } from '../../events/containers.ts';
import type { ContainerDirectory } from '../../enrich/containers/datasource.ts';
import type { ContainersRequest } from './protocol.ts';

type Entry = ContainersRequest['entries'][number];

/** Main thread: what of the container table (and directory) the workers have not seen yet. */
export class ContainerMirror {
  private readonly keys: string[] = [''];
  /** The last entry sent per ref, for a worker started afresh. */
  private readonly sent: Entry[] = [];

  constructor(private readonly table: ContainerTable, private readonly directory?: ContainerDirectory) {}

  /** New refs, and entries whose fields or liveness changed (enrichment fills them in over time). */
  changes(): Entry[] {
    const out: Entry[] = [];
    for (let ref = 1; ; ref++) {
      const info = this.table.get(ref);
      if (!info) break;
      const ctimeNs = this.directory ? this.directory.describe(info.id)?.ctimeNs ?? null : 0n;
      const key = `${info.id}\0${info.name}\0${info.image}\0${info.imageDigest}\0${info.podName}\0${info.podNamespace}\0${info.podUID}\0${info.podSandbox}\0${ctimeNs}`;
      if (this.keys[ref] !== key) {
        this.keys[ref] = key;
        out.push(this.sent[ref - 1] = [ref, { ...info }, ctimeNs]);
      }
    }
    return out;
  }

  /** Everything sent so far, in ref order: what a restarted worker must be given to be in step. */
  snapshot(): Entry[] {
    return this.sent;
  }
}

/** Worker: the mirrored table its bundles get, and the directory its Rego bundles' tracee.containers answers from. */
export class MirroredContainers implements ContainerDirectory {
  readonly table = new ContainerTable();
  /** Live container id → creation time. */
  private readonly live = new Map<string, bigint>();

  /** Throws when the entries are not in step with the table (refs are handed out in order on both sides). */
  apply(entries: readonly Entry[]): void {
    for (const [ref, info, ctimeNs] of entries) {
      if (this.table.refFor(info.id) !== ref) throw new Error(`container table out of step: ${info.id} is not ref ${ref}`);
      this.table.update(info.id, info);
      if (ctimeNs === null) this.live.delete(info.id);
      else this.live.set(info.id, ctimeNs);
    }
  }

  describe(id: string): ReturnType<ContainerDirectory['describe']> {
    const ctimeNs = this.live.get(id);
    if (ctimeNs === undefined) return undefined;
    const info = this.table.get(this.table.refFor(id));
    return info && { info, ctimeNs };
  }
}
