/**
 * Syscall workload benchmark: a fixed workload (500k open+close of one file,
 * a burst of execs, connects on loopback) run (a) untraced, (b) traced by our
 * capture with every record delivered to JS and decoded, (c) traced by
 * bpftrace (Debian package `bpftrace`, installed here with apt-get if
 * missing) with a script that prints an equivalent line per record to user
 * space — all in the same run. Rows give the slowdown against (a) and the
 * loss.
 *
 * Two slowdowns: `ratio`, of the loop's own wall time (the workload prints
 * it, so a busy observer does not inflate it), and `cpuRatio`, of the
 * workload's user+sys CPU time (bash's `time`), which waiting for a CPU
 * taken by a neighbour does not inflate either: these machines are shared
 * and noisy, so the untraced and traced runs alternate and medians are
 * compared; `quietRatio` is the median over the rounds where neither run
 * had a neighbour busy (othersCpus < 0.25), `quietRounds` how many there
 * were. `foreign` counts tracing programs other processes had attached
 * (they slow every syscall, traced or not); `othersCpus`, the CPUs other
 * processes kept busy during the run (bpftrace included in its row): on 2
 * CPUs, one taken by a neighbour leaves the workload sharing the other with
 * the consumer, and the wall ratio then includes the consumer's CPU;
 * `tracerNsPerEvent` is this process's CPU (JS and poll thread) per event.
 *
 * "decoded" (decode-check.ts): "lean" reads every context field and every
 * argument of every record by its catalogue type with RecordReader and
 * folds them into a checksum, without an object per event; "JSON objects"
 * builds Tracee's event object with decodeEvent (information: what printing
 * costs). After each run the last batch is decoded both ways and the
 * checksums compared record by record (`checked`), and the workload's own
 * events are counted (`missing` lists any event with fewer than it made).
 *
 * Then the highest sustained kernel → decoded-JS rate with zero lost events:
 * the open loop paced at rising rates, every syscall traced, default buffers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTriggers } from '../helpers/triggers.ts';
import { EVENTS, eventByName } from '../../host/events/catalogue.ts';
import { checkBatch, fullBatch, leanBatch, tallyOf } from './decode-check.ts';
import { ensureBpftrace, foreignTracers, median, runWorkload, traceBpftrace, type Run, type Traced, type Workload } from './workload-run.ts';

const OPEN_N = 500_000;
const EXEC_N = 2_000;
const CONNECT_N = 20_000;
const ISSUE_RATIO = 1.6; // issue #3: every syscall of the open loop, decoded, nothing lost
const ISSUE_RATE = 500_000; // issue #3: sustained decoded events/s with zero loss
const QUIET = 0.25; // othersCpus below this: a round counts as quiet

export interface SyscallBenchRow {
  name: string;
  ratio: number;
  seconds: number;
  events: number;
  lost: number;
  eventsPerSec: number;
  [k: string]: unknown;
}

/** Big buffers by default (the workload rows measure cost, not buffer sizing); the sustained rows use the defaults. */
async function traceOurs(root: string, eventIds: number[], w: Workload, mode: 'lean' | 'full', extra: string[] = [],
  buffers: { ringBufferBytes?: number; queueBatches?: number } = { ringBufferBytes: 64 << 20, queueBatches: 4096 },
  expect: Record<string, number> = {}): Promise<Traced> {
  const { KernelCapture } = await import('../../host/capture/addon.ts');
  const foreign = foreignTracers();
  const capture = KernelCapture.open({ objectPath: join(root, 'bpf/build/tracee.bpf.o'), eventIds, ...buffers });
  const tally = tallyOf(w.comm, w.path);
  const side = { sum: 0 };
  let h = 1;
  let events = 0;
  let last = 0;
  let lastBatch: Uint8Array | undefined;
  capture.start((batch) => {
    const r = mode === 'lean' ? leanBatch(batch, h, tally, side) : fullBatch(batch, h, tally);
    h = r.h;
    events += r.events;
    last = Date.now();
    lastBatch = batch;
  });
  const cpu0 = process.cpuUsage();
  const run = await runWorkload(w, extra, foreign);
  const done = Date.now();
  // Drain: stop once no batch came for 300 ms.
  while (Date.now() - Math.max(last, done) < 300) await new Promise((r) => setTimeout(r, 50));
  const cpu = process.cpuUsage(cpu0);
  capture.stop();
  await new Promise((r) => setImmediate(r));
  const s = capture.stats();
  if (h === 0.5 || side.sum === 0.5) console.log(h, side.sum); // keeps the folds observable
  const missing = Object.entries(expect)
    .filter(([name, n]) => (tally.counts[eventByName(name)!.id] ?? 0) < n)
    .map(([name, n]) => `${name} ${tally.counts[eventByName(name)!.id] ?? 0}/${n}`);
  return {
    ...run, events, lost: s.lostRingBuffer + s.lostQueueFull + s.kernelMissedRuns + s.decodeFailures,
    lostBy: `ring buffer ${s.lostRingBuffer}, JS queue ${s.lostQueueFull}, missed runs ${s.kernelMissedRuns}, decode ${s.decodeFailures}`,
    drainedMs: Math.max(0, last - done), tracerCpu: (cpu.user + cpu.system) / 1e6,
    checked: lastBatch ? checkBatch(lastBatch) : 0, missing,
  };
}

/** A row from alternated runs: medians, against the untraced medians of the same rounds. */
function row(name: string, base: Run[], runs: Traced[], extra: Record<string, unknown> = {}): SyscallBenchRow {
  const seconds = median(runs.map((r) => r.seconds));
  const mid = runs.find((r) => r.seconds === seconds)!;
  const pairs = runs.map((r, i) => r.seconds / (base[i] ?? base[0]).seconds).sort((a, b) => a - b);
  // Rounds where neither run shared the machine with a busy neighbour.
  const quiet = runs.map((r, i) => [r, base[i] ?? base[0]] as const)
    .filter(([r, b]) => r.othersCpus < QUIET && b.othersCpus < QUIET).map(([r, b]) => r.seconds / b.seconds);
  return {
    name,
    ratio: seconds / median(base.map((b) => b.seconds)),
    quietRatio: quiet.length ? median(quiet) : NaN,
    quietRounds: quiet.length,
    cpuRatio: median(runs.map((r) => r.cpu)) / median(base.map((b) => b.cpu)),
    ratioRange: runs.length > 1 ? `${pairs[0].toFixed(2)}-${pairs[pairs.length - 1].toFixed(2)}` : '',
    seconds,
    cpuSeconds: median(runs.map((r) => r.cpu)),
    events: mid.events,
    lost: runs.reduce((n, r) => n + r.lost, 0),
    lostBy: runs.find((r) => r.lost > 0)?.lostBy ?? '',
    eventsPerSec: Math.round(mid.events / mid.seconds),
    tracerNsPerEvent: Math.round(median(runs.map((r) => (r.events ? (r.tracerCpu * 1e9) / r.events : 0)))),
    checked: runs.every((r) => r.checked > 0) ? `${runs.reduce((n, r) => n + r.checked, 0)} ok` : (runs[0].checked ? 'partly' : ''),
    missing: [...new Set(runs.flatMap((r) => r.missing))].join('; '),
    foreign: Math.max(...runs.map((r) => r.foreign)),
    othersCpus: median(runs.map((r) => r.othersCpus)),
    ...extra,
  };
}

export async function benchSyscalls(root: string): Promise<SyscallBenchRow[]> {
  if (process.getuid?.() !== 0) throw new Error('syscall benchmark needs root');
  const { unavailableEvents } = await import('../../host/capture/addon.ts');
  const t = buildTriggers();
  const target = join(mkdtempSync(join(tmpdir(), 'trc-bench-')), 'file');
  execFileSync('sh', ['-c', `echo bench > ${target}`]);
  const self = `comm != "bpftrace"`;
  const workloads: Workload[] = [
    { name: `open+close × ${OPEN_N.toLocaleString('en-US')}`, bin: t.open_loop, args: [String(OPEN_N), target], syscalls: ['openat', 'close'],
      comm: 'open_loop', path: target, expect: { openat: OPEN_N, close: OPEN_N }, rounds: 5,
      bpftrace: `tracepoint:syscalls:sys_exit_openat /${self}/ { printf("E %d %d %s openat %d\\n", pid, tid, comm, args->ret); }
                 tracepoint:syscalls:sys_enter_openat /${self}/ { printf("E %d %d %s openat %d %s %d\\n", pid, tid, comm, args->dfd, str(args->filename), args->flags); }
                 tracepoint:syscalls:sys_exit_close /${self}/ { printf("E %d %d %s close %d\\n", pid, tid, comm, args->ret); }` },
    { name: `fork+exec × ${EXEC_N.toLocaleString('en-US')}`, bin: t.exec_burst, args: [String(EXEC_N), '/bin/true'], syscalls: ['execve', 'clone', 'wait4'],
      comm: 'exec_burst', expect: { execve: EXEC_N, clone: EXEC_N, wait4: EXEC_N }, rounds: 3,
      bpftrace: `tracepoint:sched:sched_process_exec /${self}/ { printf("E %d %s %s\\n", pid, comm, str(args->filename)); }
                 tracepoint:syscalls:sys_enter_execve /${self}/ { printf("E %d %s %s\\n", pid, comm, str(args->filename)); }` },
    { name: `connect on loopback × ${CONNECT_N.toLocaleString('en-US')}`, bin: t.connect_loop, args: [String(CONNECT_N)], syscalls: ['socket', 'connect', 'accept', 'close'],
      comm: 'connect_loop', expect: { socket: CONNECT_N, connect: CONNECT_N, accept: CONNECT_N, close: 2 * CONNECT_N }, rounds: 3,
      bpftrace: `tracepoint:syscalls:sys_enter_connect /${self}/ { printf("E %d %s connect %d %r\\n", pid, comm, args->fd, buf(args->uservaddr, 16)); }` },
  ];
  const unavailable = unavailableEvents();
  const defaults = EVENTS.filter((e) => e.sets.includes('default') && e.source !== 'signature' && !unavailable.has(e.id)).map((e) => e.id);
  const bpftrace = ensureBpftrace();
  const rows: SyscallBenchRow[] = [];

  for (const w of workloads) {
    await runWorkload(w); // warm caches
    const ids = w.syscalls.map((n) => eventByName(n)!.id);
    // The untraced and traced cases alternate, round after round: the
    // machine's load drifts, and each round's runs see about the same.
    const base: Run[] = [];
    const legs = { lean: [] as Traced[], full: [] as Traced[], defaultsLean: [] as Traced[], defaultsFull: [] as Traced[] };
    for (let i = 0; i < w.rounds; i++) {
      base.push(await runWorkload(w));
      legs.lean.push(await traceOurs(root, ids, w, 'lean', [], undefined, w.expect));
      legs.full.push(await traceOurs(root, ids, w, 'full', [], undefined, w.expect));
      legs.defaultsLean.push(await traceOurs(root, defaults, w, 'lean'));
      legs.defaultsFull.push(await traceOurs(root, defaults, w, 'full'));
    }
    const of = `median of ${w.rounds}`;
    const lean = row(`${w.name}: (b) tracee-ts, every syscall of it (${w.syscalls.join(',')}), lean-decoded (${of})`, base, legs.lean);
    if (w === workloads[0]) {
      const whole = lean.lost === 0 && !lean.missing;
      const met = (r: number) => (whole && r <= ISSUE_RATIO ? 'met' : 'NOT met');
      lean.target = `<= ${ISSUE_RATIO}x: ${met(lean.ratio)} (all rounds), ${lean.quietRounds ? met(lean.quietRatio as number) : 'no'} (quiet rounds)`;
    }
    const seconds = median(base.map((b) => b.seconds));
    rows.push({ name: `${w.name}: (a) untraced (${of})`, ratio: 1, cpuRatio: 1, quietRatio: 1, quietRounds: base.filter((b) => b.othersCpus < QUIET).length, seconds, events: 0, lost: 0, eventsPerSec: 0,
      cpuSeconds: median(base.map((b) => b.cpu)), foreign: Math.max(...base.map((b) => b.foreign)), othersCpus: median(base.map((b) => b.othersCpus)) });
    rows.push(lean);
    rows.push(row(`${w.name}: (b) tracee-ts, every syscall of it, Tracee JSON objects (${of})`, base, legs.full));
    rows.push(row(`${w.name}: (b) tracee-ts, default events (${defaults.length}), lean-decoded (${of})`, base, legs.defaultsLean));
    rows.push(row(`${w.name}: (b) tracee-ts, default events (${defaults.length}), Tracee JSON objects (${of})`, base, legs.defaultsFull));
    if (bpftrace) rows.push(row(`${w.name}: (c) bpftrace, a printed line per record`, base, [await traceBpftrace(bpftrace, w)]));
    else rows.push({ name: `${w.name}: (c) bpftrace NOT MEASURED (not installed, apt-get install bpftrace failed)`, ratio: NaN, seconds: 0, events: 0, lost: 0, eventsPerSec: 0 });
  }

  // Sustained rate: the open loop paced (argv[3] = iterations/s, 2 events each),
  // every syscall traced, default buffers (8 MiB ring, 64 batches of 256 KiB
  // queued for JS). A rate holds when nothing is lost, every record was
  // decoded, and JS has decoded everything within 500 ms of the workload's end.
  const open = workloads[0];
  const openIds = open.syscalls.map((n) => eventByName(n)!.id);
  for (const mode of ['lean', 'full'] as const) {
    let best = 0;
    let stop = 'the workload reached its own top speed';
    let foreign = 0;
    let others = 0; // othersCpus of the run that ended the search
    let retries = 0;
    for (const rate of [100_000, 200_000, 300_000, 500_000, 700_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000]) {
      const n = Math.min(rate * 3, 6_000_000); // ~3 s at that rate
      const w = { ...open, args: [String(n / 2), target, String(rate / 2)] };
      let r: Traced;
      let failed: boolean;
      // A rate that fails while neighbours kept a CPU busy (not a quiet
      // run) is tried again, twice at most (counted in `retries`).
      for (let attempt = 0; ; attempt++) {
        r = await traceOurs(root, openIds, w, mode, [], {}, { openat: n / 2, close: n / 2 });
        failed = r.lost > 0 || r.drainedMs > 500 || r.missing.length > 0; // lost, or JS fell behind the kernel
        if (!failed || r.othersCpus < QUIET || attempt === 2) break;
        retries++;
      }
      foreign = Math.max(foreign, r.foreign);
      others = r.othersCpus;
      const achieved = r.events / r.seconds;
      if (failed) {
        stop = `at ${rate.toLocaleString('en-US')}/s: ${r.lost ? `lost (${r.lostBy})` : '0 lost'}, ${r.missing.join(', ') || 'none missing'}, JS done ${r.drainedMs} ms after the workload`;
        break;
      }
      best = Math.max(best, Math.min(achieved, rate));
      if (achieved < rate * 0.9) break; // the workload itself cannot go faster
    }
    const name = `sustained kernel → ${mode === 'lean' ? 'lean-decoded' : 'Tracee JSON object'} JS rate with 0 lost (default buffers)`;
    const result: SyscallBenchRow = { name, ratio: NaN, seconds: 0, events: 0, lost: 0, eventsPerSec: Math.round(best), limit: stop, foreign, othersCpus: others, retries };
    if (mode === 'lean') result.target = `>= ${ISSUE_RATE.toLocaleString('en-US')}/s: ${best >= ISSUE_RATE ? 'met' : 'NOT met'}`;
    rows.push(result);
  }
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const root = join(import.meta.dirname, '..', '..');
  for (const r of await benchSyscalls(root)) console.log(JSON.stringify(r));
}
