/**
 * Runs a trigger inside a throw-away container, for signatures that select
 * container events only (TRC-1022 dropped_executable, …), with podman and
 * nothing else: no registry, no image pulled.
 *
 * The image is one file, the static trigger program, imported from a tar.
 * Everything podman and runc keep (image store, container state, locks) goes
 * in a temporary directory given with --root, --runroot, --tmpdir and runc's
 * --root, and the configuration in a temporary containers.conf (runc,
 * cgroupfs, ulimits that root here may set), so no system file is read for
 * configuration or written. The container runs with the host's pid
 * namespace (--pid=host) so the pid it reports is the one the kernel
 * events carry; it is still a container (its own cgroup, mounts, network
 * none). Privileged triggers (the container escapes) get --privileged:
 * all capabilities, the host's devices, /proc and /sys unmasked and
 * writable, as the escapes they imitate need. Afterwards the image is
 * removed, the directory deleted, the container's own cgroups
 * (`libpod_parent/libpod-<id>` in every hierarchy, which runc leaves behind
 * empty here) removed, and so are the `libpod_parent` cgroups podman
 * creates if they did not exist before.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TesterError } from './errors.ts';

const run = promisify(execFile);
const CGROUP_ROOT = '/sys/fs/cgroup';
const PODMAN_PARENT = 'libpod_parent';

const CONTAINERS_CONF = `# written by tracee-tester; used only for its own podman calls
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "runc"
`;

/** Where podman may leave a `libpod_parent` cgroup: the v2 root, or each v1 hierarchy. */
function parentCgroups(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return [join(CGROUP_ROOT, PODMAN_PARENT)];
  return readdirSync(CGROUP_ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(CGROUP_ROOT, d.name, PODMAN_PARENT));
}

export interface ContainerOptions {
  /** podman run --privileged. */
  privileged?: boolean;
}

/**
 * Runs `/trigger <action> /tmp` in a new container made from `binary`;
 * returns the trigger's stdout. Throws TesterError (podman missing, a podman
 * step failing, with its stderr).
 */
export async function runInContainer(binary: string, action: string, options: ContainerOptions = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracee-tester-podman-'));
  const existing = new Set(parentCgroups().filter((p) => existsSync(p)));
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const podman = async (args: string[], step: string): Promise<string> => {
    const global = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'libpod'),
      '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--runtime', 'runc', '--runtime-flag', `root=${join(dir, 'runc')}`,
      '--events-backend', 'none'];
    try {
      return (await run('podman', [...global, ...args], { env, maxBuffer: 1 << 20 })).stdout;
    } catch (err) {
      const e = err as { code?: string; stderr?: string; message: string };
      const why = e.code === 'ENOENT' ? 'podman is not installed' : (e.stderr?.trim() || e.message);
      throw new TesterError('TRC_ERR_TESTER_CONTAINER', `tester: container: ${step}: ${why}`, { cause: err });
    }
  };
  const image = 'localhost/tracee-tester:trigger';
  const cidFile = join(dir, 'cid');
  try {
    await writeFile(join(dir, 'containers.conf'), CONTAINERS_CONF);
    const rootfs = join(dir, 'rootfs');
    for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc']) await mkdir(join(rootfs, d), { recursive: true });
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await copyFile(binary, join(rootfs, 'trigger'));
    await chmod(join(rootfs, 'trigger'), 0o755);
    await run('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
    await podman(['import', '--quiet', join(dir, 'rootfs.tar'), image], 'import the image');
    return await podman(['run', '--rm', '--cidfile', cidFile, '--network=none', '--pid=host', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768',
      ...(options.privileged ? ['--privileged'] : []), image, '/trigger', action, '/tmp'],
    `run /trigger ${action}${options.privileged ? ' (privileged)' : ''}`);
  } finally {
    const id = (await readFile(cidFile, 'utf8').catch(() => '')).trim();
    await podman(['rmi', '--all', '--force'], 'remove the image').catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    for (const p of parentCgroups()) {
      // rmdir removes only an empty cgroup: one still holding processes stays.
      if (/^[0-9a-f]{64}$/.test(id) && existsSync(join(p, `libpod-${id}`))) {
        try { rmdirSync(join(p, `libpod-${id}`)); } catch { /* not empty yet: leave it */ }
      }
      if (existing.has(p) || !existsSync(p)) continue;
      try { rmdirSync(p); } catch { /* in use by another container: leave it */ }
    }
  }
}
