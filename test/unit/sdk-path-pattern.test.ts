/**
 * The SDK's path-pattern matcher (signatures-as/sdk/path-pattern.ts), on its
 * own: a probe signature matches the exec pathname against a pattern taken
 * from argv[0], run through the real build and the real engine. The patterns
 * the shipped signatures use are checked against Tracee's regular
 * expressions (JS RegExp, same semantics for these) on generated paths.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBundles } from '../../host/build/build-bundles.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';

const PROBE = `
import { Event, Metadata, register, finding, EventId, sched_process_exec } from "../sdk";

register(new Metadata("TEST-PATTERN", "1", "pattern probe", "pattern_probe", "")
  .select(EventId.sched_process_exec), onEvent);

function onEvent(e: Event): void {
  let pattern = sched_process_exec.argv(e).at(0).toString();
  finding(e).bool("match", sched_process_exec.pathname(e).matches(pattern)).emit();
}
`;

let dir: string;
let engine: Engine;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tracee-pattern-test-'));
  await mkdir(path.join(dir, 'probe', 'signatures'), { recursive: true });
  await writeFile(path.join(dir, 'probe', 'signatures', 'pattern_probe.ts'), PROBE);
  const { built, errors } = await buildBundles(path.join(dir, 'probe'), path.join(dir, 'out'));
  assert.deepEqual(errors.map(String), []);
  engine = new Engine([await Bundle.load('pattern_probe.wasm', await readFile(built[0].path), () => {})], (m) => { throw new Error(m); });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Matches every [pattern, path] pair in one batch; returns the results in order. */
function matchAll(pairs: ReadonlyArray<readonly [string, string]>): boolean[] {
  const w = new BatchWriter();
  for (const [pattern, p] of pairs) {
    w.add({ eventName: 'sched_process_exec', processId: 1, args: [{ name: 'pathname', value: p }, { name: 'argv', value: [pattern] }] });
  }
  const findings = engine.process(w.finish());
  assert.equal(findings.length, pairs.length);
  return findings.map((f) => f.data.match as boolean);
}

const match = (pattern: string, p: string) => matchAll([[pattern, p]])[0];

test('literals match the whole path, byte for byte', () => {
  assert.equal(match('/etc/passwd', '/etc/passwd'), true);
  assert.equal(match('/etc/passwd', '/etc/passwd2'), false);
  assert.equal(match('/etc/passwd', '/etc/passw'), false);
  assert.equal(match('', ''), true);
  assert.equal(match('', 'x'), false);
  assert.equal(match('x', ''), false);
});

test('* matches any run of bytes, slashes included, possibly empty', () => {
  assert.equal(match('*', ''), true);
  assert.equal(match('*', '/a/b/c'), true);
  assert.equal(match('/a*', '/a'), true);
  assert.equal(match('/a*/c', '/a/b/c'), true);
  assert.equal(match('/a*/c', '/a/b/c/d'), false);
  assert.equal(match('*.so', 'libc.so'), true);
  assert.equal(match('*.so', 'libc.so.6'), false);
  assert.equal(match('**x', 'abx'), true);
  // A later star restarts the scan after the earlier one's match.
  assert.equal(match('*a*b*c', 'xxaxxbxxbxxc'), true);
  assert.equal(match('*a*b*c', 'xxcxxbxxa'), false);
});

test('? is one byte, # one ASCII digit', () => {
  assert.equal(match('a?c', 'abc'), true);
  assert.equal(match('a?c', 'ac'), false);
  assert.equal(match('a?c', 'a/c'), true);
  assert.equal(match('#', '7'), true);
  assert.equal(match('#', 'a'), false);
  assert.equal(match('#', '/'), false);
  assert.equal(match('##', '42'), true);
  assert.equal(match('a#?', 'a1'), false);
});

test('{a,b} tries each alternative, with wildcards inside and after', () => {
  assert.equal(match('/{lib,usr/lib}/x', '/lib/x'), true);
  assert.equal(match('/{lib,usr/lib}/x', '/usr/lib/x'), true);
  assert.equal(match('/{lib,usr/lib}/x', '/usr/x'), false);
  assert.equal(match('{a*,b?}z', 'aqqqz'), true);
  assert.equal(match('{a*,b?}z', 'bqz'), true);
  assert.equal(match('{a*,b?}z', 'bqqz'), false);
  assert.equal(match('*{.so,.a}', 'libx.a'), true);
  assert.equal(match('x{,y}', 'x'), true); // an empty alternative
  assert.equal(match('x{,y}', 'xy'), true);
  assert.equal(match('{a,b},{c}', 'a,c'), true); // a comma outside a group is literal
});

test('\\ escapes a special character', () => {
  assert.equal(match('\\*', '*'), true);
  assert.equal(match('\\*', 'x'), false);
  assert.equal(match('a\\?', 'a?'), true);
  assert.equal(match('\\#', '#'), true);
  assert.equal(match('{\\,,x}', ','), true);
  assert.equal(match('\\{a\\}', '{a}'), true);
});

test('malformed patterns match nothing', () => {
  assert.equal(match('{a,b', 'a'), false);
  assert.equal(match('{a,{b}}', 'b'), false);
  assert.equal(match('a\\', 'a'), false);
  assert.equal(match('a\\', 'a\\'), false);
});

test('non-UTF-8 path bytes are compared as they are', () => {
  const w = new BatchWriter();
  w.add({ eventName: 'sched_process_exec', processId: 1, args: [{ name: 'pathname', value: '/tmp/##' }, { name: 'argv', value: ['/tmp/??'] }] });
  const batch = w.finish();
  const at = Buffer.from(batch).indexOf('/tmp/##');
  batch.set([0xff, 0xfe], at + 5);
  assert.equal(engine.process(batch)[0].data.match, true);
});

// ---- the shipped signatures' patterns against Tracee's regular expressions ---------------

/** [pattern used by the signature, Tracee's regexp]. */
const TRACEE: Array<[string, string, RegExp]> = [
  ['TRC-1012 default_loader_mod', '{/lib,/usr/lib}*/ld*.so*', /^\/(lib|usr\/lib).*\/ld.*\.so[^/]*/],
  ['TRC-1023/1024 /proc/<pid>/mem', '*/proc/#?*/mem', /\/proc\/(?:\d.+)\/mem$/],
  ['TRC-108 service account token', '*secrets/kubernetes?io/serviceaccount?*token', /secrets\/kubernetes.io\/serviceaccount.+token$/],
];

const SAMPLES = [
  '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '/usr/lib/ld.so', '/usr/lib64/ld-2.31.so', '/lib/ld.so.1', '/lib64/ld-linux.so',
  '/usr/lib/libld.so', '/usr/local/lib/ld.so', '/lib/ld', '/lib/x/ld.s', '/usr/libexec/ld-x.so/y', '/libx/ld.so', 'lib/ld.so',
  '/proc/1/mem', '/proc/12/mem', '/proc/self/mem', '/proc/123/task/123/mem', '/proc/12/mem/x', '/host/proc/42/mem', '/proc//mem',
  '/proc/1a/mem', '/proc/a1/mem', '/proc/1/mem2',
  '/var/run/secrets/kubernetes.io/serviceaccount/token', '/run/secrets/kubernetes.io/serviceaccount/..2024/token',
  'secrets/kubernetes.io/serviceaccounttoken', 'secrets/kubernetesXio/serviceaccount/token', '/secrets/kubernetes.io/serviceaccount/token.bak',
  '/var/run/secrets/kubernetes.io/serviceaccount/namespace', '', '/',
];

/** Paths from an alphabet that exercises the patterns' pieces. */
function generated(count: number, seed = 7): string[] {
  const parts = ['/', 'lib', 'usr', 'ld', '.so', '.', 'proc', '1', '42', 'mem', 'x', '-', 'secrets', 'kubernetes', 'io', 'serviceaccount', 'token', '64'];
  let s = seed;
  const next = () => { s = (s * 1103515245 + 12345) >>> 0; return s; };
  return Array.from({ length: count }, () => {
    const n = next() % 9;
    let p = next() % 2 ? '/' : '';
    for (let i = 0; i < n; i++) p += parts[next() % parts.length];
    return p;
  });
}

test('the shipped patterns agree with Tracee\'s regular expressions', () => {
  const paths = [...SAMPLES, ...generated(3000)];
  for (const [what, pattern, regexp] of TRACEE) {
    const got = matchAll(paths.map((p) => [pattern, p] as const));
    const wrong = paths.filter((p, i) => got[i] !== regexp.test(p));
    assert.deepEqual(wrong, [], `${what}: ${pattern} disagrees with ${regexp} on these paths`);
    assert.ok(got.some(Boolean) && got.some((g) => !g), `${what}: the sample paths exercise both outcomes`);
  }
});

test('long paths stay cheap: a 64 KiB path against a three-star pattern', () => {
  const long = '/' + 'a/'.repeat(32 * 1024) + 'x';
  const start = process.hrtime.bigint();
  assert.equal(match('*/a/*/b*/x', long), false);
  assert.equal(match('*/a/*/a*/x', long), true);
  assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 2000, 'took more than 2 s');
});
