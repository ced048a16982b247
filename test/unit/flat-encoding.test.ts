import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import { parseJson, stringifyJson, type TraceeEvent } from '../../host/events/event-json.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { traceeEvent } from '../helpers/events.ts';

function roundTrip(events: unknown[], refs: number[] = [], containers?: ContainerTable, parseArguments = false): TraceeEvent[] {
  const w = new BatchWriter(256);
  events.forEach((e, i) => w.add(e, refs[i] ?? 0));
  const batch = w.finish(0n);
  const header = readBatchHeader(batch);
  assert.equal(header.count, events.length);
  const out: TraceeEvent[] = [];
  forEachRecord(batch, header, (offset) => {
    assert.equal(offset % 8, 0, 'records are 8-aligned');
    out.push(decodeEvent(batch, offset, header, { containers, parseArguments }));
  });
  return out;
}

const arg = (e: TraceeEvent, name: string) => e.args.find((a) => a.name === name)?.value;

test('context and typed arguments survive JSON → flat → JSON', () => {
  const [e] = roundTrip([traceeEvent('sched_process_exec', [
    ['cmdpath', './a.out'], ['pathname', '/usr/bin/a.out'], ['dev', 2049], ['inode', '18446744073709551615'],
    ['ctime', 1732000000123456789n.toString()], ['inode_mode', 33261], ['argv', ['a.out', '-v', '']], ['prev_comm', 'bash'],
  ], { threadStartTime: '1732000000000000001', cgroupId: '12345678901234567', returnValue: -2, syscall: 'execve', userId: 1000 })]);
  assert.equal(e.eventName, 'sched_process_exec');
  assert.equal(e.eventId, '1003');
  assert.equal(e.timestamp, 1732000000123456789n, 'ns timestamps stay exact');
  assert.equal(e.threadStartTime, 1732000000000000001n);
  assert.equal(e.cgroupId, 12345678901234567n);
  assert.equal(e.processName, 'trigger');
  assert.equal(e.hostName, 'test-host');
  assert.equal(e.userId, 1000);
  assert.equal(e.returnValue, -2);
  assert.equal(e.syscall, 'execve');
  assert.equal(arg(e, 'inode'), 18446744073709551615n);
  assert.equal(arg(e, 'ctime'), 1732000000123456789n);
  assert.deepEqual(arg(e, 'argv'), ['a.out', '-v', '']);
  assert.equal(arg(e, 'prev_comm'), 'bash');
  assert.equal(arg(e, 'inode_mode'), 33261);
  assert.equal(e.args.length, 8);
});

test('empty, huge and non-UTF-8 arguments round trip; absent ones stay absent', () => {
  const huge = 'x'.repeat(200_000);
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]).toString('base64');
  const [a, b] = roundTrip([
    traceeEvent('sched_process_exec', [['pathname', ''], ['argv', []], ['cmdpath', huge]]),
    traceeEvent('memfd_create', [['name', 'caf\u00e9 \u{1F600}'], ['flags', 'MFD_CLOEXEC|MFD_ALLOW_SEALING']]),
  ]);
  assert.equal(arg(a, 'pathname'), '');
  assert.deepEqual(arg(a, 'argv'), []);
  assert.equal(arg(a, 'cmdpath'), huge);
  assert.equal(arg(a, 'dev'), undefined);
  assert.equal(arg(b, 'name'), 'caf\u00e9 \u{1F600}');
  assert.equal(arg(b, 'flags'), 3);
  void bytes;
});

test('raw non-UTF-8 bytes in a string argument are kept as bytes in the record', () => {
  const w = new BatchWriter();
  w.add(traceeEvent('memfd_create', [['name', 'ok']]));
  const batch = w.finish();
  const text = Buffer.from(batch);
  const at = text.indexOf('ok');
  batch[at] = 0xff; // the kernel can hand us any bytes
  const header = readBatchHeader(batch);
  let e!: TraceeEvent;
  forEachRecord(batch, header, (o) => { e = decodeEvent(batch, o, header); });
  assert.equal(arg(e, 'name'), '\ufffdk');
});

test('flags and requests recorded with parse-arguments are stored as integers and can be rendered back', () => {
  const events = [
    traceeEvent('ptrace', [['request', 'PTRACE_TRACEME'], ['pid', 0]]),
    traceeEvent('ptrace', [['request', 0], ['pid', 0]]),
    traceeEvent('ptrace', [['request', 'PTRACE_POKETEXT'], ['addr', '0x7ffd0000'], ['data', 0]]),
  ];
  const plain = roundTrip(events);
  assert.deepEqual(plain.map((e) => arg(e, 'request')), [0, 0, 4]);
  assert.equal(arg(plain[2], 'addr'), 0x7ffd0000);
  const parsed = roundTrip(events, [], undefined, true);
  assert.deepEqual(parsed.map((e) => arg(e, 'request')), ['PTRACE_TRACEME', 'PTRACE_TRACEME', 'PTRACE_POKETEXT']);
});

test('container ids map to refs and back; context flags survive', () => {
  const containers = new ContainerTable();
  const ref = containers.refFor('abc123');
  containers.update('abc123', { name: 'web', image: 'nginx:1' });
  const [e] = roundTrip([traceeEvent('ptrace', [], { contextFlags: { containerStarted: true, isCompat: true } })], [ref], containers);
  assert.equal(e.containerId, 'abc123');
  assert.deepEqual(e.container, { id: 'abc123', name: 'web', image: 'nginx:1', imageDigest: '' });
  assert.deepEqual(e.contextFlags, { containerStarted: true, isCompat: true });
});

test('malformed events are rejected with the field and the problem, leaving the batch intact', () => {
  const w = new BatchWriter();
  w.add(traceeEvent('ptrace', [['request', 0]]));
  const bad: Array<[unknown, RegExp]> = [
    [[], /not a JSON object/],
    [{ eventName: 42 }, /eventName is missing or not a string/],
    [{ eventName: 'not_an_event' }, /unknown event "not_an_event"/],
    [traceeEvent('ptrace', [['request', 'PTRACE_BOGUS']]), /argument request: expected an integer or a ptraceRequest name, got "PTRACE_BOGUS"/],
    [traceeEvent('sched_process_exec', [['argv', 'ls -l']]), /argument argv: expected an array of strings/],
    [{ ...traceeEvent('ptrace', []), timestamp: 'yesterday' }, /timestamp: expected an integer, got "yesterday"/],
    [{ ...traceeEvent('ptrace', []), args: {} }, /args is not an array/],
  ];
  for (const [event, message] of bad) assert.throws(() => w.add(event), message);
  w.add(traceeEvent('ptrace', [['request', 4]]));
  const batch = w.finish();
  const header = readBatchHeader(batch);
  const requests: unknown[] = [];
  forEachRecord(batch, header, (o) => requests.push(arg(decodeEvent(batch, o, header), 'request')));
  assert.deepEqual(requests, [0, 4]);
});

test('batch header and record sizes are validated', () => {
  assert.throws(() => readBatchHeader(new Uint8Array(8)), /shorter than its header/);
  const w = new BatchWriter();
  w.add(traceeEvent('ptrace', []));
  const batch = w.finish();
  const copy = batch.slice();
  copy[0] = 0;
  assert.throws(() => readBatchHeader(copy), /batch magic/);
  const truncated = batch.slice(0, batch.length - 8);
  assert.throws(() => readBatchHeader(truncated), /claims \d+ bytes/);
});

test('JSON helpers keep 64-bit integers exact in both directions', () => {
  const parsed = parseJson('{"a":1732000000123456789,"b":"1732000000123456789","c":[-9223372036854775808],"d":1.5e3,"s":"x\\"1234567890123456789"}') as Record<string, unknown>;
  assert.equal(parsed.a, '1732000000123456789');
  assert.deepEqual(parsed.c, ['-9223372036854775808']);
  assert.equal(parsed.d, 1500);
  assert.equal(parsed.s, 'x"1234567890123456789');
  assert.equal(stringifyJson({ t: 1732000000123456789n, b: Uint8Array.of(1, 2) }), '{"t":1732000000123456789,"b":"AQI="}');
});
