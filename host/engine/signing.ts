/**
 * Bundle signing: an Ed25519 signature (node:crypto) over the bundle's bytes
 * — code and metadata section — stored in the bundle as the custom section
 * `tracee.signing` ({"alg":"ed25519","keyId","signature"}); the section itself
 * is excluded from what is signed. A key id is the first 16 hex digits of the
 * SHA-256 of the public key (SPKI DER).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { withCustomSection, withoutCustomSection, readSections } from './wasm-sections.ts';

export const SIGNING_SECTION = 'tracee.signing';

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  file: string;
}

export type SignatureStatus =
  | { state: 'unsigned' }
  | { state: 'valid'; keyId: string; file: string }
  | { state: 'invalid'; keyId: string; reason: string };

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Writes PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM); returns the key id. */
export function generateKeys(prefix: string): string {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(`${prefix}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(`${prefix}.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  return keyIdOf(publicKey);
}

export function loadPrivateKey(file: string): KeyObject {
  const key = createPrivateKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: not an Ed25519 private key`);
  return key;
}

export function loadTrustedKey(file: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(file));
  } catch (err) {
    throw new Error(`trusted key ${file}: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`trusted key ${file}: not an Ed25519 public key`);
  return { keyId: keyIdOf(key), key, file };
}

/** The bundle with a (replaced) signing section. */
export function signBundle(wasm: Uint8Array, privateKey: KeyObject): Uint8Array {
  const content = withoutCustomSection(wasm, SIGNING_SECTION);
  const keyId = keyIdOf(createPublicKey(privateKey));
  const signature = sign(null, content, privateKey).toString('base64');
  return withCustomSection(content, SIGNING_SECTION, new TextEncoder().encode(JSON.stringify({ alg: 'ed25519', keyId, signature })));
}

export function checkSignature(wasm: Uint8Array, trusted: readonly TrustedKey[]): SignatureStatus {
  const sections = readSections(wasm).filter((s) => s.id === 0 && s.name === SIGNING_SECTION);
  if (sections.length === 0) return { state: 'unsigned' };
  if (sections.length > 1) return { state: 'invalid', keyId: '', reason: `${sections.length} signing sections` };
  const module = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  let claim: { alg?: string; keyId?: string; signature?: string };
  try {
    claim = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, SIGNING_SECTION)[0]));
  } catch {
    return { state: 'invalid', keyId: '', reason: 'the signing section is not JSON' };
  }
  const keyId = String(claim.keyId ?? '');
  if (claim.alg !== 'ed25519' || typeof claim.signature !== 'string') return { state: 'invalid', keyId, reason: 'the signing section is not an ed25519 signature' };
  const key = trusted.find((k) => k.keyId === keyId);
  if (!key) return { state: 'invalid', keyId, reason: `signed by key ${keyId}, which is not among the trusted keys` };
  const ok = verify(null, withoutCustomSection(wasm, SIGNING_SECTION), key.key, Buffer.from(claim.signature, 'base64'));
  return ok ? { state: 'valid', keyId, file: key.file } : { state: 'invalid', keyId, reason: `the signature does not match the bundle's content (key ${keyId}): modified after signing` };
}
