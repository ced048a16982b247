/**
 * Compiles the trigger program (trigger.c and escapes.c, with trigger.h)
 * once per source version, with gcc, statically (so the same binary also
 * runs inside a bare container image), into a cache directory under the
 * system temp directory: `<tmp>/tracee-tester-<hash of the sources>/trigger`. Concurrent builds are
 * safe: each compiles to its own file and renames it into place. The cache
 * is used only if it belongs to us and nobody else can write to it (the
 * tester runs it as root: a binary planted in /tmp must not be).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TesterError } from './errors.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TRIGGER_SOURCE = join(HERE, 'trigger.c');
/** The C files compiled together; the header is part of the hash too. */
const SOURCES = [TRIGGER_SOURCE, join(HERE, 'escapes.c')];
const HASHED = [...SOURCES, join(HERE, 'trigger.h')];

/** Path of the compiled trigger program, building it if needed. Throws TesterError when gcc fails. */
export async function triggerBinary(cacheRoot = tmpdir()): Promise<string> {
  const sha = createHash('sha256');
  for (const f of HASHED) sha.update(readFileSync(f));
  const hash = sha.digest('hex').slice(0, 12);
  const dir = join(cacheRoot, `tracee-tester-${hash}`);
  const binary = join(dir, 'trigger');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  checkOwned(dir, true);
  if (existsSync(binary)) {
    checkOwned(binary, false);
    return binary;
  }
  const partial = `${binary}.${process.pid}`;
  try {
    await promisify(execFile)('gcc', ['-static', '-O1', '-Wall', '-o', partial, ...SOURCES]);
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    const why = e.code === 'ENOENT' ? 'gcc is not installed' : (e.stderr?.trim() || e.message);
    throw new TesterError('TRC_ERR_TESTER_BUILD', `tester: compiling ${SOURCES.join(' ')}: ${why}`, { cause: err });
  }
  renameSync(partial, binary);
  return binary;
}

/** Refuses a cache path that is not ours, is a symlink, or that others may write. */
function checkOwned(path: string, directory: boolean): void {
  const st = lstatSync(path);
  const uid = process.getuid?.() ?? st.uid;
  const kindOk = directory ? st.isDirectory() : st.isFile();
  if (!kindOk || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new TesterError('TRC_ERR_TESTER_BUILD', `tester: refusing ${path}: not a ${directory ? 'directory' : 'file'} owned by uid ${uid} and writable only by it (remove it and run again)`);
  }
}
