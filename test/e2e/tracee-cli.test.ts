/**
 * `tracee` with policies, end to end, as root: the real CLI with a policy
 * file, with -s/-e, printing events as well as detections; and bad policies
 * rejected with exit code 2, naming the file and field, before capture
 * starts. Without root or a needed kernel feature the live tests FAIL
 * saying which.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTriggers, runTriggerAsync } from '../helpers/triggers.ts';
import { ROOT } from '../helpers/tracee-process.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';

const CLI = join(ROOT, 'host/cli/bin/tracee.js');
const FIXTURES = join(ROOT, 'test/fixtures/policies');
const BUNDLES = join(ROOT, 'bundles');

/** A running tracee: its stdout lines and stderr. */
class Tracee {
  lines: string[] = [];
  stderr = '';
  private pending = '';
  private readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, '--rules-dir', BUNDLES, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.pending + chunk).split('\n');
      this.pending = parts.pop()!;
      this.lines.push(...parts.filter((l) => l.trim() !== ''));
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
  }

  static async start(args: string[]): Promise<Tracee> {
    const t = new Tracee(args);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tracee did not start within 30 s:\n${t.stderr}`)), 30_000);
      t.child.stderr!.on('data', () => { if (t.stderr.includes('capturing')) { clearTimeout(timer); resolve(); } });
      t.child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tracee exited with ${code} before capturing:\n${t.stderr}`)); });
    });
    return t;
  }

  /** JSON lines: events (eventName at top level) and findings (SigMetadata). */
  get events(): TraceeEvent[] {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((o) => 'eventName' in o);
  }

  get findings(): FindingJson[] {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((o) => 'SigMetadata' in o);
  }

  async waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGINT');
    return exited;
  }
}

/** Runs tracee expecting it to refuse to start. */
function refuse(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '--rules-dir', BUNDLES, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertRefused(r: ReturnType<typeof refuse>, ...patterns: RegExp[]) {
  assert.equal(r.code, 2, `exit code 2 expected:\n${r.stderr}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.doesNotMatch(r.stderr, /capturing|kernel:/, 'nothing may start before the policies are valid');
  assert.equal(r.stdout, '');
}

// ---- refused before capture (no root needed) ----

test('a policy with an unknown event exits 2 naming the file, the field and a near name', () => {
  const file = join(FIXTURES, 'invalid', 'unknown-event.yaml');
  assertRefused(refuse(['-p', file]), new RegExp(`^tracee: policy ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: spec\\.rules\\[0\\]\\.event \\(line 11\\): unknown event "security_file_opn" \\(did you mean security_file_open\\?\\)`, 'm'));
});

test('a policy with a bad operator exits 2 naming the file, the field and the allowed operators', () => {
  assertRefused(refuse(['-p', join(FIXTURES, 'invalid')]), /policy .*bad-operator\.yaml: spec\.scope\[0\] \(line 9\): "comm>x": operator ">" is not allowed for comm \(allowed: =, !=\)/);
});

test('bad --scope/--events values, invalid YAML and mixed flags exit 2 with the reason', () => {
  assertRefused(refuse(['-s', 'uid=root']), /^tracee: --scope: "uid=root": "root" is not a number/m);
  assertRefused(refuse(['-e', 'opnat']), /^tracee: --events: "opnat": unknown event or set "opnat" \(did you mean openat, openat2\?\)/m);
  assertRefused(refuse(['-e', 'openat.data.pathnme=/tmp*']), /event openat has no argument "pathnme" \(did you mean pathname\?\)/);
  const dir = mkdtempSync(join(tmpdir(), 'tracee-cli-'));
  writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: tracee.aquasec.com/v1beta1\nkind: [Policy\n');
  assertRefused(refuse(['-p', join(dir, 'broken.yaml')]), /broken\.yaml: line \d+, column \d+: invalid YAML/);
  assertRefused(refuse(['-p', join(FIXTURES, 'valid', 'openat-data-pathname.yaml'), '-s', 'comm=cat']), /--policy: cannot be combined with --scope or --events/);
  assertRefused(refuse(['-o', 'option:bogus']), /--output option:bogus: unknown option "bogus"/);
  assertRefused(refuse(['--buffers', '8']), /--buffers 8: must be at least 16 pages \(64 KiB\)/);
});

// ---- live capture ----

let triggers: Record<string, string>;

before(() => {
  assert.equal(process.getuid?.(), 0, 'eBPF end-to-end tests need root: run them as root (sudo npm test)');
  assert.ok(existsSync('/sys/kernel/btf/vmlinux'), 'kernel feature missing: BTF (/sys/kernel/btf/vmlinux)');
  assert.ok(existsSync(join(BUNDLES, 'anti_debugging.wasm')), 'built-in bundles missing: run npm run build');
  triggers = buildTriggers();
});

test('a policy file: events and detections printed as JSON with the policies they matched, nothing out of scope', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracee-cli-'));
  writeFileSync(join(dir, 'policies.yaml'), `apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata:
  name: debuggers
  annotations:
    description: anti-debugging, and ptrace requests other than TRACEME, by the trigger
spec:
  scope:
    - comm=ptrace_traceme
  rules:
    - event: anti_debugging
    - event: ptrace
      filters:
        - data.request!=PTRACE_TRACEME
---
apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata:
  name: report-self-execs
spec:
  scope:
    - global
  rules:
    - event: sched_process_exec
      filters:
        - data.pathname=*/report_self
`);
  const tracee = await Tracee.start(['-p', dir, '-o', 'json']);
  try {
    const traced = await runTriggerAsync(triggers.ptrace_traceme);
    const reported = await runTriggerAsync(triggers.report_self);
    await runTriggerAsync('/usr/bin/true');
    await tracee.waitFor('the detection and the exec event', () =>
      tracee.findings.some((f) => f.Context.hostProcessId === traced.pid) && tracee.events.some((e) => e.hostProcessId === reported.pid));
    await new Promise((r) => setTimeout(r, 500)); // room for anything unexpected

    const [finding, ...moreFindings] = tracee.findings;
    assert.deepEqual(moreFindings, []);
    assert.equal(finding.SigMetadata.ID, 'TRC-102');
    assert.equal(finding.Context.hostProcessId, traced.pid);
    assert.deepEqual(finding.Context.matchedPolicies, ['debuggers']);
    assert.equal(finding.Context.executable.path, triggers.ptrace_traceme);

    const events = tracee.events;
    assert.deepEqual(events.map((e) => [e.eventName, e.hostProcessId]), [['sched_process_exec', reported.pid]],
      'the TRACEME ptrace is filtered out (yet fed the signature); /usr/bin/true is out of every policy');
    const [exec] = events;
    assert.deepEqual(exec.matchedPolicies, ['report-self-execs']);
    assert.equal(exec.processName, 'report_self');
    assert.equal(exec.executable.path, triggers.report_self);
    assert.equal(exec.args.find((a) => a.name === 'pathname')?.value, triggers.report_self);
  } finally {
    assert.equal(await tracee.stop(), 0, tracee.stderr);
  }
  assert.match(tracee.stderr, /policies: \d+ events kept, [1-9]\d* filtered/);
});

test('-s/-e: one policy; events in scope printed with parse-arguments, out-of-scope ones and unselected detections not', async () => {
  const tracee = await Tracee.start(['-s', 'comm=ptrace_traceme,memfd_exec', '-e', 'ptrace,memfd_create', '-o', 'json', '-o', 'option:parse-arguments']);
  try {
    const traced = await runTriggerAsync(triggers.ptrace_traceme);
    const fileless = await runTriggerAsync(triggers.memfd_exec, [triggers.report_self]);
    await runTriggerAsync('/usr/bin/python3', ['-c', 'import os; os.memfd_create("out_of_scope")']).catch(() => undefined);
    await tracee.waitFor('ptrace and memfd_create events', () =>
      tracee.events.some((e) => e.hostProcessId === traced.pid) && tracee.events.some((e) => e.hostProcessId === fileless.pid));
    await new Promise((r) => setTimeout(r, 500));
    const events = tracee.events;
    assert.deepEqual(events.map((e) => [e.eventName, e.processName]), [['ptrace', 'ptrace_traceme'], ['memfd_create', 'memfd_exec']]);
    assert.ok(events.every((e) => e.matchedPolicies.length === 1 && e.matchedPolicies[0] === ''), 'the CLI policy is named ""');
    assert.equal(events[0].args.find((a) => a.name === 'request')?.value, 'PTRACE_TRACEME');
    assert.equal(events[1].args.find((a) => a.name === 'flags')?.value, 'MFD_CLOEXEC');
    assert.equal(events[1].args.find((a) => a.name === 'name')?.value, 'trc105');
    assert.deepEqual(tracee.findings, [], 'no signature event was selected');
  } finally {
    assert.equal(await tracee.stop(), 0, tracee.stderr);
  }
});

test('-e with a data filter prints a table of events: TIME UID COMM PID TID RET EVENT ARGS', async () => {
  const tracee = await Tracee.start(['-e', 'sched_process_exec.data.pathname=*/report_self']);
  try {
    const reported = await runTriggerAsync(triggers.report_self);
    await runTriggerAsync('/usr/bin/true');
    await tracee.waitFor('the exec row', () => tracee.lines.some((l) => l.includes(` ${reported.pid} `)));
    await new Promise((r) => setTimeout(r, 300));
    assert.match(tracee.lines[0], /^TIME\s+UID\s+COMM\s+PID\s+TID\s+RET\s+EVENT\s+ARGS$/);
    assert.equal(tracee.lines.length, 2, tracee.lines.join('\n'));
    assert.match(tracee.lines[1], new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\s+0\\s+report_self\\s+${reported.pid}\\s+${reported.pid}\\s+0\\s+sched_process_exec\\s+cmdpath: .*pathname: ${triggers.report_self}`));
  } finally {
    assert.equal(await tracee.stop(), 0, tracee.stderr);
  }
});
