/**
 * The SDK additions signatures rely on, through probe signatures built with
 * the real build and run by the real engine: SockAddr access, the bounded
 * state table, the containers data source (tracee.container_get), the
 * presence-aware argument helpers, path helpers on bytes, ELF detection, and
 * the view arena with large text. Also: what the host does with a bundle
 * shipped disabled by default.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { loadRulesDir } from '../../host/engine/load.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import type { FindingData } from '../../host/engine/finding-data.ts';

const PROBES: Record<string, string> = {
  'sockaddr_probe.ts': `
import { Event, Metadata, register, finding, EventId, security_socket_connect, SockAddr } from "../sdk";
register(new Metadata("TEST-SOCKADDR", "1", "sockaddr probe", "sockaddr_probe", "").select(EventId.security_socket_connect), onEvent);
function onEvent(e: Event): void {
  let a = SockAddr.of(security_socket_connect.remote_addr(e));
  finding(e).uint("family", a.family).bool("internet", a.isInternet).bool("unix", a.isUnix).uint("port", a.port)
    .str("ip", a.ipText()).str("portText", a.portText()).str("path", a.path).bytes("addr", a.addressBytes).emit();
}`,
  'state_probe.ts': `
import { Event, Metadata, register, finding, EventId, sched_process_exec, StateTable } from "../sdk";
const table = new StateTable(4, 16);
register(new Metadata("TEST-STATE", "1", "state probe", "state_probe", "").select(EventId.sched_process_exec), onEvent);
function onEvent(e: Event): void {
  let argv = sched_process_exec.argv(e);
  let op = argv.at(0);
  let key = U64.parseInt(argv.at(1).toString());
  let value = U64.parseInt(argv.at(2).toString());
  let f = finding(e);
  if (op.equals("put")) { let slot = table.put(key); store<u64>(slot, value); store<u64>(slot, value * 2, 8); }
  else if (op.equals("get")) { let slot = table.get(key); f.bool("found", slot != 0).uint("value", slot ? load<u64>(slot) : 0).uint("second", slot ? load<u64>(slot, 8) : 0); }
  else if (op.equals("remove")) f.bool("removed", table.remove(key));
  else if (op.equals("removeWhere")) f.uint("removed", table.removeWhereU64(0, value));
  else if (op.equals("clear")) table.clear();
  f.uint("size", table.size).emit();
}`,
  'container_probe.ts': `
import { Event, Metadata, Origin, register, finding, EventId, container } from "../sdk";
register(new Metadata("TEST-CONTAINER", "1", "container probe", "container_probe", "").select(EventId.sched_process_exec, Origin.Any), onEvent);
function onEvent(e: Event): void {
  let c = container(e);
  finding(e).uint("ref", c.ref).bool("known", c.known).str("id", c.id).str("name", c.name).str("image", c.image)
    .str("imageDigest", c.imageDigest).str("podName", c.podName).str("podNamespace", c.podNamespace).str("podUID", c.podUID)
    .bool("podSandbox", c.podSandbox).bool("badField", c.field(99).isEmpty).emit();
}`,
  'bytes_probe.ts': `
import { Event, Metadata, register, finding, EventId, magic_write, isElf } from "../sdk";
register(new Metadata("TEST-BYTES", "1", "bytes probe", "bytes_probe", "").select(EventId.magic_write), onEvent);
function onEvent(e: Event): void {
  let p = magic_write.pathname(e);
  finding(e).str("dirname", p.dirname()).str("trim", p.trim()).bool("elf", isElf(magic_write.bytes(e))).emit();
}`,
  'args_probe.ts': `
import { Event, Metadata, register, finding, EventId, openedForRead, openedForWrite } from "../sdk";
register(new Metadata("TEST-ARGS", "1", "args probe", "args_probe", "").select(EventId.security_file_open), onEvent);
function onEvent(e: Event): void {
  finding(e).bool("read", openedForRead(e)).bool("write", openedForWrite(e)).emit();
}`,
  'disabled_probe.ts': `
import { Event, Metadata, register, emit, EventId } from "../sdk";
register(new Metadata("TEST-OFF", "1", "disabled probe", "disabled_probe", "").disabledByDefault().select(EventId.ptrace), onEvent);
function onEvent(e: Event): void { emit(e); }`,
};

let dir: string;
const wasm = new Map<string, Uint8Array>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-sdk-runtime-test-'));
  await mkdir(path.join(dir, 'probes', 'signatures'), { recursive: true });
  for (const [file, text] of Object.entries(PROBES)) await writeFile(path.join(dir, 'probes', 'signatures', file), text);
  const { built, errors } = await buildBundles(path.join(dir, 'probes'), path.join(dir, 'out'));
  assert.deepEqual(errors.map(String), []);
  for (const b of built) wasm.set(path.basename(b.path, '.wasm'), await readFile(b.path));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function engineFor(name: string, containers?: ContainerTable): Promise<Engine> {
  const bundle = await Bundle.load(`${name}.wasm`, wasm.get(name)!, () => {}, { containers });
  return new Engine([bundle], (m) => { throw new Error(m); });
}

function run(engine: Engine, events: object[], containerRefs: number[] = []): FindingData[] {
  const w = new BatchWriter();
  events.forEach((e, i) => w.add(e, containerRefs[i] ?? 0));
  return engine.process(w.finish()).map((f) => f.data);
}

const ev = (eventName: string, args: Record<string, unknown>, context: Record<string, unknown> = {}) =>
  ({ eventName, processId: 7, processName: 'probe', args: Object.entries(args).map(([name, value]) => ({ name, value })), ...context });

// ---- SockAddr ---------------------------------------------------------------------------

test('SockAddr reads IPv4, IPv6 and unix addresses as Tracee prints them', async () => {
  const engine = await engineFor('sockaddr_probe');
  const connect = (remote_addr: Record<string, unknown>) => ev('security_socket_connect', { sockfd: 3, type: 1, remote_addr });
  const [v4, v6, mapped, unix, loopback6, zero] = run(engine, [
    connect({ sa_family: 'AF_INET', sin_addr: '10.1.2.3', sin_port: '443' }),
    connect({ sa_family: 'AF_INET6', sin6_addr: '2001:db8:0:0:1:0:0:1', sin6_port: '8080' }),
    connect({ sa_family: 'AF_INET6', sin6_addr: '::ffff:192.168.0.1', sin6_port: '53' }),
    connect({ sa_family: 'AF_UNIX', sun_path: '/var/run/docker.sock' }),
    connect({ sa_family: 'AF_INET6', sin6_addr: '::1', sin6_port: '0' }),
    connect({ sa_family: 'AF_INET', sin_addr: '0.0.0.0', sin_port: '0' }),
  ]);
  assert.deepEqual({ ...v4, addr: undefined }, { family: 2, internet: true, unix: false, port: 443, ip: '10.1.2.3', portText: '443', path: '', addr: undefined });
  assert.deepEqual(v4.addr, Uint8Array.of(10, 1, 2, 3));
  assert.equal(v6.ip, '2001:db8::1:0:0:1'); // the first longest zero run is shortened, as Go does
  assert.equal(v6.portText, '8080');
  assert.equal(v6.family, 10);
  assert.equal(mapped.ip, '192.168.0.1'); // IPv4-mapped prints dotted (Go's net.IP.String)
  assert.deepEqual([unix.unix, unix.internet, unix.path, unix.ip, unix.portText, unix.port], [true, false, '/var/run/docker.sock', '', '', 0]);
  assert.deepEqual([loopback6.ip, loopback6.portText], ['::1', '0']);
  assert.deepEqual([zero.ip, zero.port], ['0.0.0.0', 0]);
});

test('SockAddr: an absent or truncated address is neither internet nor unix', async () => {
  const engine = await engineFor('sockaddr_probe');
  const [absent] = run(engine, [ev('security_socket_connect', { sockfd: 3 })]);
  assert.deepEqual([absent.family, absent.internet, absent.unix, absent.ip, absent.portText], [0, false, false, '', '']);
});

// ---- StateTable --------------------------------------------------------------------------

const op = (...argv: Array<string | number>) => ev('sched_process_exec', { argv: argv.map(String) });

test('StateTable keeps values per key across batches', async () => {
  const engine = await engineFor('state_probe');
  run(engine, [op('put', 1, 10, 0), op('put', 2, 20, 0)]);
  const [a, b, c] = run(engine, [op('get', 1, 0), op('get', 2, 0), op('get', 3, 0)]);
  assert.deepEqual(a, { found: true, value: 10, second: 20, size: 2 });
  assert.deepEqual(b, { found: true, value: 20, second: 40, size: 2 });
  assert.deepEqual(c, { found: false, value: 0, second: 0, size: 2 });
  const [again] = run(engine, [op('put', 1, 11, 0), op('get', 1, 0)]).slice(1);
  assert.deepEqual(again, { found: true, value: 11, second: 22, size: 2 }); // put on an existing key keeps one entry
});

test('StateTable is bounded: a put into a full table evicts the oldest insertion', async () => {
  const engine = await engineFor('state_probe');
  run(engine, [1, 2, 3, 4].map((k) => op('put', k, k * 100, 0)));
  const [full] = run(engine, [op('put', 5, 500, 0)]);
  assert.equal(full.size, 4);
  const found = run(engine, [1, 2, 3, 4, 5].map((k) => op('get', k, 0))).map((r) => r.found);
  assert.deepEqual(found, [false, true, true, true, true]);
});

test('StateTable remove and removeWhereU64 drop entries and keep the others reachable', async () => {
  const engine = await engineFor('state_probe');
  // Many keys through a small table: collisions, wrap-around and backward shifts.
  for (let round = 0; round < 50; round++) {
    const keys = [round * 7 + 1, round * 7 + 2, round * 7 + 3, round * 7 + 4];
    run(engine, [op('clear', 0, 0), ...keys.map((k) => op('put', k, k % 3, 0))]);
    const [removed] = run(engine, [op('remove', keys[1], 0)]);
    assert.equal(removed.removed, true);
    const [where] = run(engine, [op('removeWhere', 0, 1)]);
    const expectGone = new Set([keys[1], ...keys.filter((k) => k % 3 === 1)]);
    assert.equal(where.size, 4 - expectGone.size);
    const got = run(engine, keys.map((k) => op('get', k, 0))).map((r) => r.found);
    assert.deepEqual(got, keys.map((k) => !expectGone.has(k)), `round ${round}`);
  }
  const [gone] = run(engine, [op('remove', 999, 0)]);
  assert.equal(gone.removed, false);
});

// ---- containers data source ----------------------------------------------------------------

test('container() answers from the host\'s container table through tracee.container_get', async () => {
  const table = new ContainerTable();
  const ref = table.refFor('4b1d2c3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a');
  table.update('4b1d2c3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a', {
    name: 'web-1', image: 'docker.io/library/nginx:1.27', imageDigest: 'sha256:' + 'ab'.repeat(32),
    podName: 'web-7d9', podNamespace: 'default', podUID: '3f2b0c1e-0000-4000-8000-000000000001', podSandbox: false,
  });
  const engine = await engineFor('container_probe', table);
  const [inside, outside] = run(engine, [ev('sched_process_exec', {}), ev('sched_process_exec', {})], [ref, 0]);
  assert.deepEqual(inside, {
    ref, known: true, id: '4b1d2c3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a', name: 'web-1',
    image: 'docker.io/library/nginx:1.27', imageDigest: 'sha256:' + 'ab'.repeat(32), podName: 'web-7d9', podNamespace: 'default',
    podUID: '3f2b0c1e-0000-4000-8000-000000000001', podSandbox: false, badField: true,
  });
  assert.deepEqual(outside, { ref: 0, known: false, id: '', name: '', image: '', imageDigest: '', podName: '', podNamespace: '', podUID: '', podSandbox: false, badField: true });
});

test('container(): long values, sandboxes, unknown refs, and no table at all', async () => {
  const table = new ContainerTable();
  const ref = table.refFor('c'.repeat(64));
  table.update('c'.repeat(64), { name: 'n'.repeat(20000), podSandbox: true });
  const engine = await engineFor('container_probe', table);
  const [long, unknown] = run(engine, [ev('sched_process_exec', {}), ev('sched_process_exec', {})], [ref, 77]);
  assert.equal(long.name, 'n'.repeat(20000)); // larger than the first try and than an arena chunk
  assert.equal(long.podSandbox, true);
  assert.equal(long.image, ''); // not learned yet
  assert.deepEqual([unknown.known, unknown.id], [false, '']);
  const bare = await engineFor('container_probe');
  const [noTable] = run(bare, [ev('sched_process_exec', {})], [ref]);
  assert.deepEqual([noTable.known, noTable.name], [false, '']);
});

test('a bundle that reads containers imports tracee.container_get; one that does not, does not', () => {
  const imports = (name: string) => WebAssembly.Module.imports(new WebAssembly.Module(wasm.get(name)! as Uint8Array<ArrayBuffer>)).map((i) => `${i.module}.${i.name}`);
  assert.ok(imports('container_probe').includes('tracee.container_get'));
  assert.ok(!imports('sockaddr_probe').includes('tracee.container_get'));
});

// ---- arguments, bytes, ELF ---------------------------------------------------------------------

test('openedForRead/openedForWrite follow the access mode and need the flags to be present', async () => {
  const engine = await engineFor('args_probe');
  const open = (flags?: unknown) => ev('security_file_open', flags === undefined ? { pathname: '/x' } : { pathname: '/x', flags });
  const got = run(engine, [open(0), open(1), open(2), open('O_WRONLY|O_CREAT'), open('O_RDONLY|O_LARGEFILE'), open(0o100101), open()]);
  assert.deepEqual(got.map((d) => [d.read, d.write]), [
    [true, false], [false, true], [true, true], [false, true], [true, false], [false, true], [false, false],
  ]);
});

test('the helpers\' argument indices are the catalogue\'s', () => {
  const index = (event: string, arg: string) => eventByName(event)!.args.findIndex((a) => a.name === arg);
  assert.equal(index('ptrace', 'request'), 0);
  assert.equal(index('security_file_open', 'flags'), 1);
  assert.equal(index('security_socket_connect', 'sockfd'), 0);
  assert.equal(index('socket_dup', 'newfd'), 1);
  assert.equal(index('process_vm_writev', 'pid'), 0);
});

test('dirname follows Go filepath.Dir on clean paths; trim drops ASCII white space; isElf wants the magic', async () => {
  const engine = await engineFor('bytes_probe');
  const elf = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).toString('base64');
  const cases: Array<[string, string, string]> = [
    ['/usr/bin/ls', '/usr/bin', '/usr/bin/ls'], ['/ls', '/', '/ls'], ['ls', '.', 'ls'], ['', '.', ''], ['/a/b/', '/a/b', '/a/b/'],
    ['///', '/', '///'], ['  1.2.3.4 \t\n', '.', '1.2.3.4'], ['a/b', 'a', 'a/b'],
  ];
  const got = run(engine, cases.map(([p], i) => ev('magic_write', { pathname: p, bytes: i === 0 ? elf : Buffer.from('\x7fELx').toString('base64') })));
  assert.deepEqual(got.map((d) => [d.dirname, d.trim]), cases.map(([, dir, trim]) => [dir, trim]));
  assert.deepEqual(got.slice(0, 2).map((d) => d.elf), [true, false]);
  const [short] = run(engine, [ev('magic_write', { pathname: '/x', bytes: Buffer.from([0x7f, 0x45, 0x4c]).toString('base64') })]);
  assert.equal(short.elf, false);
});

// ---- disabled by default --------------------------------------------------------------------

test('a signature shipped disabled by default loads, but runs only when --rules names it', async () => {
  const rulesDir = path.join(dir, 'rules');
  await mkdir(rulesDir, { recursive: true });
  for (const name of ['disabled_probe', 'args_probe']) await copyFile(path.join(dir, 'out', `${name}.wasm`), path.join(rulesDir, `${name}.wasm`));
  const plain = await loadRulesDir(rulesDir);
  assert.deepEqual(plain.bundles.map((b) => b.metadata.id), ['TEST-ARGS']);
  assert.deepEqual(plain.disabled.map((b) => b.metadata.id), ['TEST-OFF']);
  assert.deepEqual(plain.disabled[0].metadata.tags, ['disabled-by-default']);
  const byId = await loadRulesDir(rulesDir, { rules: ['TEST-OFF'] });
  assert.deepEqual([byId.bundles.map((b) => b.metadata.id), byId.disabled], [['TEST-OFF'], []]);
  const byName = await loadRulesDir(rulesDir, { rules: ['disabled_probe', 'TEST-ARGS'] });
  assert.deepEqual(byName.bundles.map((b) => b.metadata.id), ['TEST-ARGS', 'TEST-OFF']);
});
