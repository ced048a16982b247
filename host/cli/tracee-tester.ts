/**
 * `tracee-tester`: makes the real system calls of the behaviour a signature
 * detects, safely and reversibly (host/tester/), and prints what it did as
 * one JSON line per trigger: {signature, eventName, variant, where, pid,
 * tid, comm, …details}. Run it as root next to `tracee` and look for the
 * finding. `--list` shows the signatures it can trigger and how.
 */
import { Command } from 'commander';
import { TRIGGERS, triggerFor } from '../tester/triggers.ts';
import { runTrigger } from '../tester/run.ts';
import { runMain } from './run-main.ts';
import { InvalidArgumentError } from '../errors.ts';

interface TesterOptions {
  list?: boolean;
  variant?: string;
}

const program = new Command('tracee-tester')
  .description('Trigger the behaviour a tracee-ts signature detects, with real system calls, safely (needs root)')
  .argument('[signatures...]', 'signature IDs (TRC-102) or event names (anti_debugging); "all" for every one')
  .option('--list', 'list the signatures this tester can trigger, with their variants')
  .option('--variant <name>', 'which way to trigger it (see --list); default: the first')
  .action((ids: string[], opts: TesterOptions) => runMain('tracee-tester', () => main(ids, opts)));

async function main(ids: string[], opts: TesterOptions): Promise<number> {
  if (opts.list || ids.length === 0) {
    const rows = [['ID', 'EVENT', 'WHERE', 'VARIANTS', 'WHAT IT DOES'],
      ...TRIGGERS.map((t) => [t.id, t.signature, t.where, Object.keys(t.variants).join(','), t.description])];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n');
    return ids.length === 0 && !opts.list ? 2 : 0;
  }
  const selected = ids.includes('all') ? [...TRIGGERS] : ids.map((id) => {
    const t = triggerFor(id);
    if (!t) throw new InvalidArgumentError(`${id}: no trigger for this signature (see tracee-tester --list)`);
    return t;
  });
  if (opts.variant && selected.length !== 1) throw new InvalidArgumentError(`--variant ${opts.variant}: give exactly one signature`);
  if (process.geteuid?.() !== 0) console.error('tracee-tester: warning: not root; most triggers need root (mount namespaces, ptrace, /proc/<pid>/mem)');
  let failed = 0;
  for (const t of selected) {
    try {
      process.stdout.write(JSON.stringify(await runTrigger(t, opts.variant)) + '\n');
    } catch (err) {
      if (selected.length === 1) throw err;
      console.error(`tracee-tester: ${(err as Error).message}`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

program.parseAsync().catch((err) => { console.error(`tracee-tester: ${err.message}`); process.exit(2); });
