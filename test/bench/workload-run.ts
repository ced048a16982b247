/**
 * Running the syscall benchmark's workloads and measuring around them
 * (syscalls.ts): the workload's own loop time and CPU time, the CPUs other
 * processes kept busy, other tracers attached, and bpftrace as the
 * comparison tracer.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Workload {
  name: string;
  bin: string;
  args: string[];
  /** Our events for "trace every syscall of the workload". */
  syscalls: string[];
  bpftrace: string;
  /** The workload's comm; its own events are counted (openat: only of `path`). */
  comm: string;
  path?: string;
  /** Events of its own the workload makes at least, by name. */
  expect: Record<string, number>;
  /** Alternations of untraced and traced runs. */
  rounds: number;
}

export interface Run { seconds: number; cpu: number; foreign: number; othersCpus: number }

const TRACING_TYPES = new Set(['tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable', 'kprobe', 'tracing', 'perf_event']);

/** Tracing programs loaded now (before ours are): other processes' tracers, which slow every syscall. -1: bpftool missing. */
export function foreignTracers(): number {
  try {
    const progs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Array<{ type: string }>;
    return progs.filter((p) => TRACING_TYPES.has(p.type)).length;
  } catch {
    return -1;
  }
}

/** CPU seconds the machine has spent busy (all CPUs; steal counts: a neighbour VM had the CPU). */
function busySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / 100; // USER_HZ
}

/**
 * Runs a workload trigger: its own loop time and its user+sys CPU time, in
 * seconds, and the CPUs other processes kept busy meanwhile (machine busy
 * time less the workload's and this process's, per second).
 */
export async function runWorkload(w: Workload, extra: string[] = [], foreign = foreignTracers()): Promise<Run> {
  const busy0 = busySeconds();
  const self0 = process.cpuUsage();
  const { stdout, stderr } = await exec('bash', ['-c', 'TIMEFORMAT="%3U %3S %3R"; time "$0" "$@"', w.bin, ...w.args, ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 20 });
  const self = process.cpuUsage(self0);
  const [user, sys, real] = stderr.trim().split('\n').pop()!.split(/\s+/).map(Number);
  const others = busySeconds() - busy0 - (self.user + self.system) / 1e6 - user - sys;
  return { seconds: Number(stdout.trim().split(/\s+/)[2]), cpu: user + sys, foreign, othersCpus: Math.max(0, others / real) };
}

export interface Traced extends Run {
  events: number;
  lost: number;
  /** lost by cause, when any */
  lostBy: string;
  drainedMs: number;
  tracerCpu: number;
  checked: number;
  missing: string[];
}

/** bpftrace's tracepoints need tracefs (not mounted on every machine: mounted here if missing). */
function ensureTracefs(): void {
  if (existsSync('/sys/kernel/tracing/events/syscalls')) return;
  try { execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'ignore' }); } catch { /* reported by bpftrace */ }
}

export function ensureBpftrace(): string | undefined {
  ensureTracefs();
  try {
    return execFileSync('which', ['bpftrace'], { encoding: 'utf8' }).trim();
  } catch { /* not installed */ }
  try {
    execFileSync('apt-get', ['install', '-y', 'bpftrace'], { stdio: 'ignore', timeout: 300_000 });
    return execFileSync('which', ['bpftrace'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** CPU seconds (user+sys) of a process so far. */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // clock ticks: 100 Hz (USER_HZ)
}

export async function traceBpftrace(bpftrace: string, w: Workload): Promise<Traced> {
  const foreign = foreignTracers();
  const dir = mkdtempSync(join(tmpdir(), 'trc-bpftrace-'));
  const out = join(dir, 'out.txt');
  // through sh for `ulimit -l` (bpftrace cannot raise RLIMIT_MEMLOCK itself here)
  const child = spawn('/bin/sh', ['-c', 'ulimit -l unlimited; exec "$0" -o "$1" -e "$2"', bpftrace, out, w.bpftrace],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // bpftrace writes "Attaching N probes..." to its output once attached.
  const deadline = Date.now() + 60_000;
  while (!(existsSync(out) && readFileSync(out, 'utf8').includes('Attaching'))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`bpftrace did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpu0 = processCpu(child.pid!);
  const run = await runWorkload(w, [], foreign);
  const done = Date.now();
  let size = -1;
  while (statSync(out).size !== size) { size = statSync(out).size; await new Promise((r) => setTimeout(r, 300)); }
  const tracerCpu = processCpu(child.pid!) - cpu0;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  const text = readFileSync(out, 'utf8');
  const events = text.split('\n').filter((l) => l.startsWith('E ')).length;
  const lost = [...text.matchAll(/Lost (\d+) events/g)].reduce((n, m) => n + Number(m[1]), 0);
  rmSync(dir, { recursive: true, force: true });
  return { ...run, events, lost, lostBy: `${lost} reported by bpftrace`, drainedMs: Date.now() - done, tracerCpu, checked: 0, missing: [] };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
