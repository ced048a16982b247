/**
 * The cgroup v2 filesystem as the enricher sees it: where it is mounted, the
 * id → path map from a walk of it, and the path of one process's cgroup.
 *
 * On cgroup v2 a cgroup's id (what bpf_get_current_cgroup_id() records in
 * every event) is the inode number of its directory; this holds on hybrid
 * hosts too, where cgroup2 sits at /sys/fs/cgroup/unified beside the v1
 * hierarchies. Requires Linux 5.5+, where the cgroup id is exactly the kernfs
 * inode number (before 5.5 the id also carried a generation in its high bits).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The cgroup2 mount point from /proc/self/mountinfo, or undefined when cgroup v2 is not mounted. */
export function findCgroup2Mount(mountinfo = '/proc/self/mountinfo'): string | undefined {
  let text: string;
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return undefined;
  }
  const found: string[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const fstype = line.slice(dash + 3).split(' ')[0];
    if (fstype !== 'cgroup2') continue;
    const fields = line.slice(0, dash).split(' ');
    if (fields[3] !== '/') continue; // a bind mount of a sub-cgroup does not show the whole tree
    found.push(unescapeMountPath(fields[4]));
  }
  // Prefer the usual places when several are mounted.
  return found.find((p) => p === '/sys/fs/cgroup') ?? found.find((p) => p === '/sys/fs/cgroup/unified') ?? found[0];
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** A cgroup id as a JS number key (ids are inode numbers, far below 2^53). */
export function cgroupKey(id: bigint | number): number {
  return typeof id === 'number' ? id : Number(id);
}

/**
 * Walks the cgroup2 tree under `mount` and returns id → path (relative to the
 * mount, starting with "/"). Directories that vanish during the walk are
 * skipped. `maxEntries` bounds the walk on hosts with huge trees.
 */
export async function walkCgroups(mount: string, maxEntries = 100_000): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const queue: string[] = ['/'];
  while (queue.length > 0 && out.size < maxEntries) {
    const rel = queue.shift()!;
    const abs = rel === '/' ? mount : join(mount, rel);
    try {
      const st = await stat(abs, { bigint: true });
      out.set(Number(st.ino), rel);
      const entries = await readdir(abs, { withFileTypes: true });
      for (const e of entries) if (e.isDirectory()) queue.push(rel === '/' ? `/${e.name}` : `${rel}/${e.name}`);
    } catch {
      // removed while walking
    }
  }
  return out;
}

/**
 * The cgroup2 path of a process (the `0::` line of /proc/<pid>/cgroup) when its
 * directory still has inode `cgroupId`, i.e. the process has not moved since
 * the event. Synchronous: a few tens of microseconds, once per new cgroup id.
 */
export function cgroupPathOfProcess(mount: string, pid: number, cgroupId: number, procRoot = '/proc'): string | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('0::'));
  if (!line) return undefined;
  let rel = line.slice(3);
  if (rel.endsWith(' (deleted)')) return undefined;
  if (rel === '') rel = '/';
  try {
    const st = statSync(rel === '/' ? mount : join(mount, rel), { bigint: true });
    return Number(st.ino) === cgroupId ? rel : undefined;
  } catch {
    return undefined;
  }
}

/** Inode of a namespace link such as /proc/1/ns/mnt ("mnt:[4026531841]"), or 0. */
export function namespaceInode(link: string): number {
  try {
    return Number(statSync(link).ino);
  } catch {
    return 0;
  }
}
