/**
 * `tracee`'s flags for how bundles run (docs/sandbox.md): in worker threads
 * under a watchdog or on the capture thread, their limits, and whether the
 * rules directory is watched for hot reload.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.ts';
import { DEFAULT_BATCH_BUDGET_MS, DEFAULT_LIMITS, MIB, type BundleLimits } from '../engine/limits.ts';
import type { EngineOptions } from '../engine/sandbox/start.ts';

export interface EngineFlags {
  sandbox?: boolean;
  sandboxBudget: string;
  sandboxWorkers?: string;
  bundleMaxMemory: string;
  bundleMaxFindings: string;
  bundleMaxFindingSize: string;
  /** commander's --no-rules-watch */
  rulesWatch: boolean;
}

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('--sandbox', 'run bundles in worker threads under a watchdog: a bundle stuck in a loop is stopped and disabled, detection goes on')
    .option('--sandbox-budget <ms>', 'with --sandbox: longest one call into a bundle may run', String(DEFAULT_BATCH_BUDGET_MS))
    .option('--sandbox-workers <n>', 'with --sandbox: worker threads (default: one per CPU but one)')
    .option('--bundle-max-memory <MiB>', 'memory limit of each bundle', String(DEFAULT_LIMITS.maxMemoryBytes / MIB))
    .option('--bundle-max-findings <n>', 'findings one bundle may emit for one batch', String(DEFAULT_LIMITS.maxFindingsPerBatch))
    .option('--bundle-max-finding-size <KiB>', 'size limit of one finding', String(DEFAULT_LIMITS.maxFindingBytes / 1024))
    .option('--no-rules-watch', 'do not reload bundles when --rules-dir changes (SIGHUP still rescans it)');
}

export function engineOptions(flags: EngineFlags): EngineOptions {
  const limits: BundleLimits = {
    maxMemoryBytes: positive('--bundle-max-memory', flags.bundleMaxMemory) * MIB,
    maxFindingsPerBatch: positive('--bundle-max-findings', flags.bundleMaxFindings),
    maxFindingBytes: positive('--bundle-max-finding-size', flags.bundleMaxFindingSize) * 1024,
  };
  return {
    sandbox: flags.sandbox === true,
    budgetMs: positive('--sandbox-budget', flags.sandboxBudget),
    workers: flags.sandboxWorkers === undefined ? undefined : positive('--sandbox-workers', flags.sandboxWorkers),
    limits,
  };
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} ${value}: must be a positive whole number`);
  return n;
}
