/**
 * Container enrichment end to end, with real runtimes started by the test
 * (test/helpers/runtimes.ts: podman + its API service, containerd with CRI,
 * dockerd) and real capture (KernelCapture, sched_process_exec, plus
 * cgroup_mkdir/cgroup_rmdir when the kernel side has them).
 *
 * A process in a podman, a ctr (plain containerd), a dockerd and a CRI
 * container (and the CRI pod's sandbox) produces events whose container{}
 * and kubernetes{} fields are what that runtime reports, through its own
 * CLI; host processes are never reported as containers; and runtimes that
 * are down, hung or answer garbage cost only enrichment and are counted.
 *
 * Needs root, a built addon and kernel object (npm run build), Debian apt for
 * the runtimes. It fails (never skips) when a prerequisite is missing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventByName } from '../../host/events/catalogue.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';
import { DEFAULT_OBJECT_PATH, KernelCapture, probeKernel } from '../../host/capture/addon.ts';
import { ContainerEnricher, ContainersDataSource, type ContainerEnricherOptions } from '../../host/enrich/containers/index.ts';
import { GrpcChannel } from '../../host/enrich/containers/grpc-channel.ts';
import {
  CONTAINERD_SOCKET, DOCKER_SOCKET, IMAGE, PODMAN_SOCKET, TEST_LABEL, startRuntimes, type Runtimes,
} from '../helpers/runtimes.ts';

const SCHED_PROCESS_EXEC = eventByName('sched_process_exec')!.id;
const CRI = 'runtime.v1.RuntimeService';
const POD_UID = '33333333-4444-5555-6666-777777777777';
const K8S_LABELS = (pod: string, ns: string, uid: string, container: string) => ({
  'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.namespace': ns, 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': container,
});
/** A container command that execs /bin/busybox with a marker argument every 200 ms. */
const loop = (marker: string) => ['sh', '-c', `while :; do /bin/busybox echo ${marker} >/dev/null; sleep 0.2; done`];

function prerequisites(): void {
  assert.equal(process.geteuid?.(), 0, 'the container e2e test must run as root (eBPF capture, container runtimes)');
  assert.ok(existsSync(DEFAULT_OBJECT_PATH), `${DEFAULT_OBJECT_PATH} missing: run npm run build`);
  const missing = probeKernel().filter((m) => /every event|sched_process_exec/.test(m) || !/\(/.test(m));
  assert.deepEqual(missing, [], `kernel features missing:\n${missing.join('\n')}`);
}

/** Capture of exec events (and cgroup events when the kernel side has them), through an enricher. */
class Session {
  readonly events: TraceeEvent[] = [];
  readonly enricher: ContainerEnricher;
  readonly cgroupEvents: boolean;
  readonly log: string[];
  #capture: KernelCapture;

  private constructor(enricher: ContainerEnricher, capture: KernelCapture, cgroupEvents: boolean, log: string[]) {
    this.enricher = enricher;
    this.log = log;
    this.#capture = capture;
    this.cgroupEvents = cgroupEvents;
  }

  static async start(options: ContainerEnricherOptions): Promise<Session> {
    const log: string[] = [];
    const enricher = new ContainerEnricher({ ...options, log: (l) => log.push(l) });
    let capture: KernelCapture;
    let cgroupEvents = true;
    try {
      capture = KernelCapture.open({ objectPath: DEFAULT_OBJECT_PATH, eventIds: [SCHED_PROCESS_EXEC, ...ContainerEnricher.eventIds] });
    } catch {
      // The kernel side has no cgroup_mkdir/cgroup_rmdir yet: cgroups are found from /proc and the start-up walk.
      cgroupEvents = false;
      capture = KernelCapture.open({ objectPath: DEFAULT_OBJECT_PATH, eventIds: [SCHED_PROCESS_EXEC] });
    }
    const s = new Session(enricher, capture, cgroupEvents, log);
    await enricher.start();
    capture.start(enricher.stage((batch) => {
      const header = readBatchHeader(batch);
      forEachRecord(batch, header, (off) => {
        const e = decodeEvent(batch, off, header, { containers: enricher.containerTable });
        if (e.eventName === 'sched_process_exec') s.events.push(e);
      });
    }));
    return s;
  }

  /** Exec events of /bin/busybox with `marker` as its second argument. */
  marked(marker: string): TraceeEvent[] {
    return this.events.filter((e) => (e.args.find((a) => a.name === 'argv')?.value as string[] | undefined)?.[2] === marker
      || (e.args.find((a) => a.name === 'argv')?.value as string[] | undefined)?.[1] === marker);
  }

  async waitFor(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) {
        throw new Error(`${what}: not seen within ${timeoutMs} ms; stats ${JSON.stringify(this.enricher.stats)}; log ${JSON.stringify(this.log)}; `
          + `${this.events.length} exec events, containers seen: ${JSON.stringify([...new Set(this.events.map((e) => e.containerId))])}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.#capture.stop();
    await this.enricher.close();
  }
}

/** Every container id the runtimes know right now (all namespaces). */
async function allContainerIds(rt: Runtimes): Promise<Set<string>> {
  const ids = new Set<string>();
  const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const id of lines(await rt.podman('ps', '-a', '-q', '--no-trunc'))) ids.add(id);
  for (const id of lines(await rt.docker('ps', '-a', '-q', '--no-trunc'))) ids.add(id);
  for (const ns of lines(await rt.ctr('default', 'namespaces', 'ls', '-q'))) {
    for (const id of lines(await rt.ctr(ns, 'containers', 'ls', '-q'))) ids.add(id);
  }
  return ids;
}

describe('container enrichment with real runtimes', () => {
  let rt: Runtimes | undefined;
  let cri: GrpcChannel | undefined;
  let sandboxId = '';
  let dir: string;
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trc-ct-e2e-'));
  });

  after(async () => {
    if (cri && sandboxId) {
      await cri.call(CRI, 'StopPodSandbox', { podSandboxId: sandboxId }).catch(() => null);
      await cri.call(CRI, 'RemovePodSandbox', { podSandboxId: sandboxId }).catch(() => null);
    }
    cri?.close();
    if (rt) {
      await rt.ctr('default', 'tasks', 'kill', '-s', 'SIGKILL', 'trc-ctr').catch(() => '');
      await new Promise((r) => setTimeout(r, 200));
      await rt.ctr('default', 'tasks', 'rm', '-f', 'trc-ctr').catch(() => '');
      await rt.ctr('default', 'containers', 'rm', 'trc-ctr').catch(() => '');
      await rt.stop();
    }
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports what podman, containerd (ctr and CRI) and dockerd report for events from their containers, and nothing for the host', async () => {
    prerequisites();
    rt = await startRuntimes();
    // One container runs before tracee starts (found by the start-up walk), the others start while capturing.
    const pre = (await rt.podman('run', '-d', '--network=none', '--name', 'trc-podman-pre', '--label', `${TEST_LABEL}=1`, IMAGE, ...loop('trcmark-pre'))).trim();

    const s = await Session.start({ sockets: [
      { runtime: 'podman', socket: PODMAN_SOCKET }, { runtime: 'containerd', socket: CONTAINERD_SOCKET }, { runtime: 'docker', socket: DOCKER_SOCKET },
    ] });
    try {
      const podman = (await rt.podman('run', '-d', '--network=none', '--name', 'trc-podman', '--label', `${TEST_LABEL}=1`,
        ...Object.entries(K8S_LABELS('mypod', 'default', '11111111-2222-3333-4444-555555555555', 'app')).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        IMAGE, ...loop('trcmark-podman'))).trim();
      await rt.ctr('default', 'run', '-d', '--label', `${TEST_LABEL}=1`, '--label', 'io.kubernetes.pod.name=ctrpod', IMAGE, 'trc-ctr', ...loop('trcmark-ctr'));
      const docker = (await rt.docker('run', '-d', '--network=none', '--name', 'trc-docker', '--label', `${TEST_LABEL}=1`,
        ...Object.entries(K8S_LABELS('dpod', 'dns', '22222222-3333-4444-5555-666666666666', 'dapp')).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        IMAGE, ...loop('trcmark-docker'))).trim();

      // CRI: a pod sandbox and one container in it, as a kubelet would ask.
      cri = new GrpcChannel('containerd', CONTAINERD_SOCKET, 10_000);
      const sandboxConfig = {
        metadata: { name: 'cri-pod', uid: POD_UID, namespace: 'cri-ns', attempt: 0 },
        hostname: '', logDirectory: '',
        labels: { 'io.kubernetes.pod.name': 'cri-pod', 'io.kubernetes.pod.namespace': 'cri-ns', 'io.kubernetes.pod.uid': POD_UID, [TEST_LABEL]: '1' },
        linux: { cgroupParent: `/kubepods/besteffort/pod${POD_UID}`, securityContext: { namespaceOptions: { network: 'NODE' } } },
      };
      sandboxId = (await cri.call<{ podSandboxId: string }>(CRI, 'RunPodSandbox', { config: sandboxConfig }))!.podSandboxId;
      const criId = (await cri.call<{ containerId: string }>(CRI, 'CreateContainer', {
        podSandboxId: sandboxId, sandboxConfig,
        config: { metadata: { name: 'app', attempt: 0 }, image: { image: IMAGE }, command: loop('trcmark-cri'), labels: K8S_LABELS('cri-pod', 'cri-ns', POD_UID, 'app'), logPath: '' },
      }))!.containerId;
      await cri.call(CRI, 'StartContainer', { containerId: criId });

      // A host process with the same kind of marker.
      await promisify(execFile)('/bin/busybox', ['echo', 'trcmark-host']);

      const named = (marker: string) => () => s.marked(marker).some((e) => e.container.name !== undefined && (e.container.image ?? '') !== '');
      for (const m of ['trcmark-pre', 'trcmark-podman', 'trcmark-ctr', 'trcmark-docker', 'trcmark-cri']) await s.waitFor(m, named(m));
      await s.waitFor('trcmark-host', () => s.marked('trcmark-host').length > 0);
      await s.waitFor('the CRI sandbox', () => s.events.some((e) => e.containerId === sandboxId && e.kubernetes.podSandbox === true));

      const last = (marker: string) => s.marked(marker).filter((e) => (e.container.image ?? '') !== '').at(-1)!;

      // podman, as `podman inspect` and `podman image inspect` report it
      for (const [marker, id] of [['trcmark-pre', pre], ['trcmark-podman', podman]]) {
        const e = last(marker);
        const [name]: string[] = (await rt.podman('inspect', '--format', '{{.Name}}', id)).trim().split('\n');
        const [tag, digest]: string[] = (await rt.podman('image', 'inspect', '--format', '{{index .RepoTags 0}}|{{index .RepoDigests 0}}', IMAGE)).trim().split('|');
        assert.deepEqual(e.container, { id, name: name.replace(/^\//, ''), image: tag, imageDigest: digest }, marker);
        assert.equal(e.containerId, id);
        assert.equal(e.contextFlags.containerStarted, true, `${marker}: containerStarted`);
      }
      assert.deepEqual(last('trcmark-podman').kubernetes,
        { podName: 'mypod', podNamespace: 'default', podUID: '11111111-2222-3333-4444-555555555555', podSandbox: false });
      assert.deepEqual(last('trcmark-pre').kubernetes, {}, 'no pod labels: no kubernetes fields');

      // ctr (plain containerd, /default/trc-ctr): as `ctr containers info` and `ctr images ls` report it
      {
        const e = last('trcmark-ctr');
        const info = JSON.parse(await rt.ctr('default', 'containers', 'info', 'trc-ctr')) as { ID: string; Image: string; Labels: Record<string, string> };
        const digest = (await rt.ctr('default', 'images', 'ls')).split('\n').find((l) => l.startsWith(IMAGE + ' '))!.split(/\s+/)[2];
        assert.deepEqual(e.container, { id: info.ID, name: info.Labels['io.kubernetes.container.name'] ?? '', image: info.Image, imageDigest: `localhost/busybox@${digest}` });
        assert.equal(e.kubernetes.podName, info.Labels['io.kubernetes.pod.name']);
        assert.equal(e.contextFlags.containerStarted, true);
      }

      // dockerd: as `docker inspect` / `docker image inspect` report it (docker load leaves RepoDigests empty)
      {
        const e = last('trcmark-docker');
        const name = (await rt.docker('inspect', '--format', '{{.Name}}', docker)).trim();
        const tag = (await rt.docker('image', 'inspect', '--format', '{{index .RepoTags 0}}', IMAGE)).trim();
        const digests = (await rt.docker('image', 'inspect', '--format', '{{json .RepoDigests}}', IMAGE)).trim();
        assert.deepEqual(e.container, { id: docker, name: name.replace(/^\//, ''), image: tag, imageDigest: (JSON.parse(digests) as string[])[0] ?? '' });
        assert.deepEqual(e.kubernetes, { podName: 'dpod', podNamespace: 'dns', podUID: '22222222-3333-4444-5555-666666666666', podSandbox: false });
        assert.equal(e.contextFlags.containerStarted, true);
      }

      // CRI: as ContainerStatus / PodSandboxStatus report it
      {
        const e = last('trcmark-cri');
        const st = (await cri.call<{ status: { metadata: { name: string }; image: { image: string }; labels: Record<string, string> } }>(CRI, 'ContainerStatus', { containerId: criId }))!.status;
        const pod = (await cri.call<{ status: { metadata: { name: string; uid: string; namespace: string } } }>(CRI, 'PodSandboxStatus', { podSandboxId: sandboxId }))!.status;
        assert.equal(e.containerId, criId);
        assert.equal(e.container.name, st.metadata.name);
        assert.equal(e.container.image, st.image.image);
        assert.match(e.container.imageDigest ?? '', /^localhost\/busybox@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(e.kubernetes, { podName: pod.metadata.name, podNamespace: pod.metadata.namespace, podUID: pod.metadata.uid, podSandbox: false });
        const sandbox = s.events.find((x) => x.containerId === sandboxId)!;
        assert.deepEqual(sandbox.kubernetes, { podName: 'cri-pod', podNamespace: 'cri-ns', podUID: POD_UID, podSandbox: true });
      }

      // Host processes are never containers; no event names an id the runtimes do not know.
      for (const e of s.marked('trcmark-host')) {
        assert.equal(e.containerId, '', 'host process reported as a container');
        assert.equal(e.contextFlags.containerStarted, false);
      }
      const known = await allContainerIds(rt);
      const strangers = [...new Set(s.events.map((e) => e.containerId).filter((id) => id !== '' && !known.has(id)))];
      assert.deepEqual(strangers, [], 'every reported container id is a container a runtime knows');
      const hostExecs = s.events.filter((e) => e.containerId === '');
      assert.ok(hostExecs.length > 0, 'host exec events seen');
      assert.ok(s.enricher.stats.resolved > 0 && s.enricher.stats.errors === 0, JSON.stringify(s.enricher.stats));
      assert.equal(s.enricher.stats.badBatches, 0);

      // The containers data source answers for a live container; after its cgroup is removed
      // (cgroup_rmdir from the kernel) the cache entry is evicted.
      const source = new ContainersDataSource(s.enricher);
      assert.deepEqual(source.get(docker), {
        container_id: docker, container_ctime: source.get(docker)!.container_ctime, container_name: 'trc-docker', container_image: IMAGE,
        k8s_pod_id: '22222222-3333-4444-5555-666666666666', k8s_pod_name: 'dpod', k8s_pod_namespace: 'dns', k8s_pod_sandbox: false,
      });
      const ctime = Number(source.get(docker)!.container_ctime / 1_000_000n);
      assert.ok(Math.abs(ctime - Date.now()) < 120_000, `container_ctime ${ctime} is the cgroup's creation time`);
      if (s.cgroupEvents) {
        await rt.docker('rm', '-f', docker);
        await s.waitFor('eviction of the removed container', () => source.get(docker) === undefined, 10_000);
        assert.ok(s.enricher.stats.evicted >= 1);
      }
      console.log(`# cgroup events from the kernel: ${s.cgroupEvents}; stats ${JSON.stringify(s.enricher.stats)}`);
    } finally {
      await s.stop();
    }
  });

  it('costs only enrichment, counted, when runtimes are down, hung or answer garbage', async () => {
    prerequisites();
    assert.ok(rt, 'runtimes were started by the previous test');
    const hung = join(dir, 'hung.sock');
    const garbage = join(dir, 'garbage.sock');
    const dead = join(dir, 'dead.sock');
    const silent = createServer((c) => { sockets.push(c); });
    const noise = createServer((c) => { sockets.push(c); c.on('data', () => c.write('\x00\x00\x04garbage, not HTTP or HTTP/2\r\n\r\n')); });
    const gone = createServer();
    servers.push(silent, noise);
    await Promise.all([[silent, hung], [noise, garbage], [gone, dead]].map(([srv, p]) => new Promise<void>((r) => (srv as Server).listen(p as string, () => r()))));
    await new Promise<void>((r) => gone.close(() => r()));

    const s = await Session.start({
      sockets: [{ runtime: 'podman', socket: hung }, { runtime: 'docker', socket: garbage }, { runtime: 'containerd', socket: dead }],
      requestTimeoutMs: 300, maxWaitMs: 100, retryMs: 60_000,
    });
    try {
      const id = (await rt.podman('run', '-d', '--network=none', '--name', 'trc-podman-broken', '--label', `${TEST_LABEL}=1`, IMAGE, ...loop('trcmark-broken'))).trim();
      const t0 = Date.now();
      await s.waitFor('events from the container', () => s.marked('trcmark-broken').length >= 3);
      await promisify(execFile)('/bin/busybox', ['echo', 'trcmark-host2']);
      const hostAt = Date.now();
      await s.waitFor('host events', () => s.marked('trcmark-host2').length > 0, 3000);
      assert.ok(Date.now() - hostAt < 2000, `host events not stalled (${Date.now() - hostAt} ms)`);
      for (const e of s.marked('trcmark-broken')) {
        assert.equal(e.containerId, id, 'the id from the cgroup path still goes out');
        assert.deepEqual(e.container, { id, name: '', image: '', imageDigest: '' });
      }
      const st = s.enricher.stats;
      assert.ok(st.errors >= 2, `hung podman and garbage docker counted: ${JSON.stringify(st)}`);
      assert.ok(st.unresolved >= 3, `events that went out with the id only are counted: ${JSON.stringify(st)}`);
      assert.equal(st.resolved, 0);
      assert.ok(Date.now() - t0 < 15_000);
      assert.ok(s.log.some((l) => /podman at .*hung\.sock.*no answer within 300 ms/.test(l)), s.log.join('\n'));
      assert.ok(s.log.some((l) => /docker at .*garbage\.sock/.test(l)), s.log.join('\n'));
    } finally {
      await s.stop();
      await rt.podman('rm', '-f', '-t', '0', 'trc-podman-broken').catch(() => '');
    }
  });
});
