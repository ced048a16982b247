/**
 * Runs one trigger and reports what it did: the trigger program's JSON line
 * ({pid, tid, comm, …}) with the signature and variant added. Host triggers
 * run as a child process with a minimal environment (no LD_* variables that
 * would set off TRC-107 by accident) and a fresh temporary directory,
 * removed afterwards; container triggers go through container.ts. A
 * variant that opens a kernel file this kernel is built without fails
 * before anything runs, naming the kernel option and the variant to use.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { triggerBinary } from './build.ts';
import { runInContainer } from './container.ts';
import { TesterError } from './errors.ts';
import type { Trigger } from './triggers.ts';

export interface TriggerResult {
  signature: string;
  eventName: string;
  variant: string;
  where: 'host' | 'container';
  /** Ran in a privileged container. */
  privileged: boolean;
  /** The process that made the detected system call (host pid namespace). */
  pid: number;
  tid: number;
  comm: string;
  /** Trigger-specific details: path, target pid, ip/port, … */
  [detail: string]: unknown;
}

export async function runTrigger(trigger: Trigger, variant?: string): Promise<TriggerResult> {
  const name = variant ?? Object.keys(trigger.variants)[0];
  const action = trigger.variants[name];
  if (!action) {
    throw new TesterError('TRC_ERR_TESTER_VARIANT', `tester: ${trigger.id} has no variant "${name}" (variants: ${Object.keys(trigger.variants).join(', ')})`);
  }
  const needed = trigger.needs?.[name];
  if (needed && !existsSync(needed.path)) {
    throw new TesterError('TRC_ERR_TESTER_KERNEL', `tester: ${trigger.id} (${name}): this kernel has no ${needed.path} (built without ${needed.config}); --variant ${needed.instead} opens a stand-in at that path`);
  }
  const binary = await triggerBinary();
  const privileged = trigger.privileged === true;
  let stdout: string;
  if (trigger.where === 'container') {
    stdout = await runInContainer(binary, action, { privileged });
  } else {
    // The temporary directory is next to the binary (same file system: hard links work).
    const dir = await mkdtemp(join(tmpdir(), 'tracee-tester-run-'));
    try {
      stdout = (await promisify(execFile)(binary, [action, dir], { env: { PATH: '/usr/bin:/bin' }, cwd: dir })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new TesterError('TRC_ERR_TESTER_TRIGGER', `tester: ${trigger.id} (${action}): ${e.stderr?.trim() || e.message}`, { cause: err });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(line);
  } catch {
    throw new TesterError('TRC_ERR_TESTER_TRIGGER', `tester: ${trigger.id} (${action}): unexpected output ${JSON.stringify(stdout)}`);
  }
  return { signature: trigger.id, eventName: trigger.signature, variant: name, where: trigger.where, privileged, ...report } as TriggerResult;
}
