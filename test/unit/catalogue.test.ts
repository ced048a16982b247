import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENTS, eventById, eventByName } from '../../host/events/catalogue.ts';
import { CONTEXT_FIELDS, CONTEXT_SIZE } from '../../host/events/layout.ts';
import { GENERATED, staleOutputs } from '../../host/events/generate.ts';
import { parseNamedValue, renderNamedValue } from '../../host/events/arg-values.ts';

test('generated files (bpf header, AssemblyScript SDK, docs) match the catalogue', () => {
  assert.deepEqual(staleOutputs(), [], 'run `npm run generate` and commit the result');
  assert.ok(GENERATED.length >= 3);
});

test('event ids and names are unique; syscalls below 1000, other events from 1000', () => {
  assert.equal(new Set(EVENTS.map((e) => e.id)).size, EVENTS.length);
  assert.equal(new Set(EVENTS.map((e) => e.name)).size, EVENTS.length);
  for (const e of EVENTS) {
    assert.equal(eventById(e.id), e);
    assert.equal(eventByName(e.name), e);
    assert.ok(e.source === 'syscall' ? e.id < 1000 : e.id >= 1000, e.name);
    assert.equal(new Set(e.args.map((a) => a.name)).size, e.args.length, `${e.name} has duplicate argument names`);
  }
});

test('the flat context is 8-aligned with every field at its natural alignment', () => {
  assert.equal(CONTEXT_SIZE % 8, 0);
  for (const f of CONTEXT_FIELDS) {
    const align = f.kind === 'bytes' ? 1 : f.size;
    assert.equal(f.offset % align, 0, `${f.name} at ${f.offset}`);
  }
});

test('named argument values parse and render like Tracee parse-arguments', () => {
  assert.equal(parseNamedValue('ptraceRequest', 'PTRACE_TRACEME'), 0);
  assert.equal(parseNamedValue('ptraceRequest', 'PTRACE_POKEDATA'), 5);
  assert.equal(parseNamedValue('ptraceRequest', 'PTRACE_NOPE'), undefined);
  assert.equal(parseNamedValue('openFlags', 'O_WRONLY|O_CREAT|O_TRUNC'), 0o1101);
  assert.equal(parseNamedValue('openFlags', 'O_RDONLY|O_CLOEXEC'), 0o2000000);
  assert.equal(renderNamedValue('ptraceRequest', 16), 'PTRACE_ATTACH');
  assert.equal(renderNamedValue('openFlags', 0o2000000), 'O_RDONLY|O_CLOEXEC');
  assert.equal(renderNamedValue('openFlags', 0o4010001), 'O_WRONLY|O_SYNC');
  assert.equal(parseNamedValue('openFlags', renderNamedValue('openFlags', 0o101102)), 0o101102);
});

test('socket types render as Tracee does: the type, then its flags', () => {
  assert.equal(renderNamedValue('socketType', 1 | 0o2000000), 'SOCK_STREAM|SOCK_CLOEXEC');
  assert.equal(renderNamedValue('socketType', 3), 'SOCK_RAW');
  assert.equal(parseNamedValue('socketType', 'SOCK_DGRAM|SOCK_NONBLOCK'), 2 | 0o4000);
  assert.equal(renderNamedValue('memProtAlert', 4), 'MprotectWXToX');
  assert.equal(parseNamedValue('memProtAlert', 'MprotectWXToX'), 4);
  assert.equal(parseNamedValue('memProtAlert', 'Protection changed from W+E to E!'), 4);
});
