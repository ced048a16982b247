/**
 * Named values of flag and enum arguments, as Tracee's parse-arguments prints
 * them. Used in both directions: recorded events may carry `"PTRACE_TRACEME"`
 * where a live event carries 0, and the JSON output can render names.
 */
import type { ArgParser } from './catalogue.ts';

/**
 * enum: one value; flags: or-ed bits; enumFlags: an enum in the bits of `mask`
 * with flags or-ed above it (socket types: SOCK_STREAM|SOCK_CLOEXEC).
 */
type Table = {
  readonly kind: 'enum' | 'flags' | 'enumFlags';
  readonly values: ReadonlyArray<readonly [string, number]>;
  readonly mask?: number;
};

const PTRACE_REQUESTS: Table = {
  kind: 'enum',
  values: [
    ['PTRACE_TRACEME', 0], ['PTRACE_PEEKTEXT', 1], ['PTRACE_PEEKDATA', 2], ['PTRACE_PEEKUSER', 3],
    ['PTRACE_POKETEXT', 4], ['PTRACE_POKEDATA', 5], ['PTRACE_POKEUSER', 6], ['PTRACE_CONT', 7],
    ['PTRACE_KILL', 8], ['PTRACE_SINGLESTEP', 9], ['PTRACE_GETREGS', 12], ['PTRACE_SETREGS', 13],
    ['PTRACE_GETFPREGS', 14], ['PTRACE_SETFPREGS', 15], ['PTRACE_ATTACH', 16], ['PTRACE_DETACH', 17],
    ['PTRACE_GETFPXREGS', 18], ['PTRACE_SETFPXREGS', 19], ['PTRACE_SYSCALL', 24],
    ['PTRACE_SETOPTIONS', 0x4200], ['PTRACE_GETEVENTMSG', 0x4201], ['PTRACE_GETSIGINFO', 0x4202],
    ['PTRACE_SETSIGINFO', 0x4203], ['PTRACE_GETREGSET', 0x4204], ['PTRACE_SETREGSET', 0x4205],
    ['PTRACE_SEIZE', 0x4206], ['PTRACE_INTERRUPT', 0x4207], ['PTRACE_LISTEN', 0x4208],
    ['PTRACE_PEEKSIGINFO', 0x4209], ['PTRACE_GETSIGMASK', 0x420a], ['PTRACE_SETSIGMASK', 0x420b],
    ['PTRACE_SECCOMP_GET_FILTER', 0x420c], ['PTRACE_SECCOMP_GET_METADATA', 0x420d],
    ['PTRACE_GET_SYSCALL_INFO', 0x420e],
  ],
};

/** x86_64 open(2) flags; O_RDONLY is the zero access mode. */
const OPEN_FLAGS: Table = {
  kind: 'flags',
  values: [
    ['O_WRONLY', 0o1], ['O_RDWR', 0o2], ['O_CREAT', 0o100], ['O_EXCL', 0o200], ['O_NOCTTY', 0o400],
    ['O_TRUNC', 0o1000], ['O_APPEND', 0o2000], ['O_NONBLOCK', 0o4000], ['O_DSYNC', 0o10000],
    ['O_SYNC', 0o4010000], ['FASYNC', 0o20000], ['O_DIRECT', 0o40000], ['O_LARGEFILE', 0o100000],
    ['O_DIRECTORY', 0o200000], ['O_NOFOLLOW', 0o400000], ['O_NOATIME', 0o1000000],
    ['O_CLOEXEC', 0o2000000], ['O_PATH', 0o10000000], ['O_TMPFILE', 0o20200000],
  ],
};

const MEMFD_FLAGS: Table = {
  kind: 'flags',
  values: [['MFD_CLOEXEC', 1], ['MFD_ALLOW_SEALING', 2], ['MFD_HUGETLB', 4], ['MFD_NOEXEC_SEAL', 8], ['MFD_EXEC', 0x10]],
};

const EXEC_FLAGS: Table = {
  kind: 'flags',
  values: [['AT_SYMLINK_NOFOLLOW', 0x100], ['AT_EMPTY_PATH', 0x1000]],
};

/** Tracee's mem_prot_alert kinds (renders as its alert messages' names). */
const MEM_PROT_ALERTS: Table = {
  kind: 'enum',
  values: [['MmapWX', 1], ['MprotectToX', 2], ['MprotectXToWX', 3], ['MprotectWXToX', 4],
    // The messages Tracee's parse-arguments prints for them (aliases: names render as the first entry).
    ['Mmaped region with W+E permissions!', 1], ['Protection changed to Executable!', 2],
    ['Protection changed from E to W+E!', 3], ['Protection changed from W+E to E!', 4]],
};

/** socket(2) types; SOCK_NONBLOCK/SOCK_CLOEXEC may be or-ed in. */
const SOCKET_TYPES: Table = {
  kind: 'enumFlags',
  mask: 0xf,
  values: [['SOCK_STREAM', 1], ['SOCK_DGRAM', 2], ['SOCK_RAW', 3], ['SOCK_RDM', 4], ['SOCK_SEQPACKET', 5], ['SOCK_DCCP', 6],
    ['SOCK_PACKET', 10], ['SOCK_NONBLOCK', 0o4000], ['SOCK_CLOEXEC', 0o2000000]],
};

const TABLES: Record<ArgParser, Table> = {
  ptraceRequest: PTRACE_REQUESTS,
  openFlags: OPEN_FLAGS,
  memfdFlags: MEMFD_FLAGS,
  execFlags: EXEC_FLAGS,
  memProtAlert: MEM_PROT_ALERTS,
  socketType: SOCKET_TYPES,
};

/** Parses a named value ("PTRACE_TRACEME", "O_WRONLY|O_CREAT"); undefined if a name is unknown. */
export function parseNamedValue(parser: ArgParser, text: string): number | undefined {
  const table = TABLES[parser];
  let value = 0;
  for (const raw of text.split('|')) {
    const name = raw.trim().toUpperCase();
    if (name === '') continue;
    if (parser === 'openFlags' && name === 'O_RDONLY') continue;
    if (/^-?\d+$/.test(name)) { value |= Number(name); continue; }
    const hit = table.values.find(([n]) => n.toUpperCase() === name);
    if (!hit) return undefined;
    value = table.kind === 'enum' ? hit[1] : value | hit[1];
  }
  return value;
}

/** Renders a value the way Tracee's parse-arguments does. */
export function renderNamedValue(parser: ArgParser, value: number): string {
  const table = TABLES[parser];
  if (table.kind === 'enum') {
    return table.values.find(([, v]) => v === value)?.[0] ?? String(value);
  }
  if (table.kind === 'enumFlags') {
    const mask = table.mask!;
    const base = table.values.find(([, v]) => v === (value & mask))?.[0] ?? String(value & mask);
    const flags = table.values.filter(([, v]) => v > mask && (value & v) === v).map(([n]) => n);
    return [base, ...flags].join('|');
  }
  const matched = new Set<string>();
  let rest = value;
  // Multi-bit flags first so O_SYNC is not also reported as O_DSYNC.
  const sorted = [...table.values].sort((a, b) => popcount(b[1]) - popcount(a[1]));
  for (const [name, bits] of sorted) {
    if (bits !== 0 && (rest & bits) === bits) { matched.add(name); rest &= ~bits; }
  }
  const names = table.values.map(([name]) => name).filter((name) => matched.has(name));
  if (parser === 'openFlags' && (value & 3) === 0) names.unshift('O_RDONLY');
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v &= v - 1) c++;
  return c;
}
