/**
 * Reads processes from procfs (proc(5)): /proc/PID/stat for the parent, name
 * and start time, /proc/PID/exe for the executable. Processes that vanish
 * while being read, and unreadable links (kernel threads, or no permission),
 * are skipped or left without an executable.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  executable: string;
  /** Start time as CLOCK_BOOTTIME ns (the record clock). */
  startTime: bigint;
}

/** USER_HZ: /proc reports start times in these ticks; 100 on every Linux x86_64 build. */
const CLK_TCK = 100n;
const NS_PER_TICK = 1_000_000_000n / CLK_TCK;

/** The processes of `root` (all, or just `pids`). */
export function scanProc(root = '/proc', pids?: readonly number[]): ProcEntry[] {
  let list = pids;
  if (!list) {
    try {
      list = readdirSync(root).filter((n) => /^\d+$/.test(n)).map(Number);
    } catch {
      return [];
    }
  }
  const out: ProcEntry[] = [];
  for (const pid of list) {
    const e = readEntry(root, pid);
    if (e) out.push(e);
  }
  return out;
}

function readEntry(root: string, pid: number): ProcEntry | undefined {
  let stat: string;
  try {
    stat = readFileSync(`${root}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const comm = Buffer.from(stat.slice(open + 1, close), 'latin1').toString('utf8');
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const ticks = fields[19];
  let executable = '';
  try {
    executable = readlinkSync(`${root}/${pid}/exe`);
  } catch {
    // kernel thread, exited, or not permitted
  }
  return {
    pid, ppid: Number.isFinite(ppid) ? ppid : 0, comm, executable,
    startTime: ticks && /^\d+$/.test(ticks) ? BigInt(ticks) * NS_PER_TICK : 0n,
  };
}

/** CLOCK_BOOTTIME now, in ns (from /proc/uptime, 10 ms resolution); 0n if unreadable. */
export function bootTimeNs(root = '/proc'): bigint {
  try {
    const [up] = readFileSync(`${root}/uptime`, 'latin1').split(' ');
    const [s, frac = '0'] = up.split('.');
    return BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  } catch {
    return 0n;
  }
}

/** The mount namespace id of `pid` (1: the host's), from /proc/PID/ns/mnt; undefined if unreadable. */
export function mountNamespaceOf(pid = 1, root = '/proc'): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`${root}/${pid}/ns/mnt`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
