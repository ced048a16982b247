import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import { ARG_KIND, RecordReader } from '../../host/events/record-reader.ts';
import { CTX } from '../../host/events/layout.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { decodeSockAddr } from '../../host/events/sockaddr.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';
import { traceeEvent } from '../helpers/events.ts';

const EVENTS = [
  traceeEvent('sched_process_exec', [
    ['cmdpath', './a.out'], ['pathname', '/usr/bin/a.out'], ['dev', 2049], ['inode', '18446744073709551615'],
    ['ctime', 1732000000123456789n.toString()], ['inode_mode', 33261], ['argv', ['a.out', '-v', '', 'caf\u00e9']],
    ['invoked_from_kernel', true], ['prev_comm', 'bash'],
  ], { threadStartTime: '1732000000000000001', cgroupId: '12345678901234567', returnValue: -2, syscall: 'execve', userId: 1000 }),
  traceeEvent('openat', [['dirfd', -100], ['pathname', '/etc/passwd'], ['flags', 0x80000], ['mode', 0]], { processName: 'cat', returnValue: 3 }),
  traceeEvent('close', [['fd', 3]], { processName: 'cat' }),
  traceeEvent('connect', [['sockfd', 5], ['addr', { sa_family: 'AF_INET', sin_port: '443', sin_addr: '10.1.2.3' }], ['addrlen', 16]]),
  traceeEvent('sched_process_exit', [['exit_code', -9223372036854775808n.toString()], ['process_group_exit', false]]),
  traceeEvent('memfd_create', [['name', 'caf\u00e9 \u{1F600}']], { processName: 'd\u00e9mon', hostName: '' }),
  traceeEvent('ptrace', []),
];

function batchOf(events: unknown[]): Uint8Array {
  const w = new BatchWriter(256);
  for (const e of events) w.add(e);
  return w.finish(123n);
}

/** Every value the reader gives, by the catalogue order decodeEvent uses. */
function readAll(r: RecordReader): Record<string, unknown> {
  const args: Array<[string, unknown]> = [];
  for (let i = 0; i < r.argCount; i++) {
    if (r.argOffset(i) === 0) continue;
    const kind = r.argKind(i);
    const name = r.def!.args[i].name;
    if (kind === ARG_KIND.i64 || kind === ARG_KIND.u64) args.push([name, r.argBigInt(i)]);
    else if (kind === ARG_KIND.bool) args.push([name, r.argNumber(i) === 1]);
    else if (kind <= ARG_KIND.u32) args.push([name, r.argNumber(i)]);
    else if (kind === ARG_KIND.string) args.push([name, r.argString(i)]);
    else if (kind === ARG_KIND.strings) args.push([name, r.argStrings(i)]);
    else if (kind === ARG_KIND.sockaddr) args.push([name, decodeSockAddr(r.argBytes(i)!)]);
    else args.push([name, Uint8Array.from(r.argBytes(i)!)]);
  }
  return {
    eventId: String(r.eventId), processName: r.processName(), hostName: r.hostName(),
    timestamp: r.big(CTX.timestamp), threadStartTime: r.big(CTX.threadStartTime), cgroupId: r.big(CTX.cgroupId),
    returnValue: r.i64(CTX.returnValue), processId: r.u32(CTX.processId), hostThreadId: r.u32(CTX.hostThreadId),
    userId: r.u32(CTX.userId), mountNamespace: r.u32(CTX.mountNamespace), syscall: r.i32(CTX.syscall), args,
  };
}

function fromEvent(e: TraceeEvent, offsetNs: bigint): Record<string, unknown> {
  return {
    eventId: e.eventId, processName: e.processName, hostName: e.hostName,
    timestamp: e.timestamp - offsetNs, threadStartTime: e.threadStartTime === 0n ? 0n : e.threadStartTime - offsetNs, cgroupId: e.cgroupId,
    returnValue: Number(e.returnValue), processId: e.processId, hostThreadId: e.hostThreadId,
    userId: e.userId, mountNamespace: e.mountNamespace, syscall: e.syscall === '' ? -1 : eventByName(e.syscall)!.id,
    args: e.args.map((a) => [a.name, typeof a.value === 'number' && /int64|uint64|Pointer/.test(a.type) ? BigInt(a.value) : a.value]),
  };
}

test('RecordReader reads in place the values decodeEvent builds its object from', () => {
  const batch = batchOf(EVENTS);
  const header = readBatchHeader(batch);
  const r = new RecordReader(batch);
  let n = 0;
  forEachRecord(batch, header, (offset) => {
    const lean = readAll(r.at(offset));
    const full = fromEvent(decodeEvent(batch, offset, header), header.clockOffsetNs);
    assert.deepEqual(lean, full, `record ${n}`);
    n++;
  });
  assert.equal(n, EVENTS.length);
});

test('names repeat from a per-reader cache without going stale', () => {
  const batch = batchOf([EVENTS[1], EVENTS[2], EVENTS[5], EVENTS[2]]);
  const r = new RecordReader(batch);
  const names: string[] = [];
  forEachRecord(batch, readBatchHeader(batch), (o) => names.push(`${r.at(o).processName()}@${r.hostName()}`));
  assert.deepEqual(names, ['cat@test-host', 'cat@test-host', 'd\u00e9mon@', 'cat@test-host']);
});

test('string arguments repeat from a per-reader cache without going stale: same length, other bytes, longer than the cache', () => {
  const long = `/${'x'.repeat(200)}`;
  const paths = ['/tmp/a', '/tmp/a', '/tmp/b', '/tmp/\u00e9', '/tmp/b', long, long.replace('x', 'y'), '/tmp/b', ''];
  const batch = batchOf(paths.map((p) => traceeEvent('openat', [['dirfd', -100], ['pathname', p], ['flags', 0], ['mode', 0]])));
  const r = new RecordReader(batch);
  const got: Array<string | undefined> = [];
  forEachRecord(batch, readBatchHeader(batch), (o) => got.push(r.at(o).argString(1)));
  assert.deepEqual(got, paths);
});

test('numbers: 64-bit values as numbers are exact below 2^53, exact as bigints beyond; absent arguments read as absent', () => {
  const batch = batchOf([EVENTS[0], EVENTS[4], EVENTS[2]]);
  const r = new RecordReader(batch);
  const offsets: number[] = [];
  forEachRecord(batch, readBatchHeader(batch), (o) => offsets.push(o));
  r.at(offsets[0]);
  assert.equal(r.argNumber(2), 2049); // dev
  assert.equal(r.argBigInt(3), 18446744073709551615n); // inode
  assert.equal(r.argNumber(3), 2 ** 64);
  assert.equal(r.argOffset(6), 0); // interpreter_pathname: absent
  assert.equal(r.argString(6), undefined);
  assert.ok(Number.isNaN(r.argNumber(6)));
  assert.equal(r.i64(CTX.returnValue), -2);
  r.at(offsets[1]);
  assert.equal(r.argBigInt(0), -9223372036854775808n);
  assert.equal(r.argNumber(1), 0); // process_group_exit false
  r.at(offsets[2]);
  assert.equal(r.argNumber(0), 3);
  assert.equal(r.argString(0), undefined, 'fd is not a string');
  assert.equal(r.argKind(5), 0, 'past argCount');
});

test('an argument that runs past its record is an EventFormatError', () => {
  const batch = batchOf([EVENTS[1]]);
  const r = new RecordReader(batch);
  let offset = 0;
  forEachRecord(batch, readBatchHeader(batch), (o) => { offset = o; });
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setUint32(offset + 152 + 8 + 4, 10_000, true); // pathname's length
  r.at(offset);
  assert.throws(() => r.argString(1), /argument pathname: 10000 bytes at \d+ run past the \d+-byte record/);
});
