import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSignature, generateKeys, loadPrivateKey, loadTrustedKey, signBundle, SIGNING_SECTION } from '../../host/engine/signing.ts';
import { readSections } from '../../host/engine/wasm-sections.ts';
import { loadRulesDir } from '../../host/engine/load.ts';
import { Bundle } from '../../host/engine/bundle.ts';
import { echoBundleWat, metadata, watModule } from '../helpers/wat-bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'tracee-signing-'));
const ours = generateKeys(join(dir, 'ours'));
const theirs = generateKeys(join(dir, 'theirs'));
const bundle = watModule(echoBundleWat(), metadata('T-SIGNED', [{ name: 'ptrace' }]));

test('keygen writes an Ed25519 key pair with a stable key id; the private key is not world-readable', () => {
  assert.match(ours, /^[0-9a-f]{16}$/);
  assert.notEqual(ours, theirs);
  assert.equal(loadTrustedKey(join(dir, 'ours.pub')).keyId, ours);
  assert.equal(statSync(join(dir, 'ours.key')).mode & 0o077, 0);
});

test('a signed bundle verifies with its key, and fails when modified, unsigned, or signed by another key', async () => {
  const signed = signBundle(bundle, loadPrivateKey(join(dir, 'ours.key')));
  const trusted = [loadTrustedKey(join(dir, 'ours.pub'))];
  assert.deepEqual(checkSignature(signed, trusted), { state: 'valid', keyId: ours, file: join(dir, 'ours.pub') });
  assert.equal(readSections(signed).filter((s) => s.name === SIGNING_SECTION).length, 1);
  assert.deepEqual(signBundle(signed, loadPrivateKey(join(dir, 'ours.key'))), signed, 're-signing replaces the section');
  await Bundle.load('signed.wasm', signed, () => {}); // still a valid bundle

  assert.deepEqual(checkSignature(bundle, trusted), { state: 'unsigned' });
  const tampered = signed.slice();
  const meta = Buffer.from(tampered).indexOf('T-SIGNED');
  tampered[meta] = 'X'.charCodeAt(0);
  const bad = checkSignature(tampered, trusted);
  assert.equal(bad.state, 'invalid');
  assert.match((bad as { reason: string }).reason, /does not match the bundle's content/);
  const other = checkSignature(signBundle(bundle, loadPrivateKey(join(dir, 'theirs.key'))), trusted);
  assert.match((other as { reason: string }).reason, new RegExp(`signed by key ${theirs}, which is not among the trusted keys`));
});

test('with trusted keys, a rules directory loads only correctly signed bundles and names the others', async () => {
  const rules = mkdtempSync(join(tmpdir(), 'tracee-signed-rules-'));
  writeFileSync(join(rules, 'a-signed.wasm'), signBundle(bundle, loadPrivateKey(join(dir, 'ours.key'))));
  writeFileSync(join(rules, 'b-unsigned.wasm'), bundle);
  writeFileSync(join(rules, 'c-theirs.wasm'), signBundle(bundle, loadPrivateKey(join(dir, 'theirs.key'))));
  writeFileSync(join(rules, 'd-garbage.wasm'), readFileSync(join(dir, 'ours.pub')));
  const { bundles, errors } = await loadRulesDir(rules, { trustedKeys: [loadTrustedKey(join(dir, 'ours.pub'))] });
  assert.deepEqual(bundles.map((b) => b.name), ['a-signed.wasm']);
  assert.deepEqual(errors.map((e) => e.message.replace(/[0-9a-f]{16}/, 'KEY')), [
    'bundle b-unsigned.wasm: refused: not signed, and --trusted-keys requires signed bundles',
    'bundle c-theirs.wasm: refused: signed by key KEY, which is not among the trusted keys',
    'bundle d-garbage.wasm: refused: cannot read its signature: not a WebAssembly binary (bad magic)',
  ]);
  const open = await loadRulesDir(rules);
  assert.equal(open.bundles.length, 3, 'without trusted keys every valid bundle loads');
});
