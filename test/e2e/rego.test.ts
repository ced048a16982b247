/**
 * Rego signatures through the real CLIs, without root: `tracee-rules build`
 * of signatures-rego/ and of a mixed directory (AssemblyScript and Rego
 * side by side), `tracee-rules test`, `--list`, and replaying recorded
 * events with Rego and AssemblyScript bundles loaded together.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/tracee-process.ts';

const RULES = join(ROOT, 'host/cli/bin/tracee-rules.js');
const FIXTURES = join(ROOT, 'test/fixtures/signatures');
let tmp: string;

function rules(args: string[]) {
  const r = spawnSync(process.execPath, [RULES, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => { tmp = mkdtempSync(join(os.tmpdir(), 'tracee-rego-e2e-')); });
after(() => { rmSync(tmp, { recursive: true, force: true }); });

test('tracee-rules test signatures-rego/ runs every test_* rule and reports each', () => {
  const r = rules(['test', join(ROOT, 'signatures-rego')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS data\.tracee\.TRC_102\.test_match_traceme$/m);
  assert.match(r.stdout, /\n(\d+) passed, 0 failed\n$/);
});

test('tracee-rules test reports failures and compile errors with file:line:col', () => {
  const dir = join(tmp, 'failing');
  mkdirSync(dir);
  writeFileSync(join(dir, 'x_test.rego'), 'package x\ntest_ok { true }\ntest_bad { 1 == 2 }\n');
  const r = rules(['test', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAIL data\.x\.test_bad \(undefined\)$/m);
  assert.match(r.stdout, /^PASS data\.x\.test_ok$/m);
  writeFileSync(join(dir, 'y.rego'), 'package y\np { x > 1 }\n');
  const e = rules(['test', dir]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /y\.rego:2:5: rego_unsafe_var_error: var x is unsafe/);
});

test('tracee-rules build compiles signatures-rego/ and a mixed directory; --list shows both kinds', () => {
  const out = join(tmp, 'rego-bundles');
  const r = rules(['build', join(ROOT, 'signatures-rego'), '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readdirSync(out).filter((f) => f.endsWith('.wasm')).length >= 12);

  const mixed = join(tmp, 'mixed');
  mkdirSync(mixed);
  copyFileSync(join(ROOT, 'signatures-as/signatures/anti_debugging.ts'), join(mixed, 'anti_debugging.ts'));
  writeFileSync(join(mixed, 'anti_debugging.ts'), spawnSync('sed', ['s#"../sdk"#"./sdk"#', join(ROOT, 'signatures-as/signatures/anti_debugging.ts')], { encoding: 'utf8' }).stdout);
  copyFileSync(join(ROOT, 'signatures-rego/helpers.rego'), join(mixed, 'helpers.rego'));
  copyFileSync(join(ROOT, 'signatures-rego/signatures/fileless_execution.rego'), join(mixed, 'fileless_execution.rego'));
  const mixedOut = join(tmp, 'mixed-bundles');
  const m = rules(['build', mixed, '-o', mixedOut]);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(readdirSync(mixedOut).sort(), ['anti_debugging.wasm', 'fileless_execution.wasm']);
  const list = rules(['--rules-dir', mixedOut, '--list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /TRC-102\s/);
  assert.match(list.stdout, /TRC-105\s/);

  // bad Rego: file:line:col errors, exit 1
  const bad = join(tmp, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'x.rego'), 'package tracee.X\n__rego_metadoc__ := {"id": "X"}\ntracee_match {\n  nope(1)\n}\n');
  const b = rules(['build', bad, '-o', join(tmp, 'bad-out')]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /x\.rego:4:3 rego_type_error: undefined function nope/);
});

test('recorded events through Rego and AssemblyScript bundles together give the same findings as AssemblyScript alone', () => {
  const regoOut = join(tmp, 'rego-only');
  assert.equal(rules(['build', join(ROOT, 'signatures-rego'), '-o', regoOut]).code, 0);
  const input = ['--input-tracee', `file:${join(FIXTURES, 'TRC-107', 'positive.jsonl')}`, '--input-tracee', 'format:json', '-o', 'json'];
  const rego = rules(['--rules-dir', regoOut, '--rules', 'TRC-107', ...input]);
  const as = rules(['--rules-dir', join(ROOT, 'bundles'), '--rules', 'TRC-107', ...input]);
  assert.equal(rego.code, 0, rego.stderr);
  assert.equal(as.code, 0, as.stderr);
  const shape = (out: string) => out.trim().split('\n').map((l) => { const j = JSON.parse(l); return [j.SigMetadata.ID, j.Data, j.Context.timestamp]; });
  assert.deepEqual(shape(rego.stdout), shape(as.stdout));
  assert.equal(shape(rego.stdout).length, 4);
});

test('tracee-rules build --rego-all-in-one: one module for every Rego signature, loaded as one signature each, the same findings', () => {
  const out = join(tmp, 'aio');
  const b = rules(['build', join(ROOT, 'signatures-rego'), '-o', out, '--rego-all-in-one']);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(readdirSync(out), ['rego-signatures.wasm']);
  const list = rules(['--rules-dir', out, '--list']);
  assert.equal(list.code, 0, list.stderr);
  for (const id of ['TRC-102', 'TRC-105', 'TRC-107', 'TRC-1010']) assert.match(list.stdout, new RegExp(`\\b${id}\\b`));
  const input = (id: string) => ['--input-tracee', `file:${join(FIXTURES, id, 'positive.jsonl')}`, '--input-tracee', 'format:json', '-o', 'json'];
  const shape = (o: string) => o.trim().split('\n').map((l) => { const j = JSON.parse(l); return [j.SigMetadata.ID, j.Data, j.Context.timestamp]; });
  for (const id of ['TRC-107', 'TRC-102']) {
    const aio = rules(['--rules-dir', out, '--rules', id, ...input(id)]);
    const as = rules(['--rules-dir', join(ROOT, 'bundles'), '--rules', id, ...input(id)]);
    assert.equal(aio.code, 0, aio.stderr);
    assert.ok(shape(as.stdout).length > 0);
    assert.deepEqual(shape(aio.stdout), shape(as.stdout), id);
  }
  const bad = rules(['build', join(ROOT, 'signatures-rego'), '-o', out, '--rego-all-in-one', 'all.rego']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rego-all-in-one all\.rego: the file name must end in \.wasm/);
});
