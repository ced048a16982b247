/**
 * The Rego bundle ABI (host/build/rego/bundle-abi.ts, signatures-rego/runtime/tracee.ts):
 * the value of every argument type (the whole input value is checked against
 * the event JSON in rego-input.test.ts), what the build learns from the
 * plan, selection by event and origin, findings read back, the all-in-one
 * module, and the constants the runtime hard-codes.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { buildRuntime } from '../../host/build/rego/build-runtime.ts';
import { compileRego } from '../../host/build/rego/compile-rego.ts';
import { compilePlan } from '../../host/build/rego/codegen.ts';
import { bundleConfig, inputFieldMask, referencedArgNames, INPUT_FIELDS } from '../../host/build/rego/bundle-abi.ts';
import type { Policy } from '../../host/build/rego/plan.ts';
import { INPUT_BUILTINS, isRegoBundle } from '../../host/engine/rego-glue.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import { stringifyJson } from '../../host/events/event-json.ts';
import { CONTEXT_SIZE, CTX } from '../../host/events/layout.ts';
import { asAllInOne, regoBundle, runRegoBundle, type Selected } from './rego-helpers.ts';
import { traceeEvent } from '../helpers/events.ts';
import { ROOT } from '../helpers/tracee-process.ts';

before(async () => { await buildRuntime({ quiet: true }); });

const arg = (name: string, value: unknown): [string, unknown] => [name, value];
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0xff, 0x80]).toString('base64');

function sampleBatch(): Uint8Array {
  const w = new BatchWriter();
  w.add(traceeEvent('ptrace', [arg('request', 0), arg('pid', -1), arg('addr', 18446744073709551615n.toString())]));
  w.add(traceeEvent('sched_process_exec', [arg('pathname', '/usr/bin/ls'), arg('argv', ['ls', '-l', '']), arg('env', ['A=1', 'ünïcode=✓']), arg('invoked_from_kernel', true), arg('inode_mode', 33261)],
    { processName: 'ls', contextFlags: { containerStarted: true, isCompat: true }, returnValue: -2, threadStartTime: '1732000000000000001' }));
  w.add(traceeEvent('magic_write', [arg('pathname', '/tmp/x'), arg('bytes', ELF)]));
  w.add(traceeEvent('security_socket_connect', [arg('sockfd', 3), arg('remote_addr', { sa_family: 'AF_INET', sin_addr: '10.1.2.3', sin_port: '443' })]));
  w.add(traceeEvent('security_socket_connect', [arg('sockfd', 4), arg('remote_addr', { sa_family: 'AF_INET6', sin6_addr: '2001:db8::1', sin6_port: '8080', sin6_flowinfo: '0', sin6_scopeid: '0' })]));
  w.add(traceeEvent('security_socket_connect', [arg('sockfd', 5), arg('remote_addr', { sa_family: 'AF_UNIX', sun_path: '/var/run/docker.sock' })]));
  w.add(traceeEvent('hooked_proc_fops', [arg('hooked_fops_pointers', [{ SymbolName: 'iterate_shared', ModuleOwner: 'evil' }])]));
  w.add(traceeEvent('security_file_open', [arg('pathname', '/etc/passwd'), arg('flags', 0o2000001), arg('dev', 2049), arg('inode', 7)]));
  w.add(traceeEvent('read', [arg('fd', 3)]));
  return w.finish(1000n);
}

describe('rego bundles: the input value', () => {
  it('has every argument type as the host decoder renders it', () => {
    const names = ['ptrace', 'sched_process_exec', 'magic_write', 'security_socket_connect', 'hooked_proc_fops', 'security_file_open'];
    const wasm = regoBundle('package s0\ntracee_match := input\n', [names.map((name) => ({ source: 'tracee', name, origin: '*' }))]);
    const batch = sampleBatch();
    const header = readBatchHeader(batch);
    const expected: unknown[] = [];
    forEachRecord(batch, header, (o) => {
      const e = decodeEvent(batch, o, header);
      if (names.includes(e.eventName)) expected.push(JSON.parse(stringifyJson(e)));
    });
    const got = runRegoBundle(wasm, batch).map((f) => f.data);
    assert.equal(got.length, 8);
    assert.deepEqual(got, expected);
  });

  it('hard-codes the flat encoding v1 context offsets of host/events/layout.ts and the host lookups of rego-glue.ts', () => {
    const src = readFileSync(`${ROOT}/signatures-rego/runtime/input.ts`, 'utf8');
    const names: Record<string, string> = {
      O_EVENT_ID: 'eventId', O_TIMESTAMP: 'timestamp', O_THREAD_START: 'threadStartTime', O_CGROUP: 'cgroupId', O_RETVAL: 'returnValue',
      O_POLICIES: 'matchedPolicies', O_PROCESSOR: 'processorId', O_PID: 'processId', O_TID: 'threadId', O_PPID: 'parentProcessId',
      O_HOST_PID: 'hostProcessId', O_HOST_TID: 'hostThreadId', O_HOST_PPID: 'hostParentProcessId', O_UID: 'userId', O_MNTNS: 'mountNamespace',
      O_PIDNS: 'pidNamespace', O_SYSCALL: 'syscall', O_FLAGS: 'flags', O_CONTAINER_REF: 'containerRef', O_THREAD_ENTITY: 'threadEntityId',
      O_PROCESS_ENTITY: 'processEntityId', O_PARENT_ENTITY: 'parentEntityId', O_COMM: 'processName', O_HOSTNAME: 'hostName', O_ARGS_NUM: 'argsNum',
    };
    for (const [c, field] of Object.entries(names)) {
      const m = new RegExp(`const ${c}: usize = (\\d+);`).exec(src);
      assert.ok(m, c);
      assert.equal(Number(m[1]), CTX[field], `${c} = ${field}`);
    }
    assert.equal(Number(/const CONTEXT_SIZE: usize = (\d+);/.exec(src)?.[1]), CONTEXT_SIZE);
    const fields = /const FIELD_NAMES: StaticArray<string> = \[([^\]]*)\]/.exec(src)![1].match(/"[^"]+"/g)!.map((q) => JSON.parse(q));
    assert.deepEqual(fields, [...INPUT_FIELDS]);
    // the runtime numbers the host lookups in INPUT_BUILTINS order
    const lookups = [...src.matchAll(/const HB_(\w+): u32 = (\d+);/g)].map((m) => [Number(m[2]), m[1]]);
    assert.deepEqual(lookups, [[0, 'CONTAINER'], [1, 'EXECUTABLE'], [2, 'POLICIES']]);
    assert.deepEqual(INPUT_BUILTINS.map((b) => b.name), ['tracee.event_container', 'tracee.event_executable', 'tracee.event_policies']);
  });
});

describe('rego bundles: what the build learns from the plan', () => {
  const planOf = (text: string): Policy => {
    const helpers = readFileSync(`${ROOT}/signatures-rego/helpers.rego`, 'utf8');
    const r = compileRego([{ file: 'h.rego', text: helpers }, { file: 's.rego', text }], ['s/tracee_match'], { regoVersion: 'v0' });
    if ('errors' in r) throw new Error(r.errors.map((e) => e.message).join('\n'));
    return r.plan;
  };
  const fields = (p: Policy) => { const m = inputFieldMask(p); return m === undefined ? 'all' : INPUT_FIELDS.filter((_, i) => m & (1 << i)).join(','); };

  it('builds only the fields and the arguments a policy can observe', () => {
    const p = planOf('package s\nimport data.tracee.helpers\ntracee_match { input.processName == "x"; helpers.opened_for_write; startswith(helpers.get_tracee_argument("pathname"), "/etc") }\n');
    assert.equal(fields(p), 'args,processName');
    assert.deepEqual([...referencedArgNames(p)!].sort(), ['flags', 'pathname']);
  });

  it('builds everything when the input or the arguments are used as values', () => {
    assert.equal(fields(planOf('package s\ntracee_match = input\n')), 'all');
    assert.equal(referencedArgNames(planOf('package s\ntracee_match { count(input.args) > 2 }\n')), undefined);
    assert.equal(referencedArgNames(planOf('package s\ntracee_match { input.args[1].value == 2 }\n')), undefined);
    assert.equal(referencedArgNames(planOf('package s\ntracee_match = x { x := [a.name | a := input.args[_]] }\n')), undefined);
    assert.equal(referencedArgNames(planOf('package s\nf(n) { input.args[_].name == n }\ntracee_match { f(input.processName) }\n')), undefined);
  });
});

describe('rego bundles: selection, findings and modules', () => {
  const rego = `package s0
tracee_match if input.eventName == "ptrace"
package s1
tracee_match := {"path": p, "n": 1, "ok": true, "list": [1]} if {
  some a in input.args
  a.name == "pathname"
  p := a.value
}
`.split('package ').filter(Boolean).map((t) => `package ${t}`);

  it('evaluates only the selecting signatures, honouring origin, and reads back data objects', () => {
    const modules = rego.map((text, i) => ({ file: `m${i}.rego`, text }));
    const r = compileRego(modules, ['s0/tracee_match', 's1/tracee_match'], { regoVersion: 'v1' });
    assert.ok(!('errors' in r));
    const cfg = bundleConfig([
      { entry: 0, selected: [{ source: 'tracee', name: 'ptrace', origin: '*' }] },
      { entry: 1, selected: [{ source: 'tracee', name: 'sched_process_exec', origin: 'container' }, { source: 'tracee', name: 'magic_write', origin: 'host' }] },
    ]);
    const wasm = compilePlan((r as { plan: import('../../host/build/rego/plan.ts').Policy }).plan, { bundle: { config: cfg } });
    assert.ok(isRegoBundle(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>)));
    const found = runRegoBundle(wasm, sampleBatch());
    assert.deepEqual(found, [
      { index: 0, signature: 0 },
      { index: 1, signature: 1, data: { path: '/usr/bin/ls', n: 1, ok: true, list: [1] } },
      { index: 2, signature: 1, data: { path: '/tmp/x', n: 1, ok: true, list: [1] } },
    ]);
  });

  it('keeps the module a standard OPA-ABI module (loadPolicy, imports from env only)', async () => {
    const wasm = regoBundle('package s0\ntracee_match if input.eventName == "ptrace"\n', [[{ source: 'tracee', name: 'ptrace', origin: '*' }]]);
    const mod = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
    assert.deepEqual([...new Set(WebAssembly.Module.imports(mod).map((i) => i.module))], ['env']);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const e of ['opa_eval', 'entrypoints', 'tracee_abi_version', 'tracee_input', 'tracee_on_batch', 'tracee_finding', 'memory']) assert.ok(names.includes(e), e);
    const policy = await loadPolicy(wasm);
    assert.deepEqual(policy.evaluate({ eventName: 'ptrace' }, 's0/tracee_match'), [{ result: true }]);
    // the same runtime without bundle mode has no tracee exports
    const r = compileRego([{ file: 'a.rego', text: 'package s0\np := 1\n' }], ['s0/p']);
    const plain = compilePlan((r as { plan: import('../../host/build/rego/plan.ts').Policy }).plan);
    assert.ok(!WebAssembly.Module.exports(new WebAssembly.Module(plain as Uint8Array<ArrayBuffer>)).some((e) => e.name.startsWith('tracee_')));
  });

  it('names a host builtin the glue does not provide when the policy calls it', () => {
    const wasm = regoBundle('package s0\ntracee_match := {"m": sprintf("%d", [1])}\n', [[{ source: 'tracee', name: 'ptrace', origin: '*' }]]);
    assert.throws(() => runRegoBundle(wasm, sampleBatch()), /host builtin sprintf is not available to Rego bundles \(they have the native builtins and tracee\.event_container, .*tracee\.containers\)/);
  });

  it('runs the all-in-one module in the engine: one call per batch, each finding attributed to its record and signature', async () => {
    const modules = rego.map((text, i) => ({ file: `m${i}.rego`, text }));
    const r = compileRego(modules, ['s0/tracee_match', 's1/tracee_match'], { regoVersion: 'v1' });
    const selected: Selected[][] = [[{ source: 'tracee', name: 'ptrace', origin: '*' }], [{ source: 'tracee', name: 'security_file_open', origin: '*' }]];
    const cfg = bundleConfig(selected.map((s, entry) => ({ entry, selected: s })));
    let wasm = compilePlan((r as { plan: import('../../host/build/rego/plan.ts').Policy }).plan, { bundle: { config: cfg } });
    wasm = asAllInOne(wasm, ['A', 'B'], selected);
    const bundles = await Bundle.loadFile('aio.wasm', wasm, () => {});
    assert.deepEqual(bundles.map((b) => [b.metadata.id, b.member]), [['A', 0], ['B', 1]]);
    assert.equal(bundles[0].instanceKey, bundles[1].instanceKey);
    let calls = 0;
    const run = bundles[0].run.bind(bundles[0]);
    bundles[0].run = (len) => { calls++; return run(len); };
    const engine = new Engine(bundles, (m) => { throw new Error(m); });
    const batch = sampleBatch();
    const offsets: number[] = [];
    forEachRecord(batch, readBatchHeader(batch), (o) => offsets.push(o));
    const found = () => {
      const out: unknown[] = [];
      engine.collect(batch, (b, at, data) => out.push([offsets.indexOf(at), b.metadata.id, data.path]));
      return out;
    };
    assert.deepEqual(found(), [[0, 'A', undefined], [7, 'B', '/etc/passwd']]);
    // again: buffers are reused and the heap is reset per batch
    assert.deepEqual(found(), [[0, 'A', undefined], [7, 'B', '/etc/passwd']]);
    assert.equal(calls, 2);
  });
});
