/** Compiles the C triggers of test/e2e/triggers into a temporary directory and runs them. */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCES = join(dirname(fileURLToPath(import.meta.url)), '..', 'e2e', 'triggers');

export function buildTriggers(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'tracee-triggers-'));
  const out: Record<string, string> = {};
  for (const file of readdirSync(SOURCES).filter((f) => f.endsWith('.c'))) {
    const name = file.slice(0, -2);
    out[name] = join(dir, name);
    execFileSync('gcc', ['-O1', '-o', out[name], join(SOURCES, file)], { stdio: 'pipe' });
  }
  return out;
}

/** Runs a trigger that prints "pid comm-or-rc"; returns both words. */
export function runTrigger(path: string, args: string[] = []): { pid: number; word: string } {
  const text = execFileSync(path, args, { encoding: 'utf8' }).trim();
  const [pid, word] = text.split(' ');
  return { pid: Number(pid), word };
}

/** Runs a trigger without blocking the event loop (so capture callbacks keep running). */
export async function runTriggerAsync(path: string, args: string[] = []): Promise<{ pid: number; word: string }> {
  const { stdout } = await promisify(execFile)(path, args, { encoding: 'utf8' });
  const [pid, word] = stdout.trim().split(' ');
  return { pid: Number(pid), word };
}
