/**
 * End to end, as root, for real: `tracee --rules-dir bundles/ --output json`
 * capturing live kernel events while triggers make the real system calls.
 * Without root or a needed kernel feature these tests FAIL saying which.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildTriggers, runTrigger } from '../helpers/triggers.ts';
import { ROOT, TraceeProcess } from '../helpers/tracee-process.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';

let tracee: TraceeProcess;
let triggers: Record<string, string>;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'eBPF end-to-end tests need root: run them as root (sudo npm test)');
  assert.ok(existsSync('/sys/kernel/btf/vmlinux'), 'kernel feature missing: BTF (/sys/kernel/btf/vmlinux); CO-RE programs cannot load');
  assert.ok(existsSync(join(ROOT, 'bundles', 'anti_debugging.wasm')), 'built-in bundles missing: run npm run build');
  triggers = buildTriggers();
  tracee = await TraceeProcess.start(['--rules-dir', join(ROOT, 'bundles'), '--output', 'json']);
});

after(async () => {
  const code = await tracee?.stop();
  assert.equal(code, 0, `tracee exited with ${code}:\n${tracee?.stderr}`);
  assert.match(tracee.stderr, /lost: 0 \(ring buffer full\), 0 \(addon queue full\)/, 'events were lost');
});

const forPid = (fs: FindingJson[], pid: number) => fs.filter((f) => f.Context.hostProcessId === pid);

test('TRC-102 anti_debugging: ptrace(PTRACE_TRACEME) from a real process', async () => {
  const { pid, word: rc } = runTrigger(triggers.ptrace_traceme);
  assert.equal(rc, '0', 'the trigger could not call ptrace');
  await tracee.waitFor((fs) => forPid(fs, pid).length > 0);
  await new Promise((r) => setTimeout(r, 300)); // room for an unexpected second finding
  const found = forPid(tracee.findings, pid);
  assert.deepEqual(found.map((f) => f.SigMetadata.ID), ['TRC-102']);
  const [f] = found;
  assert.equal(f.SigMetadata.EventName, 'anti_debugging');
  assert.equal(f.Context.processName, 'ptrace_traceme');
  assert.equal(f.Context.processId, pid);
  assert.equal(f.Context.eventName, 'ptrace');
  assert.equal(f.Context.args.find((a) => a.name === 'request')?.value, 0);
});

test('TRC-105 fileless_execution: execveat(AT_EMPTY_PATH) of a memfd', async () => {
  const { pid, word: comm } = runTrigger(triggers.memfd_exec, [triggers.report_self]);
  await tracee.waitFor((fs) => forPid(fs, pid).length > 0);
  await new Promise((r) => setTimeout(r, 300));
  const found = forPid(tracee.findings, pid);
  assert.deepEqual(found.map((f) => f.SigMetadata.ID), ['TRC-105']);
  const [f] = found;
  assert.equal(f.SigMetadata.EventName, 'fileless_execution');
  assert.equal(f.Context.eventName, 'sched_process_exec');
  assert.equal(f.Context.processName, comm);
  assert.match(String(f.Context.args.find((a) => a.name === 'pathname')?.value), /^memfd:trc105/);
});

test('TRC-105 fileless_execution: exec of a memfd through /proc/self/fd (fexecve fallback)', async () => {
  const { pid, word: comm } = runTrigger(triggers.memfd_exec, [triggers.report_self, 'procfd']);
  await tracee.waitFor((fs) => forPid(fs, pid).length > 0);
  const [f] = forPid(tracee.findings, pid);
  assert.equal(f.SigMetadata.ID, 'TRC-105');
  assert.equal(f.Context.processName, comm);
});

test('a plain exec from disk produces no finding', async () => {
  const { pid } = runTrigger(triggers.report_self);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(forPid(tracee.findings, pid), []);
});
