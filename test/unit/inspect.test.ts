/**
 * `tracee-rules inspect` (host/engine/inspect.ts): a bundle described without
 * running its code, including bundles the host would refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatInspection, inspectBundle } from '../../host/engine/inspect.ts';
import { generateKeys, loadPrivateKey, loadTrustedKey, signBundle } from '../../host/engine/signing.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';
import { HOSTILE, bundleBytes } from '../helpers/hostile-bundles.ts';

const dir = mkdtempSync(join(tmpdir(), 'tracee-inspect-'));
const keyId = generateKeys(join(dir, 'k'));
const trusted = [loadTrustedKey(join(dir, 'k.pub'))];

function file(name: string, bytes: Uint8Array): string {
  writeFileSync(join(dir, name), bytes);
  return join(dir, name);
}

const good = watModule(echoBundleWat(), metadata('TRC-X', [{ name: 'ptrace' }, { name: 'sched_process_exec', origin: 'container' }], { tags: ['linux'], properties: { Severity: 2, Category: 'defense-evasion' } }));

test('describes a bundle: metadata, ABI version, imports, exports, size, hash, sections', async () => {
  const r = await inspectBundle(file('good.wasm', good));
  assert.equal(r.size, good.length);
  assert.equal(r.sha256, createHash('sha256').update(good).digest('hex'));
  assert.equal(r.metadata?.id, 'TRC-X');
  assert.equal(r.abiVersion, 1);
  assert.deepEqual(r.imports, [{ module: 'tracee', name: 'emit_finding', kind: 'function', allowed: true }]);
  assert.deepEqual(r.exports.map((e) => `${e.name}:${e.kind}`), ['memory:memory', 'tracee_abi_version:global', 'tracee_input:function', 'tracee_on_batch:function']);
  assert.deepEqual(r.customSections.map((s) => s.name), ['tracee.signature']);
  assert.deepEqual(r.signature, { state: 'unsigned' });
  assert.deepEqual(r.problems, []);
  const text = formatInspection(r);
  assert.match(text, /^bundle: {5}.*good\.wasm$/m);
  assert.match(text, /^abi: {8}1$/m);
  assert.match(text, /^signature: {2}unsigned$/m);
  assert.match(text, /^ {2}selectedEvents: ptrace \(origin \*\), sched_process_exec \(origin container\)$/m);
  assert.match(text, /^ {2}properties: {5}Severity=2, Category=defense-evasion$/m);
  assert.match(text, /^ {2}tracee\.emit_finding \(function\)$/m);
  assert.match(text, /^problems: {3}none \(the host would load it\)$/m);
});

test('reports the signature: valid with its key, unverified without keys, invalid when modified', async () => {
  const signed = signBundle(good, loadPrivateKey(join(dir, 'k.key')));
  const path = file('signed.wasm', signed);
  const valid = await inspectBundle(path, trusted);
  assert.deepEqual(valid.signature, { state: 'valid', keyId, file: join(dir, 'k.pub') });
  assert.match(formatInspection(valid), new RegExp(`^signature: {2}valid, key ${keyId} \\(.*k\\.pub\\)$`, 'm'));
  assert.match(formatInspection(await inspectBundle(path)), new RegExp(`^signature: {2}signed by key ${keyId}, not verified \\(no trusted keys given\\)$`, 'm'));
  const tampered = signed.slice();
  tampered[Buffer.from(tampered).indexOf('TRC-X') + 4] = 'Y'.charCodeAt(0);
  const bad = await inspectBundle(file('tampered.wasm', tampered), trusted);
  assert.equal(bad.signature.state, 'invalid');
  assert.match(formatInspection(bad), /^signature: {2}INVALID: the signature does not match the bundle's content/m);
  assert.match(bad.problems.join('\n'), /signature: the signature does not match/);
  assert.deepEqual((await inspectBundle(file('unsigned.wasm', good), trusted)).problems, ['not signed']);
});

test('describes bundles the host would refuse, with the reasons', async () => {
  const wasi = await inspectBundle(file('wasi.wasm', bundleBytes(HOSTILE.wasiImport(), 'W')));
  assert.deepEqual(wasi.problems, ['import wasi_snapshot_preview1.fd_write (function) is not part of the signature SDK; allowed: tracee.emit_finding, tracee.log, tracee.container_get, env.abort']);
  assert.match(formatInspection(wasi), /^ {2}wasi_snapshot_preview1\.fd_write \(function\) {2}NOT ALLOWED$/m);

  const abi7 = await inspectBundle(file('abi7.wasm', watModule(echoBundleWat().replace('(i32.const 1))\n', '(i32.const 7))\n'), metadata('X', [{ name: 'ptrace' }]))));
  assert.equal(abi7.abiVersion, 7);
  assert.deepEqual(abi7.problems, ['ABI version 7 is not supported (this host supports 1)']);

  const noMeta = await inspectBundle(file('nometa.wasm', watModule(echoBundleWat())));
  assert.equal(noMeta.metadata, null);
  assert.deepEqual(noMeta.problems, ['expected one "tracee.signature" custom section, found 0']);

  const text = await inspectBundle(file('script.wasm', new TextEncoder().encode('#!/bin/sh\n')));
  assert.equal(text.size, 10);
  assert.match(text.problems[0], /^not a valid WebAssembly module: /);
  assert.match(formatInspection(text), /^abi: {8}unknown$/m);
});
