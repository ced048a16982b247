/**
 * The container table that a record's `containerRef` indexes. The capture or
 * replay source registers container ids; enrichment (later) fills in names,
 * images and pods. Ref 0 means "not in a container".
 */
export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageDigest: string;
  podName: string;
  podNamespace: string;
  podUID: string;
  podSandbox: boolean;
}

export class ContainerTable {
  private readonly byId = new Map<string, number>();
  private readonly entries: ContainerInfo[] = [emptyContainer('')];

  /** The ref for a container id, registering it on first sight. */
  refFor(id: string): number {
    if (id === '') return 0;
    let ref = this.byId.get(id);
    if (ref === undefined) {
      ref = this.entries.length;
      this.entries.push(emptyContainer(id));
      this.byId.set(id, ref);
    }
    return ref;
  }

  get(ref: number): ContainerInfo | undefined {
    return ref === 0 ? undefined : this.entries[ref];
  }

  /** Merge what enrichment learned about a container. */
  update(id: string, info: Partial<ContainerInfo>): void {
    Object.assign(this.entries[this.refFor(id)], info, { id });
  }
}

function emptyContainer(id: string): ContainerInfo {
  return { id, name: '', image: '', imageDigest: '', podName: '', podNamespace: '', podUID: '', podSandbox: false };
}
