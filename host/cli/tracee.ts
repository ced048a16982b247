/**
 * `tracee`: live capture with eBPF, detection with the signature bundles of
 * `--rules-dir`, findings to stdout. Composes the stages
 * capture → engine → output; the CLI itself only parses and validates.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { ContainerTable } from '../events/containers.ts';
import { eventByName } from '../events/catalogue.ts';
import { Engine } from '../engine/engine.ts';
import { loadRulesDir } from '../engine/load.ts';
import { createPrinter, parseOutputFormat } from '../output/printer.ts';
import { collect, DEFAULT_RULES_DIR, PACKAGE_ROOT } from './options.ts';
import { eventTable, signatureTable } from './list.ts';
import { runMain } from './run-main.ts';
import { InvalidArgumentError } from '../errors.ts';

interface TraceeOptions {
  rulesDir: string;
  rules: string[];
  output: string;
  buffers: string;
  events: string[];
}

const BPF_OBJECT = join(PACKAGE_ROOT, 'bpf', 'build', 'tracee.bpf.o');
const PAGE = 4096;

const program = new Command('tracee')
  .description('Runtime security: capture kernel events with eBPF and detect threats with WebAssembly signatures')
  .enablePositionalOptions()
  .option('--rules-dir <dir>', 'directory of signature bundles (.wasm)', DEFAULT_RULES_DIR)
  .option('--rules <ID|eventName>', 'select signatures by ID or event name (repeatable, comma-separated)', collect, [])
  .option('-e, --events <name>', 'also capture these events (beyond what the signatures need)', collect, [])
  .option('-o, --output <format>', 'findings output: table or json', 'table')
  .option('-b, --buffers <pages>', 'ring buffer size in 4 KiB pages (a power of two)', '4096')
  .action((opts: TraceeOptions) => runMain('tracee', () => run(opts)));

program.command('list')
  .description('list the events tracee-ts can capture, with their arguments')
  .action(() => { process.stdout.write(eventTable()); });

program.command('list-signatures')
  .description('list the signatures in --rules-dir')
  .option('--rules-dir <dir>', 'directory of signature bundles (.wasm)', DEFAULT_RULES_DIR)
  .action((opts: { rulesDir: string }) => runMain('tracee', async () => {
    const { bundles, errors } = await loadRulesDir(opts.rulesDir);
    for (const err of errors) console.error(`tracee: ${err.message}`);
    process.stdout.write(signatureTable(bundles));
    return errors.length ? 1 : 0;
  }));

function ringBufferBytes(pages: string): number {
  const n = Number(pages);
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) throw new InvalidArgumentError(`--buffers ${pages}: must be a power of two number of pages`);
  return n * PAGE;
}

async function run(opts: TraceeOptions): Promise<number> {
  const format = parseOutputFormat(opts.output);
  const bufferBytes = ringBufferBytes(opts.buffers);
  const extra = opts.events.map((name) => {
    const def = eventByName(name);
    if (!def) throw new InvalidArgumentError(`--events ${name}: unknown event (see "tracee list")`);
    return def.id;
  });
  const { bundles, errors } = await loadRulesDir(opts.rulesDir, { rules: opts.rules });
  for (const err of errors) console.error(`tracee: ${err.message}`);
  if (bundles.length === 0) console.error(`tracee: warning: no signatures loaded from ${opts.rulesDir}`);
  const containers = new ContainerTable();
  const engine = new Engine(bundles, (m) => console.error(`tracee: ${m}`));
  const eventIds = [...new Set([...(engine.selectedEventIds() ?? []), ...extra])];

  const { KernelCapture, probeKernel } = await import('../capture/addon.ts');
  for (const missing of probeKernel()) console.error(`tracee: kernel: ${missing}`);
  const capture = KernelCapture.open({ objectPath: BPF_OBJECT, eventIds, ringBufferBytes: bufferBytes, ignorePid: process.pid });
  const output = createPrinter(format, (t) => process.stdout.write(t), { containers });
  capture.start((batch) => output.print(engine.process(batch)));
  console.error(`tracee: capturing ${eventIds.length} events for ${bundles.length} signatures (Ctrl-C to stop)`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  capture.stop();
  const s = capture.stats();
  console.error(`tracee: ${s.eventsReceived} events, ${engine.stats.findings} detections, lost: ${s.lostRingBuffer} (ring buffer full), ${s.lostQueueFull} (addon queue full), ${engine.stats.bundleErrors} signature errors`);
  return 0;
}

program.parseAsync().catch((err) => { console.error(`tracee: ${err.message}`); process.exit(2); });
