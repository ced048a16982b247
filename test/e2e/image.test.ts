/**
 * End to end, as root, for real: builds the container image with
 * deploy/image/build.sh (debootstrap base → podman import → podman build; the
 * base is cached under /var/lib/tracee-ts-image, so only the first run pays
 * for debootstrap, ~30-60 s here) and runs it with podman the way Tracee's
 * docs run Tracee:
 *
 *   podman run --privileged --pid=host --cgroupns=host \
 *     -v /etc/os-release:/etc/os-release-host:ro -v <runtime socket dir>:/var/run/podman \
 *     -e CONTAINERS_ENRICHMENT=1 localhost/tracee-ts:dev --output json
 *
 * (plus --network=host, which keeps podman from creating a CNI bridge on this
 * machine). Then a process on the host and one inside another container call
 * ptrace(PTRACE_TRACEME) and the container's JSON output must hold the TRC-102
 * detections, the second one enriched with that container's name and image.
 *
 * All podman calls use the image scripts' private storage (deploy/image/podman-env.sh),
 * never the machine's default podman state, and the podman API service this
 * test starts is stopped by its PID.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTriggers } from '../helpers/triggers.ts';
import { ROOT } from '../helpers/tracee-process.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';

const ENV_SH = join(ROOT, 'deploy/image/podman-env.sh');
const BUILD_SH = join(ROOT, 'deploy/image/build.sh');
const IMAGE = process.env.TRACEE_IMAGE ?? 'localhost/tracee-ts:dev';
const VICTIM_IMAGE = 'localhost/tracee-ts-e2e-victim:latest';
const TAG = `${process.pid}`;
const TRACEE_NAME = `tracee-ts-e2e-${TAG}`;
const VICTIM_NAME = `tracee-ts-e2e-victim-${TAG}`;

/** What deploy/image/podman-env.sh decides: its global podman arguments and its environment. */
function podmanSetup(): { args: string[]; env: NodeJS.ProcessEnv; run: string } {
  const out = execFileSync('bash', ['-c', `. "${ENV_SH}" && tracee_image_write_podman_conf && tpodman_args && echo "--" && env`], { encoding: 'utf8' });
  const [argText, envText] = out.split('\n--\n');
  const env: NodeJS.ProcessEnv = {};
  for (const line of envText.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return { args: argText.split('\n').filter(Boolean), env, run: env.TRACEE_IMAGE_RUN! };
}

let P: ReturnType<typeof podmanSetup>;
const podman = (args: string[], timeout = 60_000): string =>
  execFileSync('podman', [...P.args, ...args], { env: P.env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

let triggers: Record<string, string>;
let service: ChildProcess | undefined;
let tracee: ChildProcess | undefined;
let traceeExit: Promise<number | null>;
let stderr = '';
let sockDir = '';
const findings: FindingJson[] = [];

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number, detail = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const describeFindings = () =>
  `findings so far: ${JSON.stringify(findings.map((f) => [f.SigMetadata.ID, f.Context.hostProcessId, f.Context.processName, f.Context.containerId]))}\ntracee stderr:\n${stderr}`;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the image end-to-end test needs root (debootstrap, rootful podman, eBPF): run it as root');
  assert.ok(existsSync('/sys/kernel/btf/vmlinux'), 'kernel feature missing: BTF (/sys/kernel/btf/vmlinux)');

  const t0 = Date.now();
  // builds, or finds the image up to date; prints its timings on stderr
  const build = spawn('bash', [BUILD_SH, 'build', '--no-artifacts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let buildLog = '';
  build.stdout!.on('data', (d) => { buildLog += d; });
  build.stderr!.on('data', (d) => { buildLog += d; });
  const code = await new Promise<number | null>((r) => build.once('exit', r));
  assert.equal(code, 0, `deploy/image/build.sh failed:\n${buildLog}`);
  console.error(`image: deploy/image/build.sh took ${((Date.now() - t0) / 1000).toFixed(1)} s\n${buildLog.replace(/^/gm, '  ')}`);

  P = podmanSetup();
  triggers = buildTriggers();
  podman(['tag', IMAGE, VICTIM_IMAGE]);
  podman(['image', 'prune', '-f']); // the previous build, once the victim tag has moved off it

  // the runtime socket tracee enriches from: a podman API service on our storage,
  // mounted where Tracee looks for podman's socket (/var/run/podman/podman.sock)
  sockDir = join(P.run, `sock-${TAG}`);
  mkdirSync(sockDir, { recursive: true });
  const sock = join(sockDir, 'podman.sock');
  service = spawn('podman', [...P.args, 'system', 'service', '--time=0', `unix://${sock}`], { env: P.env, stdio: 'ignore' });
  await until('podman API service', () => ping(sock), 15_000);

  tracee = spawn('podman', [...P.args, 'run', '--rm', '--name', TRACEE_NAME,
    '--privileged', '--pid=host', '--cgroupns=host', '--network=host',
    '-v', '/etc/os-release:/etc/os-release-host:ro',
    '-v', `${sockDir}:/var/run/podman`,
    '-e', 'CONTAINERS_ENRICHMENT=1',
    IMAGE, '--output', 'json'], { env: P.env, stdio: ['ignore', 'pipe', 'pipe'] });
  traceeExit = new Promise((r) => tracee!.once('exit', (c) => r(c)));
  let pending = '';
  tracee.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim()) findings.push(JSON.parse(line));
  });
  tracee.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const t1 = Date.now();
  await until('tracee in the container starts capturing', () => {
    if (tracee!.exitCode !== null) throw new Error(`the tracee container exited with ${tracee!.exitCode}:\n${stderr}`);
    return stderr.includes('capturing');
  }, 60_000, () => stderr);
  console.error(`image: container start to capturing: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
});

after(async () => {
  const errors: string[] = [];
  if (tracee && tracee.exitCode === null) {
    try { podman(['stop', '-t', '20', TRACEE_NAME], 40_000); } catch (err) { errors.push(`podman stop: ${(err as Error).message}`); }
    const code = await traceeExit;
    if (code !== 0) errors.push(`the tracee container exited with ${code}:\n${stderr}`);
    else if (!/lost: 0 \(ring buffer full\), 0 \(addon queue full\)/.test(stderr)) errors.push(`events were lost:\n${stderr}`);
  }
  try { podman(['rm', '-f', '-t', '0', VICTIM_NAME]); } catch { /* never started */ }
  if (service && service.exitCode === null) {
    const exited = new Promise((r) => service!.once('exit', r));
    service.kill('SIGTERM');
    const timer = setTimeout(() => service!.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (sockDir) rmSync(sockDir, { recursive: true, force: true });
  assert.deepEqual(errors, []);
});

test('the image holds the documented layout, Node 20 and no compiler', () => {
  const out = podman(['run', '--rm', '--network=none', '--entrypoint', '/bin/sh', IMAGE, '-c',
    'node --version; ls /tracee-ts/bundles /tracee-ts/templates; ls /tracee-ts/bpf/build/tracee.bpf.o /tracee-ts/native/build/Release/tracee_capture.node; ' +
    'test ! -e /tracee-ts/node_modules/typescript && echo no-dev-deps; for c in gcc cc clang g++ make; do command -v $c; done; echo end']);
  assert.match(out, /^v20\./m);
  assert.match(out, /anti_debugging\.wasm/);
  assert.match(out, /falcosidekick\.tmpl/);
  assert.match(out, /tracee\.bpf\.o/);
  assert.match(out, /tracee_capture\.node/);
  assert.match(out, /no-dev-deps/);
  assert.match(out, /\nend$/, `a compiler or make is in the image:\n${out}`);
  assert.doesNotMatch(out, /\/(gcc|cc|clang|g\+\+|make)$/m);
});

test('the entrypoint passes subcommands through and runs other programs', () => {
  const list = podman(['run', '--rm', '--network=none', IMAGE, 'tracee', 'list-signatures']);
  assert.match(list, /TRC-102/);
  const rules = podman(['run', '--rm', '--network=none', IMAGE, 'tracee-rules', '--list']);
  assert.match(rules, /TRC-102/);
  assert.equal(podman(['run', '--rm', '--network=none', IMAGE, 'cat', '/etc/debian_version']).split('.')[0], '12');
});

test('the entrypoint merges TRACEE_EXTRA_RULES_DIRS with the built-in bundles', () => {
  const extra = mkdtempSync(join(tmpdir(), 'tracee-ts-extra-rules-'));
  copyFileSync(join(ROOT, 'bundles', 'anti_debugging.wasm'), join(extra, 'custom_copy.wasm'));
  // an invalid --buffers value makes tracee stop right after the entrypoint's work (no capture)
  let err = '';
  try {
    podman(['run', '--rm', '--network=none', '-v', `${extra}:/extra:ro`, '-e', 'TRACEE_EXTRA_RULES_DIRS=/extra:/missing', IMAGE, '--buffers', '3']);
    assert.fail('tracee accepted --buffers 3');
  } catch (e) {
    err = String((e as { stderr?: string }).stderr);
  }
  assert.match(err, /rules: \d+ bundle\(s\) from \/tracee-ts\/bundles/);
  assert.match(err, /rules: 1 bundle\(s\) from \/extra/);
  assert.match(err, /rules directory \/missing does not exist; skipped/);
  assert.match(err, /warning: no host os-release/);
  assert.match(err, /--buffers 3: must be a power of two/);
});

test('TRC-102 from a process on the host, in the container\'s JSON output', async () => {
  const out = execFileSync(triggers.ptrace_traceme, { encoding: 'utf8' }).trim();
  const [pid, rc] = out.split(' ').map(Number);
  assert.equal(rc, 0, 'the trigger could not call ptrace');
  await until('the TRC-102 finding for the host trigger', () => findings.some((f) => f.Context.hostProcessId === pid), 15_000, describeFindings);
  const f = findings.find((x) => x.Context.hostProcessId === pid)!;
  assert.equal(f.SigMetadata.ID, 'TRC-102');
  assert.equal(f.SigMetadata.EventName, 'anti_debugging');
  assert.equal(f.Context.processName, 'ptrace_traceme');
  assert.equal(f.Context.eventName, 'ptrace');
  assert.equal(f.Context.containerId, '', 'a host process was reported as a container');
});

test('TRC-102 from inside another container carries that container\'s name and image (CONTAINERS_ENRICHMENT=1)', async () => {
  // a program name of this run's own, so a concurrent run's trigger cannot be taken for ours
  const comm = `trc102-${TAG}`.slice(0, 15);
  const triggerDir = mkdtempSync(join(tmpdir(), 'tracee-ts-victim-'));
  copyFileSync(triggers.ptrace_traceme, join(triggerDir, comm));
  chmodSync(join(triggerDir, comm), 0o755);
  const id = podman(['run', '-d', '--name', VICTIM_NAME, '--network=none', '-v', `${triggerDir}:/triggers:ro`,
    '--entrypoint', `/triggers/${comm}`, VICTIM_IMAGE]);
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(podman(['wait', VICTIM_NAME]), '0', `the trigger failed in the container: ${podman(['logs', VICTIM_NAME])}`);
  // the trigger runs as PID 1 of the container's own pid namespace
  const hostPidNs = statSync('/proc/self/ns/pid').ino;
  const fromVictim = (x: FindingJson) => x.Context.processName === comm;
  await until('a TRC-102 finding for the trigger in the container', () => findings.some(fromVictim), 15_000, describeFindings);
  const f = findings.find(fromVictim)!;
  assert.equal(f.SigMetadata.ID, 'TRC-102');
  assert.equal(f.Context.processId, 1);
  assert.notEqual(f.Context.pidNamespace, hostPidNs);
  const ctx = f.Context as FindingJson['Context'] & { contextFlags?: { containerStarted?: boolean } };
  assert.equal(ctx.containerId, id,
    `container enrichment is not wired: the finding from container ${VICTIM_NAME} (${id.slice(0, 12)}) has containerId "${ctx.containerId}" ` +
    `and container ${JSON.stringify(ctx.container)} (tracee stderr:\n${stderr})`);
  assert.equal(ctx.container?.id, id);
  assert.equal(ctx.container?.name, VICTIM_NAME);
  assert.equal(ctx.container?.image, VICTIM_IMAGE);
  assert.equal(ctx.contextFlags?.containerStarted, true);
});
