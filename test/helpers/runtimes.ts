/**
 * Real container runtimes for the container e2e tests and benchmark: podman
 * (with its Docker-compatible API service), containerd (with CRI) and
 * dockerd, started as background processes of the test run and stopped by
 * the PIDs recorded at start (never by name).
 *
 * Set-up, as root on Debian (see shared notes on container runtimes):
 * installs podman, runc, containerd, docker.io, busybox-static and
 * catatonit with apt-get when missing; builds localhost/busybox:test from
 * busybox-static (no registry); makes a local pause image for CRI; writes its
 * own podman and containerd configuration under STATE_DIR (nothing in /etc).
 * A lock file keeps two test runs from driving the same sockets at once;
 * daemons a crashed earlier run left behind are stopped by their PID files.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { Agent } from 'undici';

const run = promisify(execFile);

export const STATE_DIR = '/tmp/trc-runtimes';
export const IMAGE = 'localhost/busybox:test';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.6';
/** Label on every container the tests create, so clean-up removes only those. */
export const TEST_LABEL = 'tracee-ts.test';
export const PODMAN_SOCKET = '/run/podman/podman.sock';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
export const DOCKER_SOCKET = '/run/docker.sock';

const PACKAGES = ['podman', 'runc', 'busybox-static', 'catatonit', 'containerd', 'docker.io'];
const BINARIES = ['podman', 'runc', 'busybox', 'catatonit', 'containerd', 'ctr', 'dockerd'];

const CONTAINERS_CONF = `[containers]
# root here lacks CAP_SYS_RESOURCE: podman's default nofile/nproc (1048576) would fail with EPERM
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
# crun refuses hybrid cgroup hosts whose cgroup2 still holds a controller
runtime = "runc"
`;

const CONTAINERD_TOML = `version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    # a sandbox's oom_score_adj -998 needs CAP_SYS_RESOURCE
    restrict_oom_score_adj = true
    sandbox_image = "${PAUSE_IMAGE}"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
`;

export interface RuntimeSet {
  podman: boolean;
  containerd: boolean;
  docker: boolean;
}

export interface Runtimes {
  readonly started: RuntimeSet;
  /** podman CLI with the test configuration. */
  podman(...args: string[]): Promise<string>;
  /** ctr against our containerd; first argument after the namespace flag. */
  ctr(namespace: string, ...args: string[]): Promise<string>;
  /** docker CLI against our dockerd. */
  docker(...args: string[]): Promise<string>;
  /** GET on a Docker-compatible socket, parsed JSON. */
  api(socket: string, path: string): Promise<unknown>;
  /** Removes the test's containers and stops the daemons this run started, by PID. */
  stop(): Promise<void>;
  /** Set-up timings in ms, for the benchmark. */
  readonly timings: Record<string, number>;
}

const env = () => ({ ...process.env, CONTAINERS_CONF: join(STATE_DIR, 'containers.conf') });

async function sh(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { env: env(), timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`runtimes: ${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

function which(bin: string): boolean {
  return ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin', '/usr/local/sbin'].some((d) => existsSync(join(d, bin)));
}

/** apt-get install of whatever is missing (policy-rc.d keeps docker.io from starting a dockerd of its own). */
async function ensurePackages(): Promise<void> {
  if (BINARIES.every(which)) return;
  const policy = '/usr/sbin/policy-rc.d';
  const tmpPolicy = !existsSync(policy);
  if (tmpPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const apt = ['-o', 'DPkg::Lock::Timeout=120'];
    for (let attempt = 1; ; attempt++) {
      try {
        await sh('apt-get', [...apt, 'update', '-qq'], 300_000);
        await sh('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...apt, 'install', '-y', '-qq', '--no-install-recommends', ...PACKAGES], 600_000);
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  } finally {
    if (tmpPolicy) rmSync(policy, { force: true });
  }
  const missing = BINARIES.filter((b) => !which(b));
  if (missing.length) throw new Error(`runtimes: still missing after apt-get install: ${missing.join(', ')}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, up to 10 s, then SIGKILL, for one recorded PID. */
async function stopPid(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (pid > 1 && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(pidFile, { force: true });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`runtimes: ${what} not ready within ${timeoutMs} ms (logs in ${STATE_DIR})`);
}

async function ping(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  const agent = new Agent({ connect: { socketPath: socket } });
  try {
    const r = await request('http://localhost/_ping', { dispatcher: agent, signal: AbortSignal.timeout(1000) });
    const text = await r.body.text();
    return r.statusCode === 200 && text === 'OK';
  } finally {
    await agent.destroy();
  }
}

/** Starts `cmd` in the background with its output in STATE_DIR/<name>.log and its PID in <name>.pid. */
function daemon(name: string, cmd: string, args: string[]): void {
  const log = openSync(join(STATE_DIR, `${name}.log`), 'a');
  const child = spawn(cmd, args, { env: env(), stdio: ['ignore', log, log], detached: false });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`runtimes: could not start ${cmd}`);
  writeFileSync(join(STATE_DIR, `${name}.pid`), String(child.pid));
  child.unref();
}

const LOCK = join(STATE_DIR, 'lock');

async function lock(): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return;
    } catch {
      const owner = Number(readFileSync(LOCK, 'utf8').trim() || 0);
      if (!owner || !alive(owner)) { rmSync(LOCK, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`runtimes: ${LOCK} held by live process ${owner}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function unlock(): void {
  try {
    if (readFileSync(LOCK, 'utf8').trim() === String(process.pid)) unlinkSync(LOCK);
  } catch { /* gone */ }
}

/** Daemons and test containers a crashed earlier run left behind. */
async function cleanLeftovers(): Promise<void> {
  for (const name of ['dockerd', 'podman-service', 'containerd']) {
    if (existsSync(join(STATE_DIR, `${name}.pid`))) await stopDaemonAndContainers(name);
  }
}

/** Removes the test containers of runtime `name`; with `stopDaemon` (a daemon this run or a crashed one started) stops it by PID too. */
async function stopDaemonAndContainers(name: string, stopDaemon = true): Promise<void> {
  const pidFile = join(STATE_DIR, `${name}.pid`);
  const up = !stopDaemon || (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8'))));
  if (name === 'dockerd' && up) {
    const ids = (await sh('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'ps', '-aq', '--filter', `label=${TEST_LABEL}`]).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length) await sh('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'rm', '-f', ...ids]).catch(() => '');
  }
  if (name === 'podman-service') {
    const ids = (await sh('podman', ['ps', '-aq', '--filter', `label=${TEST_LABEL}`]).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length) await sh('podman', ['rm', '-f', '-t', '0', ...ids]).catch(() => '');
  }
  if (!stopDaemon) return;
  if (name === 'containerd' && up) {
    // Our own containerd: every task in it is a test's. Kill tasks first, so their shims exit.
    const ctr = (ns: string, ...a: string[]) => sh('ctr', ['--address', CONTAINERD_SOCKET, '-n', ns, ...a]).catch(() => '');
    const namespaces = (await ctr('default', 'namespaces', 'ls', '-q')).split('\n').filter(Boolean);
    for (const ns of namespaces) {
      for (const t of (await ctr(ns, 'tasks', 'ls', '-q')).split('\n').filter(Boolean)) await ctr(ns, 'tasks', 'kill', '-s', 'SIGKILL', t);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const ns of namespaces) {
      for (const t of (await ctr(ns, 'tasks', 'ls', '-q')).split('\n').filter(Boolean)) await ctr(ns, 'tasks', 'rm', '-f', t);
      for (const c of (await ctr(ns, 'containers', 'ls', '-q')).split('\n').filter(Boolean)) await ctr(ns, 'containers', 'rm', c);
    }
  }
  await stopPid(pidFile);
  if (name === 'containerd') {
    // CRI sandbox shm mounts left when a sandbox was not removed through CRI
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m?.startsWith('/run/containerd/'));
    for (const m of mounts.sort().reverse()) await sh('umount', [m]).catch(() => '');
  }
}

/** Empty cgroup directories the cgroupfs managers leave (rmdir removes only empty ones). */
function removeEmptyCgroups(): void {
  const roots = readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h));
  const rmEmpty = (dir: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch { return; }
    for (const e of entries) rmEmpty(join(dir, e));
    try { rmdirSync(dir); } catch { /* not empty, or in use */ }
  };
  for (const root of roots) {
    try { if (!statSync(root).isDirectory()) continue; } catch { continue; }
    for (const top of ['libpod_parent', 'kubepods', 'default', 'k8s.io', 'moby', 'docker']) {
      if (existsSync(join(root, top))) rmEmpty(join(root, top));
    }
  }
}

async function buildImages(timings: Record<string, number>, want: RuntimeSet): Promise<void> {
  let t = performance.now();
  const exists = async (img: string) => (await sh('podman', ['image', 'exists', img]).then(() => true, () => false));
  if (!(await exists(IMAGE))) {
    const rootfs = join(STATE_DIR, 'rootfs');
    rmSync(rootfs, { recursive: true, force: true });
    for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
    await sh('cp', ['/bin/busybox', join(rootfs, 'bin', 'busybox')]);
    for (const applet of (await sh(join(rootfs, 'bin', 'busybox'), ['--list'])).split('\n').filter(Boolean)) {
      if (!existsSync(join(rootfs, 'bin', applet))) await sh('ln', ['-s', 'busybox', join(rootfs, 'bin', applet)]);
    }
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
    await sh('tar', ['-C', rootfs, '-cf', join(STATE_DIR, 'busybox-rootfs.tar'), '.']);
    await sh('podman', ['import', '-q', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', join(STATE_DIR, 'busybox-rootfs.tar'), IMAGE]);
  }
  timings.image = performance.now() - t;
  if (!want.containerd && !want.docker) return;
  t = performance.now();
  const archive = join(STATE_DIR, 'busybox-docker.tar');
  if (!existsSync(archive)) await sh('podman', ['save', '-q', '--format', 'docker-archive', '-o', archive, IMAGE]);
  if (want.containerd && !existsSync(join(STATE_DIR, 'pause.tar'))) {
    let pause = (await sh('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').find((l) => l.includes('podman-pause'));
    if (!pause) {
      await sh('podman', ['pod', 'create', '--name', 'trc-pause-builder']);
      await sh('podman', ['pod', 'rm', '-f', 'trc-pause-builder']);
      pause = (await sh('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').find((l) => l.includes('podman-pause'));
    }
    if (!pause) throw new Error('runtimes: podman built no pause image');
    await sh('podman', ['tag', pause, PAUSE_IMAGE]);
    await sh('podman', ['save', '-q', '--format', 'docker-archive', '-o', join(STATE_DIR, 'pause.tar'), PAUSE_IMAGE]);
  }
  timings.archives = performance.now() - t;
}

/**
 * Installs what is missing, builds the images and starts the runtimes asked
 * for. Resolves once every socket answers. Call stop() in an after() hook.
 */
export async function startRuntimes(want: RuntimeSet = { podman: true, containerd: true, docker: true }): Promise<Runtimes> {
  if (process.geteuid?.() !== 0) throw new Error('runtimes: starting container runtimes needs root');
  mkdirSync(STATE_DIR, { recursive: true });
  await lock();
  const timings: Record<string, number> = {};
  const started: RuntimeSet = { podman: false, containerd: false, docker: false };
  const stop = async () => {
    try {
      if (want.docker) await stopDaemonAndContainers('dockerd', started.docker);
      if (want.podman) await stopDaemonAndContainers('podman-service', started.podman);
      if (started.containerd) await stopDaemonAndContainers('containerd');
      removeEmptyCgroups();
    } finally {
      unlock();
    }
  };
  try {
    await cleanLeftovers();
    let t = performance.now();
    await ensurePackages();
    timings.packages = performance.now() - t;
    writeFileSync(join(STATE_DIR, 'containers.conf'), CONTAINERS_CONF);
    await buildImages(timings, want);

    if (want.podman) {
      t = performance.now();
      mkdirSync('/run/podman', { recursive: true });
      if (!(await ping(PODMAN_SOCKET))) {
        rmSync(PODMAN_SOCKET, { force: true });
        daemon('podman-service', 'podman', ['system', 'service', '--time=0', `unix://${PODMAN_SOCKET}`]);
        started.podman = true;
        await waitFor('podman API service', () => ping(PODMAN_SOCKET));
      }
      timings.podman = performance.now() - t;
    }
    if (want.containerd) {
      t = performance.now();
      const ctrUp = () => sh('ctr', ['--address', CONTAINERD_SOCKET, 'version'], 3000).then(() => true, () => false);
      if (!(await ctrUp())) {
        writeFileSync(join(STATE_DIR, 'containerd.toml'), CONTAINERD_TOML);
        daemon('containerd', 'containerd', ['--config', join(STATE_DIR, 'containerd.toml')]);
        started.containerd = true;
        await waitFor('containerd', ctrUp);
      }
      const ctr = (ns: string, ...a: string[]) => sh('ctr', ['--address', CONTAINERD_SOCKET, '-n', ns, ...a]);
      for (const ns of ['default', 'k8s.io']) {
        if (!(await ctr(ns, 'images', 'ls', '-q')).includes(IMAGE)) await ctr(ns, 'images', 'import', join(STATE_DIR, 'busybox-docker.tar'));
      }
      if (!(await ctr('k8s.io', 'images', 'ls', '-q')).includes(PAUSE_IMAGE)) await ctr('k8s.io', 'images', 'import', join(STATE_DIR, 'pause.tar'));
      timings.containerd = performance.now() - t;
    }
    if (want.docker) {
      t = performance.now();
      if (!(await ping(DOCKER_SOCKET))) {
        rmSync(DOCKER_SOCKET, { force: true });
        const args = ['--host', `unix://${DOCKER_SOCKET}`, '--iptables=false', '--ip-masq=false', '--bridge=none',
          '--storage-driver', 'overlay2', '--exec-opt', 'native.cgroupdriver=cgroupfs', '--oom-score-adjust=0',
          '--pidfile', join(STATE_DIR, 'dockerd.pidfile')];
        if (want.containerd) args.push('--containerd', CONTAINERD_SOCKET);
        daemon('dockerd', 'dockerd', args);
        started.docker = true;
        await waitFor('dockerd', () => ping(DOCKER_SOCKET), 60_000);
      }
      if (!(await sh('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'images', '-q', IMAGE])).trim()) {
        await sh('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'load', '-q', '-i', join(STATE_DIR, 'busybox-docker.tar')]);
      }
      timings.docker = performance.now() - t;
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }

  return {
    started,
    timings,
    podman: (...args) => sh('podman', args),
    ctr: (ns, ...args) => sh('ctr', ['--address', CONTAINERD_SOCKET, '-n', ns, ...args]),
    docker: (...args) => sh('docker', ['-H', `unix://${DOCKER_SOCKET}`, ...args]),
    api: async (socket, path) => {
      const agent = new Agent({ connect: { socketPath: socket } });
      try {
        const r = await request(`http://localhost${path}`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
        return await r.body.json();
      } finally {
        await agent.destroy();
      }
    },
    stop,
  };
}

/** The first line of /proc/<pid>/cgroup's cgroup2 entry, for assertions. */
export function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : '';
}
