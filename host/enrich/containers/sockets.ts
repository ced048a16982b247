/**
 * Runtime sockets: Tracee's default paths, the user's explicit ones
 * (`--cri runtime:socket`, `container.<runtime>.socket=path`,
 * `sockets.<runtime>=path`), and turning them into clients. A socket that is
 * not there is skipped with one line; it never stops capture.
 */
import { statSync } from 'node:fs';
import { InvalidArgumentError } from '../../errors.ts';
import type { RuntimeKind } from './cgroup-path.ts';
import type { RuntimeClient } from './runtime.ts';
import { DockerClient } from './docker-client.ts';
import { ContainerdClient } from './containerd-client.ts';
import { CriClient } from './cri-client.ts';

export interface RuntimeSocket {
  runtime: RuntimeKind;
  socket: string;
}

/** Where Tracee looks when no socket is given (pkg/containers/runtime/sockets.go). */
export const DEFAULT_SOCKETS: readonly RuntimeSocket[] = [
  { runtime: 'docker', socket: '/var/run/docker.sock' },
  { runtime: 'containerd', socket: '/var/run/containerd/containerd.sock' },
  { runtime: 'crio', socket: '/var/run/crio/crio.sock' },
  { runtime: 'podman', socket: '/var/run/podman/podman.sock' },
];

const NAMES: Record<string, RuntimeKind> = {
  docker: 'docker', containerd: 'containerd', crio: 'crio', 'cri-o': 'crio', podman: 'podman',
};

/** A runtime name as Tracee accepts it (crio and cri-o are the same). */
export function parseRuntimeName(name: string, flag: string): RuntimeKind {
  const r = NAMES[name.trim().toLowerCase()];
  if (!r) throw new InvalidArgumentError(`${flag}: unknown container runtime "${name}" (supported: docker, containerd, crio, podman)`);
  return r;
}

function absolutePath(path: string, flag: string, what = 'socket path'): string {
  const p = path.trim().replace(/^unix:\/\//, '');
  if (!p.startsWith('/')) throw new InvalidArgumentError(`${flag}: ${what} "${path}" must be absolute`);
  return p;
}

/** `--cri runtime:socket` (Tracee ≤ v0.20), e.g. "containerd:/var/run/containerd/containerd.sock". */
export function parseCriFlag(value: string): RuntimeSocket {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError(`--cri ${value}: expected runtime:socket, e.g. containerd:/var/run/containerd/containerd.sock`);
  const flag = `--cri ${value}`;
  return { runtime: parseRuntimeName(value.slice(0, colon), flag), socket: absolutePath(value.slice(colon + 1), flag) };
}

/** What container enrichment options a flag value asks for; see parseEnrichmentFlag / parseContainersFlag. */
export interface ContainerFlagResult {
  enable?: boolean;
  socket?: RuntimeSocket;
  cgroupfsPath?: string;
  cgroupfsForce?: boolean;
}

/**
 * One `--enrichment` value (Tracee's current flag): "container" enables,
 * "container.<runtime>.socket=<path>" gives a socket (and enables). Returns
 * undefined for values about other enrichments, which the CLI handles.
 */
export function parseEnrichmentFlag(value: string): ContainerFlagResult | undefined {
  if (value === 'container' || value === 'container=true' || value === 'container.enabled=true') return { enable: true };
  if (value === 'container=false' || value === 'container.enabled=false') return { enable: false };
  const m = /^container\.([a-z-]+)\.socket=(.*)$/.exec(value);
  if (m) {
    const flag = `--enrichment ${value}`;
    return { enable: true, socket: { runtime: parseRuntimeName(m[1], flag), socket: absolutePath(m[2], flag) } };
  }
  if (value.startsWith('container')) throw new InvalidArgumentError(`--enrichment ${value}: expected container or container.<runtime>.socket=<path>`);
  return undefined;
}

/** One `--containers` value (Tracee v0.24): enrich=, sockets.<runtime>=, cgroupfs.path=, cgroupfs.force=. */
export function parseContainersFlag(value: string): ContainerFlagResult {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  const v = eq < 0 ? '' : value.slice(eq + 1);
  const flag = `--containers ${value}`;
  const bool = (): boolean => {
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw new InvalidArgumentError(`${flag}: expected true or false`);
  };
  if (key === 'enrich') return { enable: bool() };
  if (key.startsWith('sockets.')) return { socket: { runtime: parseRuntimeName(key.slice('sockets.'.length), flag), socket: absolutePath(v, flag) } };
  if (key === 'cgroupfs.path') return { cgroupfsPath: absolutePath(v, flag, 'cgroupfs path') };
  if (key === 'cgroupfs.force') return { cgroupfsForce: bool() };
  throw new InvalidArgumentError(`${flag}: expected enrich=true|false, sockets.<runtime>=<path>, cgroupfs.path=<path> or cgroupfs.force=true|false`);
}

/** CONTAINERS_ENRICHMENT=1 (or true/yes) in the environment, as in Tracee's container image. */
export function enrichmentFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.CONTAINERS_ENRICHMENT ?? '');
}

export interface ClientOptions {
  timeoutMs?: number;
}

/** A client for one socket (no I/O happens until the first look-up). */
export function clientFor(s: RuntimeSocket, options: ClientOptions = {}): RuntimeClient {
  switch (s.runtime) {
    case 'docker':
    case 'podman':
      return new DockerClient(s.runtime, s.socket, options);
    case 'containerd':
      return new ContainerdClient(s.socket, options);
    case 'crio':
      return new CriClient('crio', s.socket, options);
  }
}

/**
 * Clients for the sockets that exist: the explicit ones when given (then no
 * auto-discovery, as in Tracee), else Tracee's default paths. Every socket
 * that is missing or not a socket costs one line through `log`.
 */
export function connectRuntimes(explicit: readonly RuntimeSocket[], log: (line: string) => void, options: ClientOptions = {}): RuntimeClient[] {
  const wanted = explicit.length > 0 ? explicit : DEFAULT_SOCKETS;
  const out: RuntimeClient[] = [];
  const seen = new Set<string>();
  for (const s of wanted) {
    const key = `${s.runtime} ${s.socket}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let isSocket = false;
    try {
      isSocket = statSync(s.socket).isSocket();
    } catch {
      log(`containers: ${s.runtime}: no socket at ${s.socket}, skipped`);
      continue;
    }
    if (!isSocket) {
      log(`containers: ${s.runtime}: ${s.socket} is not a unix socket, skipped`);
      continue;
    }
    out.push(clientFor(s, options));
  }
  return out;
}

/** The container flags of the CLI, as given (the CLI only collects them). */
export interface ContainerFlags {
  /** `--containers` alone (true), or its values (enrich=…, sockets.<runtime>=…, cgroupfs.…); an empty list is "not given". */
  containers?: boolean | readonly string[];
  /** `-E` / `--enrichment` values; those not about containers are ignored. */
  enrichment?: readonly string[];
  /** `--cri runtime:socket` values. */
  cri?: readonly string[];
  /** Environment for CONTAINERS_ENRICHMENT. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface ContainerConfig {
  enabled: boolean;
  /** Explicit sockets (empty: auto-discovery at DEFAULT_SOCKETS). */
  sockets: RuntimeSocket[];
  cgroupfsPath?: string;
}

/**
 * Enrichment is on with `--containers`, `-E container`, `--enrichment
 * container[.<runtime>.socket=…]`, `--containers enrich=true`, a `--cri`
 * socket, or CONTAINERS_ENRICHMENT=1; an explicit `enrich=false` /
 * `container=false` turns it off. Throws InvalidArgumentError on a bad value.
 */
export function containerConfig(flags: ContainerFlags): ContainerConfig {
  const out: ContainerConfig = { enabled: enrichmentFromEnv(flags.env ?? process.env), sockets: [] };
  let explicitOff = false;
  const take = (r: ContainerFlagResult | undefined) => {
    if (!r) return;
    if (r.enable === true) out.enabled = true;
    if (r.enable === false) explicitOff = true;
    if (r.socket) { out.sockets.push(r.socket); out.enabled = true; }
    if (r.cgroupfsPath) out.cgroupfsPath = r.cgroupfsPath;
  };
  if (flags.containers === true) out.enabled = true;
  else if (Array.isArray(flags.containers)) {
    for (const v of flags.containers) {
      // a bare --containers collected as "" or "true" by the CLI
      if (v === '' || v === 'true') out.enabled = true;
      else take(parseContainersFlag(v));
    }
  }
  for (const v of flags.enrichment ?? []) for (const part of v.split(',')) take(parseEnrichmentFlag(part.trim()));
  for (const v of flags.cri ?? []) take({ enable: true, socket: parseCriFlag(v) });
  if (explicitOff) out.enabled = false;
  return out;
}
