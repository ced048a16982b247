/**
 * `tracee`: live capture with eBPF, policies (`-p`, or `-s` + `-e`), the
 * process tree, detection with the signature bundles of `--rules-dir`, and
 * events and findings to stdout. The CLI parses and validates everything
 * (a bad policy exits 2 before capture starts), then composes the stages:
 *
 *   capture (kernel scope) → process tree → policy filter → print events
 *                                                        → engine → print findings
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { ContainerTable } from '../events/containers.ts';
import { loadRulesDir } from '../engine/load.ts';
import { compileRulesDir } from '../engine/sandbox/load.ts';
import { startEngine } from '../engine/sandbox/start.ts';
import { onSighup, RulesWatcher } from '../engine/reload.ts';
import type { Bundle } from '../engine/bundle.ts';
import type { Finding } from '../engine/finding.ts';
import { createEventPrinter } from '../output/event-printer.ts';
import type { PolicyFilter } from '../policy/filter-stage.ts';
import type { Policy } from '../policy/model.ts';
import { eventById } from '../events/catalogue.ts';
import { PROCESS_TREE_EVENTS, ProcessTree } from '../enrich/process-tree.ts';
import { bootTimeNs, mountNamespaceOf } from '../enrich/proc-scan.ts';
import { collect, collectRaw, DEFAULT_RULES_DIR, PACKAGE_ROOT, parseOutputOptions } from './options.ts';
import { eventTable, signatureEventTable, signatureTable, type EventAvailability } from './list.ts';
import { runMain } from './run-main.ts';
import { InvalidArgumentError } from '../errors.ts';
import { addIntegrationOptions, closeWebhook, createWebhook, startMetrics, templatePrinter, trustedKeys, type IntegrationFlags } from './integrations.ts';
import { ContainerEnricher, containerConfig } from '../enrich/containers/index.ts';
import { addEngineOptions, engineOptions, type EngineFlags } from './engine-options.ts';
import { LiveDetection } from './live-detection.ts';
import { validatePolicies } from './detection.ts';

interface TraceeOptions extends IntegrationFlags, EngineFlags {
  containers?: boolean;
  enrichment: string[];
  cri: string[];
  rulesDir: string;
  rules: string[];
  output: string[];
  buffers: string;
  events: string[];
  scope: string[];
  policy: string[];
}

const BPF_OBJECT = join(PACKAGE_ROOT, 'bpf', 'build', 'tracee.bpf.o');
const PAGE = 4096;

const program = new Command('tracee')
  .description('Runtime security: capture kernel events with eBPF and detect threats with WebAssembly signatures')
  .enablePositionalOptions()
  .option('--rules-dir <dir>', 'directory of signature bundles (.wasm)', DEFAULT_RULES_DIR)
  .option('--rules <ID|eventName>', 'load only these signatures, by ID or event name (repeatable, comma-separated)', collect, [])
  .option('-p, --policy <file|dir>', 'policy file, or directory of policy files (YAML, up to 64 policies; repeatable)', collectRaw, [])
  .option('-s, --scope <expr>', 'scope: uid, pid, comm, executable, container[=new|started|ID], not-container, mntns, pidns, tree, uts, follow; e.g. comm=bash (repeatable)', collectRaw, [])
  .option('-e, --events <expr>', 'events to print: names, -name, sets (fs, proc, net, ...), name.data.ARG=V, name.retval>0, name.scope.FIELD=V (repeatable)', collectRaw, [])
  .option('-o, --output <format|option>', 'table (default), json, gotemplate=FILE, webhook:URL[?gotemplate=F&contentType=T&timeout=5s]; option:parse-arguments, option:exec-env (repeatable)', collect, [])
  .option('-b, --buffers <pages>', 'ring buffer size in 4 KiB pages (a power of two)', '4096')
  .option('--containers', 'enrich events with container and Kubernetes metadata (also CONTAINERS_ENRICHMENT=1)')
  .option('-E, --enrichment <option>', 'container, container.<docker|containerd|crio|podman>.socket=PATH, container.cgroupfs.path=PATH (repeatable)', collect, [])
  .option('--cri <runtime:socket>', 'container runtime socket, e.g. containerd:/run/containerd/containerd.sock (repeatable)', collect, []);
addEngineOptions(addIntegrationOptions(program, ':3366'))
  .action((opts: TraceeOptions) => runMain('tracee', () => run(opts)));

program.command('list')
  .description('list the events tracee-ts can capture, with their arguments and availability, and the signature events')
  .option('--rules-dir <dir>', 'directory of signature bundles (.wasm)', DEFAULT_RULES_DIR)
  .action((opts: { rulesDir: string }) => runMain('tracee', async () => {
    process.stdout.write(eventTable(await eventAvailability()));
    const { bundles } = await loadRulesDir(opts.rulesDir).catch(() => ({ bundles: [] as Bundle[] }));
    if (bundles.length) process.stdout.write('\nSignature events:\n' + signatureEventTable(bundles));
    return 0;
  }));

program.command('list-signatures')
  .description('list the signatures in --rules-dir')
  .option('--rules-dir <dir>', 'directory of signature bundles (.wasm)', DEFAULT_RULES_DIR)
  .action((opts: { rulesDir: string }) => runMain('tracee', async () => {
    const { bundles, errors } = await loadRulesDir(opts.rulesDir);
    for (const err of errors) console.error(`tracee: ${err.message}`);
    process.stdout.write(signatureTable(bundles));
    return errors.length ? 1 : 0;
  }));

/** The ring buffer takes a CPU's staged records at once, up to 32 KiB (bpf/common/config.h TR_STAGE_SIZE): it holds two at least. */
const MIN_RING_PAGES = 16;

function ringBufferBytes(pages: string): number {
  const n = Number(pages);
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) throw new InvalidArgumentError(`--buffers ${pages}: must be a power of two number of pages`);
  if (n < MIN_RING_PAGES) throw new InvalidArgumentError(`--buffers ${pages}: must be at least ${MIN_RING_PAGES} pages (64 KiB): each CPU outputs up to 32 KiB of records at once`);
  return n * PAGE;
}

async function run(opts: TraceeOptions): Promise<number> {
  // Parse and validate everything before anything starts.
  const output = parseOutputOptions(opts.output);
  const bufferBytes = ringBufferBytes(opts.buffers);
  const containerOptions = containerConfig({ containers: opts.containers, enrichment: opts.enrichment, cri: opts.cri });
  const engineConfig = engineOptions(opts);
  const keys = trustedKeys(opts, 'tracee');
  const compiled = await compileRulesDir(opts.rulesDir, { rules: opts.rules, trustedKeys: keys, limits: engineConfig.limits });
  for (const err of compiled.errors) console.error(`tracee: ${err.message}`);
  if (compiled.bundles.length === 0 && opts.policy.length === 0 && opts.events.length === 0) {
    console.error(`tracee: warning: no signatures loaded from ${opts.rulesDir}`);
  }

  const policyInputs = { policyPaths: opts.policy, scope: opts.scope, events: opts.events };
  validatePolicies(compiled.bundles, policyInputs);

  const { KernelCapture, probeKernel, unavailableEvents } = await import('../capture/addon.ts');
  const { compileKernelScope, KernelScopeError } = await import('../capture/kernel-scope.ts');
  for (const missing of probeKernel()) console.error(`tracee: kernel: ${missing}`);
  const unavailable = unavailableEvents();
  const kernelProblem = (p: Policy) => {
    try {
      compileKernelScope([p], [[]], { containers: [] });
      return undefined;
    } catch (err) {
      if (err instanceof KernelScopeError) return err.message;
      throw err;
    }
  };
  const containers = new ContainerTable();
  const processes = new ProcessTree({ procRoot: '/proc' });
  // The kernel applies the scopes it can express; the policy filter applies the rest and the rule filters.
  // Events the host's own stages need (process tree, container cgroups) ride on an internal policy bit.
  const live = new LiveDetection(compiled.bundles, policyInputs,
    { internalEvents: [...PROCESS_TREE_EVENTS, ...ContainerEnricher.eventIds], kernelProblem, unavailable: new Set(unavailable.keys()) },
    { containers, processes, hostMountNs: mountNamespaceOf(1), startTimeNs: bootTimeNs() },
    (line) => console.error(`tracee: ${line}`));
  const { policies, plan, split } = live.detection;
  const skipped = plan.eventIds.filter((id) => unavailable.has(id));
  if (skipped.length) console.error(`tracee: not captured on this kernel (see the kernel: lines): ${skipped.map((id) => eventById(id)!.name).join(', ')}`);
  for (const u of split.userScoped) console.error(`tracee: policy "${u.policy}": scope applied in user space (${u.reason})`);
  if (!split.treeEvents) console.error('tracee: warning: 64 policies leave no room for the process tree\'s events; it sees only the forks, execs and exits the policies select');

  const decodeOptions = { containers, parseArguments: output.parseArguments };
  const webhook = createWebhook(opts, decodeOptions, 'tracee', output.webhook);
  const printTemplate = output.template ? templatePrinter(output.template, decodeOptions, (t) => process.stdout.write(t), 'tracee') : undefined;
  // Containers are always identified from cgroup paths (containerId, containerStarted), as in Tracee;
  // names, images and pods come from the runtimes only with container enrichment on.
  const enricher = new ContainerEnricher({
    table: containers, cgroupfsPath: containerOptions.cgroupfsPath, log: (line) => console.error(`tracee: ${line}`),
    ...(containerOptions.enabled ? { sockets: containerOptions.sockets } : { clients: [] }),
  });
  processes.scan();
  const engine = await startEngine(live.detection.bundles, (m) => console.error(`tracee: ${m}`),
    { ...engineConfig, containers, eventHost: { processes, policyNames: plan.names, containerDirectory: enricher } });
  for (const err of engine.loadErrors) console.error(`tracee: ${err.message}`);
  const printer = createEventPrinter(output.format, (t) => process.stdout.write(t),
    { containers, processes, parseArguments: output.parseArguments },
    // Container filtering mode (a `container` scope): the table shows containers and images, as Tracee's.
    { events: plan.printsEvents, containers: policies.some((p) => p.scope.some((s) => s.field === 'container')) },
    (err) => { capture.countDecodeFailures(1); console.error(`tracee: cannot print an event: ${err.message}`); });

  const eventIds = split.eventIds;
  const capture = KernelCapture.open({
    objectPath: BPF_OBJECT, eventIds, ringBufferBytes: bufferBytes, ignorePid: process.pid,
    scope: compileKernelScope(split.policies, split.eventsByPolicy), execEnv: output.execEnv,
  });
  live.attach(capture);
  const watcher = new RulesWatcher(opts.rulesDir, live.swapTarget(engine), compiled.files, live.detection.bundles, {
    rules: opts.rules, trustedKeys: keys, limits: engineConfig.limits,
    select: (candidates) => live.select(candidates), report: (line) => console.error(`tracee: ${line}`),
  });
  let printed = 0;
  let reported = 0;
  let badBatches = 0;
  const printItems: Array<readonly [number, string[]]> = [];
  await enricher.start();
  let running = true;
  const metrics = await startMetrics(opts, {
    capture: () => capture.stats(),
    filtered: () => live.filterStats.filtered,
    engine: () => ({ stats: engine.stats, bundles: engine.bundles() }),
    decodeErrors: () => capture.stats().decodeFailures,
    webhook: webhook && (() => webhook.stats),
    enrichmentErrors: () => enricher.stats.errors,
  }, () => running);
  const report = (filter: PolicyFilter, findings: Finding[]) => {
    const items: Array<readonly [Finding, string[]]> = [];
    for (const f of findings) {
      const policyNames = filter.findingPolicies(f);
      if (policyNames.length) items.push([f, policyNames]);
    }
    if (items.length === 0) return;
    reported += items.length;
    if (printTemplate) printTemplate(items.map(([f]) => f));
    else printer.printFindings(items);
    for (const [f] of items) webhook?.enqueue(f);
  };
  const onBatch = (batch: Uint8Array) => {
    const filter = live.filter;
    let kept: Uint8Array | undefined;
    try {
      processes.update(batch);
      const malformed = filter.stats.malformed;
      kept = filter.process(batch);
      if (filter.stats.malformed !== malformed) capture.countDecodeFailures(filter.stats.malformed - malformed);
    } catch (err) {
      badBatches++;
      capture.countDecodeFailures(1);
      console.error(`tracee: dropped a batch: ${(err as Error).message}`);
      return;
    }
    if (!kept) return;
    printItems.length = 0;
    filter.forEachPrinted((offset, names) => printItems.push([offset, names]));
    printer.printEvents(kept, printItems);
    printed += printItems.length;
    // The sandbox delivers findings later (pipelined): with the filter of this batch's plan.
    engine.submit(kept, (findings) => { if (findings.length) report(filter, findings); });
  };
  capture.start(enricher.stage(onBatch));
  if (opts.rulesWatch) watcher.start();
  const offSighup = onSighup(watcher);
  const bundleCount = live.detection.bundles.length;
  console.error(`tracee: capturing ${eventIds.length} events for ${policies.length} ${policies.length === 1 ? 'policy' : 'policies'} and ${bundleCount} signatures${engineConfig.sandbox ? ' (sandboxed)' : ''} (Ctrl-C to stop)`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  running = false;
  watcher.stop();
  offSighup();
  capture.stop();
  engine.flush();
  await engine.close();
  await enricher.close();
  await closeWebhook(webhook, 'tracee');
  metrics?.close();
  const s = capture.stats();
  const f = live.filterStats;
  console.error(`tracee: ${s.eventsReceived} events, ${engine.stats.findings} detections, lost: ${s.lostRingBuffer} (ring buffer full), ${s.lostQueueFull} (addon queue full), ${s.decodeFailures} (decode failure), ${engine.stats.bundleErrors} signature errors`);
  console.error(`tracee: policies: ${f.passed} events kept, ${f.filtered} filtered, ${f.internal} process-tree only; ${printed} events and ${reported} detections printed; ${badBatches} bad batches; process tree: ${processes.size} processes`);
  return 0;
}

/**
 * Which events this kernel cannot capture, with the reason (the capture
 * addon's probes); unknown when the addon cannot load (not built, or no root).
 */
async function eventAvailability(): Promise<EventAvailability> {
  try {
    const { unavailableEvents } = await import('../capture/addon.ts');
    const unavailable = new Map<string, string>();
    for (const [id, reason] of unavailableEvents()) unavailable.set(eventById(id)?.name ?? String(id), reason);
    return { known: true, unavailable };
  } catch (err) {
    console.error(`tracee: cannot tell which events this kernel supports: ${(err as Error).message}`);
    return { known: false, unavailable: new Map() };
  }
}

program.parseAsync().catch((err) => { console.error(`tracee: ${err.message}`); process.exit(2); });
