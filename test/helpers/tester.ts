/**
 * Runs `tracee-tester` and the bare trigger program next to a running
 * tracee, for the end-to-end tests of the tester's triggers
 * (test/e2e/signatures.test.ts, test/e2e/container-escapes.test.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, type TraceeProcess } from './tracee-process.ts';
import { triggerBinary } from '../../host/tester/build.ts';
import type { Trigger } from '../../host/tester/triggers.ts';
import type { TriggerResult } from '../../host/tester/run.ts';
import type { FindingJson } from '../../host/output/finding-json.ts';

const TESTER = join(ROOT, 'host/cli/bin/tracee-tester.js');
const run = promisify(execFile);

/** `tracee-tester ID --variant V`: what it reports having done. */
export async function tester(id: string, variant: string): Promise<TriggerResult> {
  const { stdout } = await run(process.execPath, [TESTER, id, '--variant', variant], { encoding: 'utf8' });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** `tracee-tester ID --variant V` when it is expected to fail: its exit code and stderr. */
export async function testerFailure(id: string, variant: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stdout } = await run(process.execPath, [TESTER, id, '--variant', variant], { encoding: 'utf8' });
    assert.fail(`tracee-tester ${id} --variant ${variant} succeeded: ${stdout}`);
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stderr: e.stderr ?? '' };
  }
}

/** The value of argument `name` of the finding's event (undefined when absent). */
export const arg = (f: FindingJson, name: string): unknown => f.Context.args.find((a) => a.name === name)?.value;

/**
 * Waits for `trigger`'s finding for the process `r` names (and its target
 * child, if any), then checks it is the only finding for them; returns it.
 */
export async function onlyFinding(tracee: TraceeProcess, trigger: Trigger, r: TriggerResult): Promise<FindingJson> {
  const pids = new Set([r.pid, ...(typeof r.target === 'number' ? [r.target] : [])]);
  const mine = () => tracee.findings.filter((f) => pids.has(f.Context.hostProcessId));
  await tracee.waitFor(() => mine().some((f) => f.SigMetadata.ID === trigger.id), 8_000);
  await new Promise((done) => setTimeout(done, 300)); // room for an unexpected second finding
  const found = mine();
  assert.deepEqual(found.map((f) => f.SigMetadata.ID), [trigger.id], 'only this signature fires for the trigger\'s processes');
  const [f] = found;
  assert.equal(f.SigMetadata.EventName, trigger.signature);
  assert.equal(f.Context.hostProcessId, r.pid);
  return f;
}

/**
 * Runs trigger action `action` directly on the host (no container), in a
 * temporary directory; returns the IDs of the findings for its process.
 * Throws with the trigger's stderr when it fails.
 */
export async function findingsOnHost(tracee: TraceeProcess, action: string): Promise<string[]> {
  const binary = await triggerBinary();
  const dir = await mkdtemp(join(tmpdir(), 'tracee-host-negative-'));
  try {
    const { stdout } = await run(binary, [action, dir], { env: { PATH: '/usr/bin:/bin' } });
    const { pid } = JSON.parse(stdout.trim().split('\n').pop()!);
    await new Promise((done) => setTimeout(done, 700));
    return tracee.findings.filter((f) => f.Context.hostProcessId === pid).map((f) => f.SigMetadata.ID);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
