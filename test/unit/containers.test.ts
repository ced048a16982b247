/**
 * Container enrichment without real runtimes: path shapes, flag parsing, and
 * the enrichment stage against a fake cgroup filesystem (directories in a
 * temporary dir, whose inode numbers play the cgroup ids), a fake /proc and
 * in-memory runtime clients that can be slow or fail.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';
import {
  ContainerEnricher, ContainersDataSource, RuntimeError, containerConfig, parseCgroupPath, parseContainersFlag, parseCriFlag,
  parseEnrichmentFlag, plainContainerdCandidate, regoContainersBuiltin, type ContainerMetadata, type RuntimeClient, type RuntimeKind,
} from '../../host/enrich/containers/index.ts';
import { traceeEvent } from '../helpers/events.ts';

const ID1 = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);
const ID3 = 'c'.repeat(64);
const POD_UID = '11111111-2222-3333-4444-555555555555';
const HOST_MNT = 4026531841;
const CONTAINER_MNT = 4026532999;

describe('cgroup path shapes', () => {
  const cases: Array<[string, ReturnType<typeof parseCgroupPath>]> = [
    [`/libpod_parent/libpod-${ID1}`, { id: ID1, runtime: 'podman' }],
    [`/libpod_parent/${ID2}/libpod-${ID1}`, { id: ID1, runtime: 'podman' }],
    [`/kubepods/besteffort/pod${POD_UID}/libpod-${ID1}`, { id: ID1, runtime: 'podman', podUid: POD_UID }],
    [`/docker/${ID1}`, { id: ID1, runtime: 'docker' }],
    [`/actions_job/${ID1}`, { id: ID1, runtime: 'docker' }],
    [`/system.slice/docker-${ID1}.scope`, { id: ID1, runtime: 'docker' }],
    [`/machine.slice/libpod-${ID1}.scope`, { id: ID1, runtime: 'podman' }],
    [`/machine.slice/libpod-${ID1}.scope/container`, { id: ID1, runtime: 'podman' }],
    [`/kubepods/besteffort/pod${POD_UID}/${ID1}`, { id: ID1, podUid: POD_UID }],
    [`/kubepods/pod${POD_UID}/${ID1}`, { id: ID1, podUid: POD_UID }],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID.replace(/-/g, '_')}.slice/cri-containerd-${ID1}.scope`,
      { id: ID1, runtime: 'containerd', podUid: POD_UID }],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replace(/-/g, '_')}.slice/crio-${ID1}.scope`,
      { id: ID1, runtime: 'crio', podUid: POD_UID }],
    [`/system.slice/containerd.service/kubepods-besteffort-pod${POD_UID.replace(/-/g, '_')}.slice:cri-containerd:${ID1}`,
      { id: ID1, runtime: 'containerd' }],
    [`/docker/${ID1}/docker/${ID2}`, { id: ID2, runtime: 'docker' }],
  ];
  for (const [path, want] of cases) {
    it(`reads ${path.replace(/[0-9a-f]{64}/g, '<id>')}`, () => assert.deepEqual(parseCgroupPath(path), want));
  }

  const hosts = [
    '/', '/process_api/80f2fe0120095e63aa069fe61d05e81f', '/libpod_parent/conmon', `/libpod_parent/${ID1}`,
    `/machine.slice/libpod-conmon-${ID1}.scope`, `/system.slice/crio-conmon-${ID1}.scope`, '/system.slice/sshd.service',
    `/user.slice/${ID1}`, `/kubepods/besteffort/pod${POD_UID}`, `/docker/${ID1.slice(0, 63)}`, `/docker/${ID1.toUpperCase()}`,
    '/default/ctr-test2',
  ];
  for (const path of hosts) {
    it(`leaves host cgroup ${path.replace(/[0-9a-f]{64}/g, '<id>')} alone`, () => assert.equal(parseCgroupPath(path), undefined));
  }

  it('takes /<namespace>/<id> as a containerd candidate only for a namespace containerd has', () => {
    const ns = new Set(['default', 'k8s.io']);
    assert.deepEqual(plainContainerdCandidate('/default/ctr-test2', ns), { namespace: 'default', id: 'ctr-test2' });
    assert.equal(plainContainerdCandidate('/process_api/80f2fe0120095e63aa069fe61d05e81f', ns), undefined);
    assert.equal(plainContainerdCandidate('/default/ctr/sub', ns), undefined);
    assert.equal(plainContainerdCandidate('/default', ns), undefined);
  });
});

describe('container flags', () => {
  it('reads --cri, --enrichment container.<runtime>.socket and --containers sockets.<runtime>', () => {
    assert.deepEqual(parseCriFlag('crio:/var/run/crio/crio.sock'), { runtime: 'crio', socket: '/var/run/crio/crio.sock' });
    assert.deepEqual(parseCriFlag('cri-o:unix:///x.sock'), { runtime: 'crio', socket: '/x.sock' });
    assert.deepEqual(parseEnrichmentFlag('container.docker.socket=/var/run/docker.sock'),
      { enable: true, socket: { runtime: 'docker', socket: '/var/run/docker.sock' } });
    assert.deepEqual(parseEnrichmentFlag('container'), { enable: true });
    assert.equal(parseEnrichmentFlag('dns-cache'), undefined);
    assert.deepEqual(parseContainersFlag('sockets.podman=/run/podman/podman.sock'), { socket: { runtime: 'podman', socket: '/run/podman/podman.sock' } });
    assert.deepEqual(parseContainersFlag('cgroupfs.path=/sys/fs/cgroup'), { cgroupfsPath: '/sys/fs/cgroup' });
  });

  it('rejects bad values with the value in the message', () => {
    assert.throws(() => parseCriFlag('rkt:/x.sock'), (e: Error & { code?: string }) => e.code === 'TRC_ERR_INVALID_ARGUMENT' && /rkt/.test(e.message));
    assert.throws(() => parseCriFlag('docker'), /runtime:socket/);
    assert.throws(() => parseCriFlag('docker:relative.sock'), /absolute/);
    assert.throws(() => parseEnrichmentFlag('container.docker.sock=/x'), /container\.docker\.sock=\/x/);
    assert.throws(() => parseContainersFlag('enrich=maybe'), /true or false/);
  });

  it('turns enrichment on from any of the flags or CONTAINERS_ENRICHMENT=1, off with enrich=false', () => {
    assert.equal(containerConfig({ env: {} }).enabled, false);
    assert.equal(containerConfig({ env: { CONTAINERS_ENRICHMENT: '1' } }).enabled, true);
    assert.equal(containerConfig({ containers: true, env: {} }).enabled, true);
    assert.equal(containerConfig({ containers: [], enrichment: [], cri: [], env: {} }).enabled, false, 'flags not given');
    assert.equal(containerConfig({ enrichment: ['container'], env: {} }).enabled, true);
    assert.equal(containerConfig({ containers: ['enrich=false'], env: { CONTAINERS_ENRICHMENT: '1' } }).enabled, false);
    assert.deepEqual(containerConfig({ cri: ['containerd:/run/containerd/containerd.sock'], env: {} }),
      { enabled: true, sockets: [{ runtime: 'containerd', socket: '/run/containerd/containerd.sock' }] });
  });
});

/** An in-memory runtime: answers from `known`, optionally slowly or with an error. */
class FakeRuntime implements RuntimeClient {
  calls: string[] = [];
  delayMs = 0;
  fail: RuntimeError | null = null;
  nsList: string[] | undefined;
  constructor(readonly runtime: RuntimeKind, readonly known: Map<string, Partial<ContainerMetadata>>, readonly socket = `/fake/${runtime}.sock`) {}
  async inspect(id: string): Promise<ContainerMetadata | null> {
    this.calls.push(id);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw this.fail;
    const m = this.known.get(id);
    return m ? { id, name: '', image: '', imageDigest: '', podName: '', podNamespace: '', podUID: '', podSandbox: false, ...m } : null;
  }
  async close(): Promise<void> {}
}

class FakeContainerd extends FakeRuntime {
  constructor(known: Map<string, Partial<ContainerMetadata>>, readonly nsNames: string[]) { super('containerd', known); }
  async namespaces(): Promise<string[]> { return this.nsNames; }
}

interface Fixture {
  root: string;
  mount: string;
  proc: string;
  ids: Record<string, number>;
}

/** A fake cgroup2 tree and /proc; `ids[path]` is the cgroup id (inode) of each directory. */
function fixture(paths: string[]): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'trc-cg-'));
  const mount = join(root, 'cgroup');
  const proc = join(root, 'proc');
  mkdirSync(mount);
  mkdirSync(proc);
  const ids: Record<string, number> = { '/': Number(statSync(mount, { bigint: true }).ino) };
  for (const p of paths) addCgroup({ root, mount, proc, ids }, p);
  return { root, mount, proc, ids };
}

function addCgroup(f: Fixture, path: string): number {
  mkdirSync(join(f.mount, path), { recursive: true });
  f.ids[path] = Number(statSync(join(f.mount, path), { bigint: true }).ino);
  return f.ids[path];
}

function addProcess(f: Fixture, pid: number, path: string): void {
  mkdirSync(join(f.proc, String(pid)), { recursive: true });
  writeFileSync(join(f.proc, String(pid), 'cgroup'), `4:memory:/process_api/80f2fe0120095e63aa069fe61d05e81f\n0::${path}\n`);
}

function batchOf(events: Array<{ cgroupId: number; pid?: number; mnt?: number; name?: string; args?: Array<[string, unknown]> }>): Uint8Array {
  const w = new BatchWriter(4096);
  for (const e of events) {
    w.add(traceeEvent(e.name ?? 'sched_process_exec', e.args ?? [['pathname', '/bin/true']], {
      cgroupId: String(e.cgroupId), hostProcessId: e.pid ?? 4242, mountNamespace: e.mnt ?? CONTAINER_MNT,
    }));
  }
  return w.finish(0n);
}

function decodeAll(batch: Uint8Array, enricher: ContainerEnricher): TraceeEvent[] {
  const header = readBatchHeader(batch);
  const out: TraceeEvent[] = [];
  forEachRecord(batch, header, (off) => out.push(decodeEvent(batch, off, header, { containers: enricher.containerTable })));
  return out;
}

describe('container enrichment stage', () => {
  const paths = [
    `/libpod_parent/libpod-${ID1}`, `/docker/${ID2}`, `/kubepods/besteffort/pod${POD_UID}/${ID3}`,
    '/process_api/80f2fe0120095e63aa069fe61d05e81f', '/libpod_parent/conmon', '/default/ctr-test2', '/default/not-a-container',
  ];
  let f: Fixture;
  before(() => { f = fixture(paths); });
  after(() => rmSync(f.root, { recursive: true, force: true }));

  function runtimes() {
    const podman = new FakeRuntime('podman', new Map([[ID1, { name: 'web', image: 'localhost/busybox:test', imageDigest: 'localhost/busybox@sha256:01', podName: 'mypod', podNamespace: 'default', podUID: POD_UID }]]));
    const docker = new FakeRuntime('docker', new Map([[ID2, { name: 'dock', image: 'localhost/busybox:test' }]]));
    const containerd = new FakeContainerd(new Map([
      [ID3, { name: 'app', image: 'localhost/busybox:test', podName: 'cri-pod', podNamespace: 'cri-ns' }],
      ['ctr-test2', { image: 'localhost/busybox:test', podName: 'ctrpod' }],
    ]), ['default', 'k8s.io']);
    return { podman, docker, containerd };
  }

  function enricherWith(clients: RuntimeClient[], opts: Partial<ConstructorParameters<typeof ContainerEnricher>[0]> = {}) {
    const lines: string[] = [];
    const e = new ContainerEnricher({ clients, cgroupfsPath: f.mount, procRoot: f.proc, hostMountNamespace: HOST_MNT, log: (l) => lines.push(l), ...opts });
    return { e, lines };
  }

  it('reports the runtime fields of each container and never a host cgroup', async () => {
    const { podman, docker, containerd } = runtimes();
    const { e } = enricherWith([podman, docker, containerd]);
    await e.start();
    await new Promise((r) => setTimeout(r, 20)); // start-up look-ups
    const batch = batchOf(paths.map((p) => ({ cgroupId: f.ids[p] })).concat([{ cgroupId: f.ids['/'] }]));
    await e.enrichBatch(batch);
    const [pod, dock, cri, procApi, conmon, ctr, notCtr, root] = decodeAll(batch, e);
    assert.deepEqual(pod.container, { id: ID1, name: 'web', image: 'localhost/busybox:test', imageDigest: 'localhost/busybox@sha256:01' });
    assert.deepEqual(pod.kubernetes, { podName: 'mypod', podNamespace: 'default', podUID: POD_UID, podSandbox: false });
    assert.equal(pod.contextFlags.containerStarted, true);
    assert.equal(dock.container.name, 'dock');
    assert.deepEqual(cri.kubernetes, { podName: 'cri-pod', podNamespace: 'cri-ns', podUID: POD_UID, podSandbox: false }, 'pod uid from the kubepods path when labels lack it');
    assert.equal(ctr.containerId, 'ctr-test2', 'plain containerd path confirmed by containerd');
    assert.equal(ctr.kubernetes.podName, 'ctrpod');
    for (const host of [procApi, conmon, notCtr, root]) {
      assert.equal(host.containerId, '', `${host.cgroupId} is a host cgroup`);
      assert.equal(host.contextFlags.containerStarted, false);
    }
    assert.deepEqual(podman.calls, [ID1], 'one look-up per container');
    assert.deepEqual(new Set(containerd.calls), new Set([ID3, 'ctr-test2', 'not-a-container']));
    assert.equal(e.stats.containerEvents, 4);
    assert.equal(e.stats.resolved, 4);
    assert.equal(e.stats.unresolved, 0);
    await e.close();
  });

  it('holds a batch no longer than maxWaitMs for a slow runtime, then counts its events unresolved', async () => {
    const { podman } = runtimes();
    podman.delayMs = 1500;
    const { e } = enricherWith([podman], { maxWaitMs: 60 });
    const batch = batchOf([{ cgroupId: f.ids[`/libpod_parent/libpod-${ID1}`] }, { cgroupId: f.ids[`/libpod_parent/libpod-${ID1}`] }]);
    addProcess(f, 4242, `/libpod_parent/libpod-${ID1}`);
    const t0 = performance.now();
    const held = e.enrichBatch(batch, t0);
    assert.ok(held, 'the batch waits for the look-up');
    await held;
    const waited = performance.now() - t0;
    assert.ok(waited >= 55 && waited < 1000, `held ${waited.toFixed(0)} ms, not the runtime's 1500`);
    const [ev] = decodeAll(batch, e);
    assert.equal(ev.containerId, ID1, 'the id goes out without the metadata');
    assert.equal(ev.container.name, '');
    assert.equal(e.stats.unresolved, 2);
    // A second batch while the look-up runs joins it instead of asking again.
    const again = batchOf([{ cgroupId: f.ids[`/libpod_parent/libpod-${ID1}`] }]);
    await e.enrichBatch(again);
    assert.equal(podman.calls.length, 1, 'coalesced');
    assert.ok(e.stats.coalesced >= 1);
    await e.lookup(ID1);
    const later = batchOf([{ cgroupId: f.ids[`/libpod_parent/libpod-${ID1}`] }]);
    assert.equal(e.enrichBatch(later), undefined, 'a resolved container is not waited for');
    assert.equal(decodeAll(later, e)[0].container.name, 'web');
    await e.close();
  });

  it('counts a failing runtime, pauses it, and still marks the container', async () => {
    const { docker } = runtimes();
    docker.fail = new RuntimeError('docker', docker.socket, 'timeout', 'no answer within 50 ms');
    const { e, lines } = enricherWith([docker], { retryMs: 10_000 });
    addProcess(f, 5001, `/docker/${ID2}`);
    const batch = batchOf([{ cgroupId: f.ids[`/docker/${ID2}`], pid: 5001 }]);
    await e.enrichBatch(batch);
    assert.equal(decodeAll(batch, e)[0].containerId, ID2);
    assert.equal(e.stats.errors, 1);
    assert.equal(e.stats.unresolved, 1);
    assert.equal(lines.filter((l) => /docker/.test(l)).length, 1, `one line per outage: ${lines.join(' | ')}`);
    assert.equal(e.enrichBatch(batchOf([{ cgroupId: f.ids[`/docker/${ID2}`], pid: 5001 }])), undefined, 'no new look-up within retryMs');
    assert.equal(docker.calls.length, 1);
    await e.close();
  });

  it('finds a cgroup created after start-up from /proc and marks it started once it runs in its own mount namespace', async () => {
    const { podman } = runtimes();
    const { e } = enricherWith([podman]);
    await e.start();
    const late = `/libpod_parent/libpod-${'d'.repeat(64)}`;
    const id = addCgroup(f, late);
    addProcess(f, 6001, late);
    podman.known.set('d'.repeat(64), { name: 'late' });
    const b1 = batchOf([{ cgroupId: id, pid: 6001, mnt: HOST_MNT }]);
    await e.enrichBatch(b1);
    const [runcInit] = decodeAll(b1, e);
    assert.equal(runcInit.containerId, 'd'.repeat(64));
    assert.equal(runcInit.contextFlags.containerStarted, false, 'still in the host mount namespace: not started');
    const b2 = batchOf([{ cgroupId: id, pid: 6001, mnt: CONTAINER_MNT }]);
    await e.enrichBatch(b2);
    const [started] = decodeAll(b2, e);
    assert.equal(started.contextFlags.containerStarted, true);
    assert.equal(started.container.name, 'late');
    await e.close();
  });

  it('looks a container up at cgroup_mkdir and evicts it after cgroup_rmdir', async () => {
    const { podman } = runtimes();
    const { e } = enricherWith([podman], { evictGraceMs: 0 });
    const id5 = 'e'.repeat(64);
    podman.known.set(id5, { name: 'short' });
    const path = `/libpod_parent/libpod-${id5}`;
    const cgid = addCgroup(f, path);
    addProcess(f, 7000, '/');
    const mk = (name: string) => ({ cgroupId: f.ids['/'], pid: 7000, name, mnt: HOST_MNT, args: [['cgroup_id', String(cgid)], ['cgroup_path', path], ['hierarchy_id', 0]] as Array<[string, unknown]> });
    await e.enrichBatch(batchOf([mk('cgroup_mkdir')]));
    assert.deepEqual(podman.calls, [id5], 'looked up at creation, before any event of the container');
    await e.lookup(id5);
    const source = new ContainersDataSource(e);
    const rec = source.get(id5)!;
    assert.equal(rec.container_name, 'short');
    assert.equal(typeof rec.container_ctime, 'bigint');
    assert.deepEqual(Object.keys(rec), ['container_id', 'container_ctime', 'container_name', 'container_image', 'k8s_pod_id', 'k8s_pod_name', 'k8s_pod_namespace', 'k8s_pod_sandbox']);
    assert.equal(regoContainersBuiltin(source)(id5)?.container_name, 'short');
    const ev = batchOf([{ cgroupId: cgid }]);
    await e.enrichBatch(ev);
    assert.equal(decodeAll(ev, e)[0].contextFlags.containerStarted, true);
    await e.enrichBatch(batchOf([mk('cgroup_rmdir')]));
    await new Promise((r) => setTimeout(r, 5));
    e.enrichBatch(batchOf([{ cgroupId: f.ids['/'], pid: 7000, mnt: HOST_MNT }]));
    assert.equal(e.stats.evicted, 1);
    assert.equal(source.get(id5), undefined);
    assert.equal(regoContainersBuiltin(source)(id5), null);
    await e.close();
  });

  it('ignores cgroup_mkdir of cgroup v1 hierarchies', async () => {
    const { podman } = runtimes();
    const { e } = enricherWith([podman]);
    const path = `/libpod_parent/libpod-${'f'.repeat(64)}`;
    addProcess(f, 7000, '/');
    await e.enrichBatch(batchOf([{ cgroupId: f.ids['/'], pid: 7000, name: 'cgroup_mkdir', args: [['cgroup_id', '999999'], ['cgroup_path', path], ['hierarchy_id', 4]] }]));
    assert.deepEqual(podman.calls, []);
    await e.close();
  });

  it('delivers batches in arrival order through stage(), holding only the one that waits', async () => {
    const { podman } = runtimes();
    podman.delayMs = 30;
    const { e } = enricherWith([podman], { maxWaitMs: 500 });
    const seen: string[] = [];
    const push = e.stage((b) => seen.push(b.length < 24 ? 'bad' : decodeAll(b, e)[0].processName + ':' + (decodeAll(b, e)[0].container.name ?? '')));
    addProcess(f, 4242, `/libpod_parent/libpod-${ID1}`);
    push(batchOf([{ cgroupId: f.ids[`/libpod_parent/libpod-${ID1}`] }]));
    push(batchOf([{ cgroupId: f.ids['/process_api/80f2fe0120095e63aa069fe61d05e81f'] }]));
    assert.deepEqual(seen, [], 'the second batch waits behind the first');
    await e.flush();
    assert.deepEqual(seen, ['trigger:web', 'trigger:']);
    push(new Uint8Array(8));
    assert.equal(e.stats.badBatches, 1, 'an unreadable batch is passed on and counted');
    assert.equal(seen.at(-1), 'bad');
    await e.close();
  });

  it('enriches a batch that is not 4-byte aligned in memory the same way', async () => {
    const { podman, docker } = runtimes();
    const { e } = enricherWith([podman, docker]);
    await e.start();
    await e.lookup(ID1);
    await e.lookup(ID2);
    const events = [{ cgroupId: f.ids[`/libpod_parent/libpod-${ID1}`] }, { cgroupId: f.ids['/libpod_parent/conmon'] }, { cgroupId: f.ids[`/docker/${ID2}`] }];
    const aligned = batchOf(events);
    const backing = new Uint8Array(aligned.length + 1);
    backing.set(aligned, 1);
    const unaligned = backing.subarray(1);
    assert.equal(e.enrichBatch(aligned), undefined);
    assert.equal(e.enrichBatch(unaligned), undefined);
    assert.deepEqual(decodeAll(unaligned, e), decodeAll(aligned, e));
    assert.deepEqual(decodeAll(unaligned, e).map((x) => x.container.name ?? ''), ['web', '', 'dock']);
    await e.close();
  });

  it('goes on without any runtime: ids only, counted', async () => {
    const { e } = enricherWith([]);
    await e.start();
    const batch = batchOf([{ cgroupId: f.ids[`/docker/${ID2}`] }, { cgroupId: f.ids['/default/ctr-test2'] }]);
    assert.equal(e.enrichBatch(batch), undefined);
    const [dock, ctr] = decodeAll(batch, e);
    assert.equal(dock.containerId, ID2);
    assert.equal(ctr.containerId, '', 'a plain containerd path needs containerd to confirm it');
    assert.equal(e.stats.unresolved, 1);
    await e.close();
  });
});
