/**
 * `tracee-rules`: builds signature bundles, lists them, and runs them on
 * recorded events (`--input-tracee`). The CLI only parses and validates; the
 * work is done by the stages.
 */
import { Command } from 'commander';
import { ContainerTable } from '../events/containers.ts';
import { Engine } from '../engine/engine.ts';
import { loadRulesDir } from '../engine/load.ts';
import { openInput, replay } from '../capture/replay.ts';
import { createPrinter, parseOutputFormat } from '../output/printer.ts';
import { collect, DEFAULT_RULES_DIR, INPUT_TRACEE_HELP, parseInputTracee } from './options.ts';
import { selectedEventList, signatureTable } from './list.ts';
import { runMain } from './run-main.ts';

interface RulesOptions {
  rulesDir: string;
  rules: string[];
  list?: boolean;
  listEvents?: boolean;
  inputTracee: string[];
  output: string;
}

const program = new Command('tracee-rules')
  .description('Run tracee-ts signature bundles on recorded Tracee events, list them, or build them')
  .enablePositionalOptions()
  .option('--rules-dir <dir>', 'directory of signature bundles (.wasm)', DEFAULT_RULES_DIR)
  .option('--rules <ID|eventName>', 'select signatures by ID or event name (repeatable, comma-separated)', collect, [])
  .option('--list', 'print the loaded signatures and exit')
  .option('--list-events', 'print the events the loaded signatures need and exit')
  .option('--input-tracee <key:value>', 'input: file:PATH (or file:stdin) and format:json; "help" for details', collect, [])
  .option('-o, --output <format>', 'findings output: table or json', 'table')
  .action((opts: RulesOptions) => runMain('tracee-rules', () => run(opts)));

program.command('build')
  .description('compile AssemblyScript signatures into one .wasm bundle each')
  .argument('<src>', 'signatures source directory (e.g. signatures-as/)')
  .requiredOption('-o, --out <dir>', 'output directory for bundles')
  .option('--if-changed', 'rebuild only bundles older than their sources (or the SDK, build tool, catalogue)')
  .action((src: string, opts: { out: string; ifChanged?: boolean }) => runMain('tracee-rules', () => build(src, opts.out, opts.ifChanged)));

async function run(opts: RulesOptions): Promise<number> {
  const { bundles, errors } = await loadRulesDir(opts.rulesDir, { rules: opts.rules });
  for (const err of errors) console.error(`tracee-rules: ${err.message}`);
  if (opts.list) { process.stdout.write(signatureTable(bundles)); return 0; }
  if (opts.listEvents) { process.stdout.write(selectedEventList(bundles)); return 0; }
  if (opts.inputTracee.length === 0) {
    console.error('tracee-rules: no input: use --input-tracee file:PATH --input-tracee format:json (see --input-tracee help)');
    return 2;
  }
  const input = parseInputTracee(opts.inputTracee);
  if (input === 'help') { process.stdout.write(INPUT_TRACEE_HELP); return 0; }
  if (bundles.length === 0) console.error(`tracee-rules: warning: no signatures loaded from ${opts.rulesDir}`);
  const containers = new ContainerTable();
  const engine = new Engine(bundles, (m) => console.error(`tracee-rules: ${m}`));
  const printer = createPrinter(parseOutputFormat(opts.output), (t) => process.stdout.write(t), { containers });
  const stats = await replay(openInput(input.file), input.file, {
    containers,
    onBatch: (batch) => printer.print(engine.process(batch)),
    onError: (m) => console.error(`tracee-rules: ${m}`),
  });
  console.error(`tracee-rules: ${stats.events} events, ${engine.stats.findings} detections, ${stats.malformed} malformed lines skipped, ${engine.stats.bundleErrors} signature errors`);
  return errors.length || engine.stats.bundleErrors ? 1 : 0;
}

async function build(src: string, out: string, ifChanged = false): Promise<number> {
  const { buildBundles } = await import('../build/build-bundles.ts');
  const result = await buildBundles(src, out, { ifChanged, report: (line) => console.error(line) });
  if (result.upToDate.length) console.error(`bundles up to date: ${result.upToDate.length}`);
  return result.errors.length ? 1 : 0;
}

program.parseAsync().catch((err) => { console.error(`tracee-rules: ${err.message}`); process.exit(2); });
