/**
 * `tracee-rules`: builds signature bundles, lists them, and runs them on
 * recorded events (`--input-tracee`). The CLI only parses and validates; the
 * work is done by the stages.
 *
 * Findings print as a table (default), as tracee-rules' rawjson
 * (`-o json`: {Data, Context, SigMetadata}), or as unified Tracee prints
 * detections (`-o event`: the triggering event re-emitted as the signature's
 * event, host/output/finding-event.ts). `--list` marks signatures that will
 * not run: disabled by default (select them with --rules), or needing
 * events this kernel cannot capture.
 */
import { Command } from 'commander';
import { ContainerTable } from '../events/containers.ts';
import { eventById } from '../events/catalogue.ts';
import { Engine } from '../engine/engine.ts';
import { loadRulesDir } from '../engine/load.ts';
import type { Bundle } from '../engine/bundle.ts';
import { openInput, replay } from '../capture/replay.ts';
import { createPrinter, parseOutputFormat, type Printer } from '../output/printer.ts';
import { findingEventLine } from '../output/finding-event.ts';
import type { DecodeOptions } from '../events/batch-reader.ts';
import { collect, DEFAULT_RULES_DIR, INPUT_TRACEE_HELP, parseInputTracee } from './options.ts';
import { selectedEventList, signatureTable } from './list.ts';
import { runMain } from './run-main.ts';
import { InvalidArgumentError } from '../errors.ts';
import { addIntegrationOptions, closeWebhook, createWebhook, startMetrics, templatePrinter, trustedKeys, type IntegrationFlags } from './integrations.ts';
import { generateKeys, loadPrivateKey, signBundle } from '../engine/signing.ts';
import { readFile, writeFile } from 'node:fs/promises';

interface RulesOptions extends IntegrationFlags {
  outputTemplate?: string;
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
  .option('-o, --output <format>', 'findings output: table, json (tracee-rules rawjson) or event (detections as unified Tracee events)', 'table')
  .option('--output-template <file>', 'render each finding with this Go template instead (see templates/)');
addIntegrationOptions(program, ':4466')
  .action((opts: RulesOptions) => runMain('tracee-rules', () => run(opts)));

program.command('keygen')
  .description('write an Ed25519 key pair for signing bundles: PREFIX.key (private) and PREFIX.pub')
  .requiredOption('-o, --out <prefix>', 'path prefix of the key files')
  .action((opts: { out: string }) => runMain('tracee-rules', async () => {
    console.error(`tracee-rules: key ${generateKeys(opts.out)}: wrote ${opts.out}.key and ${opts.out}.pub`);
    return 0;
  }));

program.command('sign')
  .description('sign bundles in place with an Ed25519 private key')
  .argument('<bundle...>', 'bundles (.wasm) to sign')
  .requiredOption('--key <file>', 'private key written by keygen (PREFIX.key)')
  .action((files: string[], opts: { key: string }) => runMain('tracee-rules', async () => {
    const key = loadPrivateKey(opts.key);
    for (const file of files) {
      await writeFile(file, signBundle(await readFile(file), key));
      console.error(`tracee-rules: signed ${file}`);
    }
    return 0;
  }));

program.command('build')
  .description('compile AssemblyScript (.ts) and Rego (.rego) signatures into one .wasm bundle each')
  .argument('<src>', 'signatures source directory (e.g. signatures-as/)')
  .requiredOption('-o, --out <dir>', 'output directory for bundles')
  .option('--if-changed', 'rebuild only bundles older than their sources (or the SDK, build tool, catalogue)')
  .option('--rego-version <v0|v1>', 'Rego syntax of .rego files that do not import rego.v1 (Tracee\'s signatures are v0)', 'v0')
  .option('--component', 'also wrap each AssemblyScript bundle as a WebAssembly component (into OUT/components/, WIT in docs/wit/)')
  .option('--rego-all-in-one [file]', 'compile all Rego signatures into one module (default rego-signatures.wasm) instead of one bundle each: one call per batch evaluates them all')
  .action((src: string, opts: { out: string; ifChanged?: boolean; regoVersion: string; component?: boolean; regoAllInOne?: string | true }) =>
    runMain('tracee-rules', () => build(src, opts.out, {
      ifChanged: opts.ifChanged, regoVersion: regoVersionOption(opts.regoVersion), component: opts.component,
      regoAllInOne: opts.regoAllInOne === true ? 'rego-signatures.wasm' : opts.regoAllInOne,
    })));

program.command('inspect')
  .description('print a bundle\'s metadata, ABI version, imports, exports, size, content hash and signature status')
  .argument('<bundle...>', 'bundles (.wasm)')
  .option('--trusted-keys <file>', 'verify signatures with these public keys (repeatable, comma-separated)', collect, [])
  .action((files: string[], opts: { trustedKeys: string[] }) => runMain('tracee-rules', async () => {
    const { inspectBundle, formatInspection } = await import('../engine/inspect.ts');
    const keys = opts.trustedKeys.length ? trustedKeys({ ...opts, metricsAddr: '' }, 'tracee-rules') : undefined;
    let refused = 0;
    for (const file of files) {
      const r = await inspectBundle(file, keys);
      process.stdout.write(formatInspection(r) + '\n');
      if (r.problems.length) refused++;
    }
    return refused ? 1 : 0;
  }));

program.command('test')
  .description('run the test_* rules of Rego files (OPA-test style, `with input as {...}`) and report each as PASS or FAIL')
  .argument('<src>', 'a directory of .rego files (e.g. signatures-rego/) or one file')
  .option('--rego-version <v0|v1>', 'Rego syntax of files that do not import rego.v1', 'v0')
  .option('--run <text>', 'only the tests whose name (data.<package>.<rule>) contains TEXT')
  .action((src: string, opts: { regoVersion: string; run?: string }) => runMain('tracee-rules', () => regoTest(src, regoVersionOption(opts.regoVersion), opts.run)));

function regoVersionOption(v: string): 'v0' | 'v1' {
  if (v !== 'v0' && v !== 'v1') throw new InvalidArgumentError(`--rego-version ${v}: use v0 or v1`);
  return v;
}

/** `tracee-rules test`: exit 0 when every test passed, 1 when one failed or the Rego did not compile. */
async function regoTest(src: string, regoVersion: 'v0' | 'v1', filter?: string): Promise<number> {
  const { runRegoTests } = await import('../build/rego/rego-tests.ts');
  const report = await runRegoTests(src, { regoVersion, filter });
  for (const e of report.errors) console.error(e);
  if (report.errors.length) return 1;
  for (const r of report.results) console.log(r.passed ? `PASS ${r.name}` : `FAIL ${r.name} (${r.reason})`);
  const failed = report.results.filter((r) => !r.passed).length;
  console.log(`${report.results.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

async function run(opts: RulesOptions): Promise<number> {
  const { bundles, errors, disabled } = await loadRulesDir(opts.rulesDir, { rules: opts.rules, trustedKeys: trustedKeys(opts, 'tracee-rules') });
  for (const err of errors) console.error(`tracee-rules: ${err.message}`);
  if (opts.list) { process.stdout.write(await signatureList(bundles, disabled)); return 0; }
  if (opts.listEvents) { process.stdout.write(selectedEventList(bundles)); return 0; }
  if (opts.inputTracee.length === 0) {
    console.error('tracee-rules: no input: use --input-tracee file:PATH --input-tracee format:json (see --input-tracee help)');
    return 2;
  }
  const input = parseInputTracee(opts.inputTracee);
  if (input === 'help') { process.stdout.write(INPUT_TRACEE_HELP); return 0; }
  if (bundles.length === 0) console.error(`tracee-rules: warning: no signatures loaded from ${opts.rulesDir}`);
  const containers = new ContainerTable();
  for (const b of bundles) b.containers = containers;
  const engine = new Engine(bundles, (m) => console.error(`tracee-rules: ${m}`));
  const write = (t: string) => process.stdout.write(t);
  const printer: Printer = opts.outputTemplate
    ? { print: templatePrinter(opts.outputTemplate, { containers }, write, 'tracee-rules') }
    : findingsPrinter(opts.output, write, { containers });
  const webhook = createWebhook(opts, { containers }, 'tracee-rules');
  let running = true;
  let malformed = 0;
  const metrics = await startMetrics(opts, {
    engine: () => ({ stats: engine.stats, bundles: engine.bundles() }),
    decodeErrors: () => malformed,
    webhook: webhook && (() => webhook.stats),
  }, () => running);
  const stats = await replay(openInput(input.file), input.file, {
    containers,
    onBatch: (batch) => {
      const findings = engine.process(batch);
      printer.print(findings);
      for (const f of findings) webhook?.enqueue(f);
    },
    onError: (m) => { malformed++; console.error(`tracee-rules: ${m}`); },
  });
  running = false;
  await closeWebhook(webhook, 'tracee-rules');
  metrics?.close();
  console.error(`tracee-rules: ${stats.events} events, ${engine.stats.findings} detections, ${stats.malformed} malformed lines skipped, ${engine.stats.bundleErrors} signature errors`);
  return errors.length || engine.stats.bundleErrors ? 1 : 0;
}

/** `-o table|json` (printer.ts) or `-o event` (detections as unified Tracee events). */
function findingsPrinter(format: string, write: (text: string) => void, options: DecodeOptions): Printer {
  if (format === 'event') return { print: (fs) => { if (fs.length) write(fs.map((f) => findingEventLine(f, options)).join('')); } };
  if (format !== 'table' && format !== 'json') throw new InvalidArgumentError(`--output ${format}: unknown format (use table, json or event)`);
  return createPrinter(parseOutputFormat(format), write, options);
}

/**
 * --list: the signatures table (disabled ones included), then those that
 * will not run here and why.
 */
async function signatureList(bundles: readonly Bundle[], disabled: readonly Bundle[]): Promise<string> {
  const all = [...bundles, ...disabled].sort((a, b) => a.name.localeCompare(b.name));
  let out = signatureTable(all);
  const kernel = await unavailableEventNames();
  const notes: string[] = [];
  for (const b of all) {
    const m = b.metadata;
    const reasons: string[] = [];
    if (disabled.includes(b)) reasons.push(`disabled by default; select it with --rules ${m.id}`);
    const names = [...new Set(m.selectedEvents.map((s) => s.name))];
    const missing = kernel.unavailable ? names.filter((n) => kernel.unavailable!.has(n)) : [];
    if (missing.length) {
      const why = missing.map((n) => `${n} (${kernel.unavailable!.get(n)})`).join('; ');
      reasons.push(missing.length === names.length ? `inactive: this kernel cannot capture ${why}` : `partly inactive: this kernel cannot capture ${why}`);
    }
    if (reasons.length) notes.push(`${m.id.padEnd(9)} ${m.eventName}: ${reasons.join('; ')}`);
  }
  if (notes.length) out += `\nNot running here:\n${notes.map((n) => `  ${n}\n`).join('')}`;
  if (!kernel.unavailable) out += `\nKernel event availability unknown: ${kernel.why}\n`;
  return out;
}

/**
 * Event names this kernel cannot capture, with the reason, from the capture
 * addon (unavailableEvents(): it probes the kernel, so it needs root and the
 * built addon); `unavailable` is undefined when it cannot tell.
 */
async function unavailableEventNames(): Promise<{ unavailable?: Map<string, string>; why: string }> {
  try {
    const addon = await import('../capture/addon.ts') as { unavailableEvents?: () => Map<number, string> };
    if (typeof addon.unavailableEvents !== 'function') return { why: 'the capture addon does not report it' };
    const byName = new Map<string, string>();
    for (const [id, reason] of addon.unavailableEvents()) byName.set(eventById(id)?.name ?? String(id), reason);
    return { unavailable: byName, why: '' };
  } catch (err) {
    return { why: (err as Error).message };
  }
}

async function build(src: string, out: string, opts: { ifChanged?: boolean; regoVersion: 'v0' | 'v1'; component?: boolean; regoAllInOne?: string }): Promise<number> {
  const { buildBundles } = await import('../build/build-bundles.ts');
  const { component, ...options } = opts;
  if (options.regoAllInOne !== undefined && !options.regoAllInOne.endsWith('.wasm')) throw new InvalidArgumentError(`--rego-all-in-one ${options.regoAllInOne}: the file name must end in .wasm (tracee loads only .wasm files)`);
  const result = await buildBundles(src, out, { ...options, report: (line) => console.error(line) });
  if (result.upToDate.length) console.error(`bundles up to date: ${result.upToDate.length}`);
  if (component) {
    const { componentizeBundle } = await import('../build/component/componentize.ts');
    for (const b of result.built.filter((x) => x.source.endsWith('.ts'))) console.error(`component ${await componentizeBundle(b.path)}`);
  }
  return result.errors.length ? 1 : 0;
}

program.parseAsync().catch((err) => { console.error(`tracee-rules: ${err.message}`); process.exit(2); });
