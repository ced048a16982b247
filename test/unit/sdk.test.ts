/**
 * The AssemblyScript SDK seen from outside: built bundles are instantiated
 * directly with WebAssembly and a minimal import object, fed batches from the
 * shared BatchWriter, and their emit_finding calls decoded per
 * docs/abi/bundle.md ("Finding data encoding").
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';

// ---- a bundle instance with a tiny import object -------------------------------------

type Value = { kind: number; value: string | bigint | boolean | Uint8Array };
type Emitted = { index: number; data: Record<string, Value> };

interface Loaded {
  memory: WebAssembly.Memory;
  logs: string[];
  /** Copies the batch in, runs it; returns tracee_on_batch's result and the findings. */
  run(batch: Uint8Array): { result: number; findings: Emitted[] };
}

async function load(wasm: Uint8Array): Promise<Loaded> {
  let memory!: WebAssembly.Memory;
  let findings: Emitted[] = [];
  const logs: string[] = [];
  const bytes = () => new Uint8Array(memory.buffer);
  const imports = {
    tracee: {
      emit_finding: (index: number, ptr: number, len: number) => findings.push({ index, data: decodeData(bytes().slice(ptr, ptr + len)) }),
      log: (level: number, ptr: number, len: number) => logs.push(`${level}:${Buffer.from(bytes().slice(ptr, ptr + len)).toString('utf8')}`),
    },
    env: {
      abort: (msg: number) => {
        const len = new DataView(memory.buffer).getUint32(msg - 4, true);
        throw new Error(`abort: ${Buffer.from(memory.buffer, msg, len).toString('utf16le')}`);
      },
    },
  };
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, imports);
  const ex = instance.exports as { memory: WebAssembly.Memory; tracee_input(n: number): number; tracee_on_batch(p: number, n: number): number };
  memory = ex.memory;
  return {
    get memory() { return memory; },
    logs,
    run(batch) {
      findings = [];
      const ptr = ex.tracee_input(batch.length);
      bytes().set(batch, ptr);
      return { result: ex.tracee_on_batch(ptr, batch.length), findings };
    },
  };
}

/** Finding data: u8 kind, u16 key length, key, then u32 length + bytes | 8 bytes | 1 byte. */
function decodeData(buf: Uint8Array): Record<string, Value> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Record<string, Value> = {};
  let at = 0;
  while (at < buf.length) {
    const kind = buf[at];
    const keyLen = v.getUint16(at + 1, true);
    const key = Buffer.from(buf.subarray(at + 3, at + 3 + keyLen)).toString('utf8');
    at += 3 + keyLen;
    if (kind === 1 || kind === 4) {
      const n = v.getUint32(at, true);
      const raw = buf.slice(at + 4, at + 4 + n);
      out[key] = { kind, value: kind === 1 ? Buffer.from(raw).toString('utf8') : raw };
      at += 4 + n;
    } else if (kind === 2 || kind === 5) {
      out[key] = { kind, value: kind === 2 ? v.getBigInt64(at, true) : v.getBigUint64(at, true) };
      at += 8;
    } else if (kind === 3) {
      out[key] = { kind, value: buf[at] !== 0 };
      at += 1;
    } else {
      throw new Error(`unknown finding data kind ${kind} at byte ${at - 3 - keyLen}`);
    }
  }
  return out;
}

const values = (data: Record<string, Value>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.value]));

// ---- events --------------------------------------------------------------------------

function event(eventName: string, args: Record<string, unknown>, context: Record<string, unknown> = {}) {
  return {
    eventName, timestamp: 1000, processId: 7, threadId: 7, processName: 'probe', hostName: 'host-1',
    args: Object.entries(args).map(([name, value]) => ({ name, value })), ...context,
  };
}

function batch(events: object[], clockOffsetNs = 0n): Uint8Array {
  const w = new BatchWriter();
  for (const e of events) w.add(e);
  return w.finish(clockOffsetNs);
}

/** Replaces the (unique) ASCII `marker` in the batch by raw bytes of the same length. */
function patch(b: Uint8Array, marker: string, raw: number[]): Uint8Array {
  const at = Buffer.from(b).indexOf(marker);
  assert.ok(at > 0 && raw.length === marker.length);
  b.set(raw, at);
  return b;
}

// ---- the probe: a signature exercising the SDK, reporting through finding data -------

const PROBE = `
import { Event, Metadata, Origin, register, finding, Log, EventId, sched_process_exec, isMemoryPath } from "../sdk";

register(new Metadata("TEST-1", "1", "SDK probe", "sdk_probe", "reports what the SDK sees")
  .select(EventId.sched_process_exec, Origin.Any), onEvent);

function onEvent(e: Event): void {
  let p = sched_process_exec.pathname(e);
  let argv = sched_process_exec.argv(e);
  // Enough views to spill the arena's first chunk; the first one must stay valid.
  let first = argv.at(0);
  let items = 0;
  let it = argv.iter();
  while (it.next()) items++;
  let ld = argv.findPrefix("LD_PRELOAD=");
  Log.info("probe ✓");
  finding(e)
    .int("len", p.length)
    .bool("empty", p.isEmpty)
    .bool("startsDev", p.startsWith("/dev/"))
    .bool("endsX", p.endsWith("/x"))
    .bool("containsShm", p.contains("shm"))
    .int("idxShm", p.indexOf("shm"))
    .bool("equalsUnicode", p.equals("/tmp/é✓😀"))
    .bool("memory", isMemoryPath(p))
    .str("base", p.basename())
    .str("text", p.isEmpty || p.byteAt(0) == 0x2f ? p.toString() : "")
    .bytes("head", p.slice(0, 4))
    .int("argc", argv.count)
    .int("items", items)
    .bool("firstStillValid", first.equals(argv.at(0)) && (argv.count == 0 || first.length > 0))
    .str("ld", ld)
    .bool("hasHelp", argv.includes("--help"))
    .bool("hasPrevComm", e.hasArg(7))
    .uint("inode", sched_process_exec.inode(e))
    .str("comm", e.processName)
    .str("host", e.hostName)
    .int("pid", e.processId)
    .int("ret", e.returnValue)
    .uint("ts", e.timestamp)
    .bool("container", e.isContainer)
    .str("literal", "Ünï")
    .bool("viewArgs", p.endsWith(p.basename()) && p.startsWith(p.slice(0, 3)) && p.contains(p.slice(1, 4)) && p.equals(p.slice(0)))
    .int("idxBase", p.indexOf(p.basename()))
    .emit();
}
`;

let dir: string;
const bundles = new Map<string, Uint8Array>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-sdk-test-'));
  await mkdir(path.join(dir, 'probe', 'signatures'), { recursive: true });
  await writeFile(path.join(dir, 'probe', 'signatures', 'probe.ts'), PROBE);
  for (const src of ['signatures-as', path.join(dir, 'probe')]) {
    const { built, errors } = await buildBundles(src, path.join(dir, 'out'));
    assert.deepEqual(errors.map(String), []);
    for (const b of built) bundles.set(path.basename(b.path, '.wasm'), await readFile(b.path));
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---- the shipped signatures ----------------------------------------------------------

test('TRC-102 fires for ptrace(PTRACE_TRACEME) only, naming the record index', async () => {
  const sig = await load(bundles.get('anti_debugging')!);
  const { result, findings } = sig.run(batch([
    event('sched_process_exec', { pathname: '/bin/true' }), // not selected: skipped defensively
    event('ptrace', { request: 4, pid: 1 }),
    event('ptrace', { request: 0, pid: 1 }),
    event('ptrace', { request: 'PTRACE_TRACEME' }), // named values are normalised by the writer
    event('ptrace', { request: 'PTRACE_POKETEXT' }),
  ]));
  assert.equal(result, 2);
  assert.deepEqual(findings, [{ index: 2, data: {} }, { index: 3, data: {} }]);
});

test('TRC-105 fires for memfd:, /dev/shm/ and /run/shm/ executions, not for files', async () => {
  const sig = await load(bundles.get('fileless_execution')!);
  const paths = ['memfd:x', '/dev/shm/x', '/usr/bin/ls', '/run/shm/y', '/dev/shmx', 'memfd', ''];
  const { result, findings } = sig.run(batch(paths.map((p) => event('sched_process_exec', { pathname: p }))));
  assert.equal(result, 3);
  assert.deepEqual(findings.map((f) => f.index), [0, 1, 3]);
});

test('TRC-105 ignores an exec event without a pathname', async () => {
  const sig = await load(bundles.get('fileless_execution')!);
  assert.equal(sig.run(batch([event('sched_process_exec', {})])).result, 0);
});

test('a bad batch header or a malformed record is refused before any finding', async () => {
  const sig = await load(bundles.get('anti_debugging')!);
  const good = batch([event('ptrace', { request: 0 }), event('ptrace', { request: 0 })]);

  const badMagic = good.slice();
  badMagic[0] ^= 0xff;
  assert.deepEqual(sig.run(badMagic), { result: -1, findings: [] });

  assert.equal(sig.run(good.slice(0, 20)).result, -1); // shorter than a header

  const badSize = good.slice();
  const second = 24 + new DataView(badSize.buffer).getUint32(24, true);
  new DataView(badSize.buffer).setUint32(second, 0xfff0, true); // runs past the batch
  assert.deepEqual(sig.run(badSize), { result: -2, findings: [] });

  assert.equal(sig.run(good).result, 2);
});

test('the hot path allocates nothing: memory stays the same over many batches', async () => {
  const sig = await load(bundles.get('fileless_execution')!);
  const b = batch(Array.from({ length: 200 }, (_, i) => event('sched_process_exec', { pathname: i % 2 ? '/dev/shm/x' : '/bin/ls', argv: ['a', 'b'] })));
  sig.run(b);
  const size = sig.memory.buffer.byteLength;
  for (let i = 0; i < 500; i++) assert.equal(sig.run(b).result, 100);
  assert.equal(sig.memory.buffer.byteLength, size);
});

// ---- SDK helpers, through the probe --------------------------------------------------

async function probe(args: Record<string, unknown>, context: Record<string, unknown> = {}, edit?: (b: Uint8Array) => Uint8Array, clockOffsetNs = 0n) {
  const sig = await load(bundles.get('probe')!);
  let b = batch([event('sched_process_exec', args, context)], clockOffsetNs);
  if (edit) b = edit(b);
  const { result, findings } = sig.run(b);
  assert.equal(result, 1);
  return { data: findings[0].data, logs: sig.logs };
}

test('finding data carries each kind with its ABI code, and logs arrive as UTF-8', async () => {
  const { data, logs } = await probe({ pathname: '/dev/shm/x', inode: 42, argv: ['sh', 'LD_PRELOAD=/x.so', '--help'] },
    { processId: 99, returnValue: -2, contextFlags: { containerStarted: true } }, undefined, 5n);
  assert.deepEqual(logs, ['1:probe ✓']);
  assert.deepEqual(data.base, { kind: 1, value: 'x' });
  assert.deepEqual(data.pid, { kind: 2, value: 99n });
  assert.deepEqual(data.ret, { kind: 2, value: -2n });
  assert.deepEqual(data.ts, { kind: 5, value: 1005n }); // timestamp + the batch clock offset
  assert.deepEqual(data.container, { kind: 3, value: true });
  assert.deepEqual(data.head, { kind: 4, value: Uint8Array.from(Buffer.from('/dev')) });
  assert.deepEqual(data.literal, { kind: 1, value: 'Ünï' });
  assert.deepEqual(Object.keys(data).slice(0, 3), ['len', 'empty', 'startsDev']); // declaration order
  const v = values(data);
  assert.equal(v.memory, true);
  assert.equal(v.inode, 42n);
  assert.equal(v.comm, 'probe');
  assert.equal(v.host, 'host-1');
  assert.equal(v.argc, 3n);
  assert.equal(v.items, 3n);
  assert.equal(v.ld, 'LD_PRELOAD=/x.so');
  assert.equal(v.hasHelp, true);
  assert.equal(v.hasPrevComm, false);
});

test('Bytes helpers on an empty string', async () => {
  const v = values((await probe({ pathname: '', argv: [] })).data);
  assert.equal(v.len, 0n);
  assert.equal(v.empty, true);
  assert.equal(v.startsDev, false);
  assert.equal(v.endsX, false);
  assert.equal(v.containsShm, false);
  assert.equal(v.idxShm, -1n);
  assert.equal(v.base, '.'); // as Go's filepath.Base("")
  assert.equal(v.text, '');
  assert.deepEqual(v.head, new Uint8Array(0));
  assert.equal(v.argc, 0n);
  assert.equal(v.firstStillValid, true);
  assert.equal(v.ld, '');
});

test('Bytes helpers on a long string and a long argv (views beyond the first arena chunk)', async () => {
  const long = `/${'a'.repeat(20000)}/shm/x`;
  const argv = Array.from({ length: 3000 }, (_, i) => `arg${i}`);
  const v = values((await probe({ pathname: long, argv })).data);
  assert.equal(v.len, BigInt(long.length));
  assert.equal(v.endsX, true);
  assert.equal(v.containsShm, true);
  assert.equal(v.idxShm, BigInt(long.indexOf('shm')));
  assert.equal(v.base, 'x');
  assert.equal(v.text, long);
  assert.equal(v.items, 3000n);
  assert.equal(v.firstStillValid, true);
  assert.equal(v.viewArgs, true); // helpers given other views instead of literals
  assert.equal(v.idxBase, BigInt(long.length - 1));
  assert.equal(v.hasHelp, false);
});

test('Bytes helpers on non-UTF-8 bytes compare raw bytes', async () => {
  const { data } = await probe({ pathname: '##/dev/shm/x' }, {}, (b) => patch(b, '##/dev/shm/x', [0xff, 0xfe, ...Buffer.from('/dev/shm/x')]));
  const v = values(data);
  assert.equal(v.len, 12n);
  assert.equal(v.startsDev, false);
  assert.equal(v.memory, false);
  assert.equal(v.containsShm, true);
  assert.equal(v.idxShm, 7n);
  assert.equal(v.endsX, true);
  assert.equal(v.base, 'x');
  assert.deepEqual(v.head, Uint8Array.from([0xff, 0xfe, 0x2f, 0x64]));
});

test('string literals with non-ASCII characters are compared as UTF-8', async () => {
  const v = values((await probe({ pathname: '/tmp/é✓😀' })).data);
  assert.equal(v.equalsUnicode, true);
  assert.equal(v.len, BigInt(Buffer.byteLength('/tmp/é✓😀')));
  assert.equal(v.base, 'é✓😀');
  assert.equal(v.text, '/tmp/é✓😀'); // toString decodes UTF-8
  assert.equal(v.viewArgs, true);
  assert.equal(v.idxBase, 5n);
  const w = values((await probe({ pathname: '/tmp/é✓😁' })).data);
  assert.equal(w.equalsUnicode, false);
});

test('basename follows Go filepath.Base', async () => {
  const cases: Array<[string, string]> = [['/usr/bin/ls', 'ls'], ['/usr/bin/', 'bin'], ['///', '/'], ['ls', 'ls'], ['/', '/']];
  for (const [p, base] of cases) {
    assert.equal(values((await probe({ pathname: p })).data).base, base, p);
  }
});
