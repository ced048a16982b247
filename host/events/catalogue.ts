/**
 * The event catalogue: the single definition of every event tracee-ts knows
 * (numeric id, name, argument names and types, sets). Everything else — the
 * eBPF header, the host decoder, the AssemblyScript SDK constants and
 * `tracee list` — is generated from or imports this file
 * (see host/events/generate.ts). Names and argument names/types follow
 * Tracee v0.23+ so signatures, policies and recorded events port unchanged.
 */

/** Argument type names as Tracee v0.23+ prints them in event JSON. */
export type ArgType =
  | 'int32' | 'uint32' | 'int64' | 'uint64' | 'uint16' | 'trace.Pointer' | 'bool'
  | 'string' | '[]string' | '[]byte' | 'SockAddr';

/** Named value tables used to parse/render flag and enum arguments. */
export type ArgParser = 'ptraceRequest' | 'openFlags' | 'memfdFlags' | 'execFlags';

export interface ArgDef {
  readonly name: string;
  readonly type: ArgType;
  /** Arguments recorded with Tracee's parse-arguments carry names instead of numbers. */
  readonly parser?: ArgParser;
}

export type EventSource = 'syscall' | 'tracepoint' | 'signature';

export interface EventDef {
  readonly id: number;
  readonly name: string;
  readonly source: EventSource;
  /** Tracee's sets/tags ("syscalls", "proc", "fs", ...), used by `-e` selection. */
  readonly sets: readonly string[];
  readonly args: readonly ArgDef[];
}

const ptr = (name: string): ArgDef => ({ name, type: 'trace.Pointer' });
const i32 = (name: string): ArgDef => ({ name, type: 'int32' });
const u32 = (name: string): ArgDef => ({ name, type: 'uint32' });
const u64 = (name: string): ArgDef => ({ name, type: 'uint64' });
const str = (name: string): ArgDef => ({ name, type: 'string' });
const strs = (name: string): ArgDef => ({ name, type: '[]string' });

/** Syscall events use the x86_64 syscall number as their id, as Tracee does. */
const syscalls: EventDef[] = [
  { id: 59, name: 'execve', source: 'syscall', sets: ['syscalls', 'proc', 'proc_life'],
    args: [str('pathname'), strs('argv'), strs('envp')] },
  { id: 101, name: 'ptrace', source: 'syscall', sets: ['syscalls', 'proc'],
    args: [{ name: 'request', type: 'int64', parser: 'ptraceRequest' }, i32('pid'), ptr('addr'), ptr('data')] },
  { id: 319, name: 'memfd_create', source: 'syscall', sets: ['syscalls', 'fs', 'fs_file_ops'],
    args: [str('name'), { name: 'flags', type: 'uint32', parser: 'memfdFlags' }] },
  { id: 322, name: 'execveat', source: 'syscall', sets: ['syscalls', 'proc', 'proc_life'],
    args: [i32('dirfd'), str('pathname'), strs('argv'), strs('envp'), { name: 'flags', type: 'int32', parser: 'execFlags' }] },
];

/** Non-syscall events start at 1000, as in Tracee. */
const tracepoints: EventDef[] = [
  { id: 1002, name: 'sched_process_fork', source: 'tracepoint', sets: ['proc', 'proc_life'],
    args: [i32('parent_tid'), i32('parent_ns_tid'), i32('parent_pid'), i32('parent_ns_pid'),
      i32('child_tid'), i32('child_ns_tid'), i32('child_pid'), i32('child_ns_pid'), u64('start_time')] },
  { id: 1003, name: 'sched_process_exec', source: 'tracepoint', sets: ['default', 'proc', 'proc_life'],
    args: [str('cmdpath'), str('pathname'), u32('dev'), u64('inode'), u64('ctime'),
      { name: 'inode_mode', type: 'uint16' }, strs('argv'), str('prev_comm')] },
  { id: 1004, name: 'sched_process_exit', source: 'tracepoint', sets: ['proc', 'proc_life'],
    args: [{ name: 'exit_code', type: 'int64' }, { name: 'process_group_exit', type: 'bool' }] },
];

export const EVENTS: readonly EventDef[] = [...syscalls, ...tracepoints];

/** Detections re-emitted as events get ids from this range (Tracee: 6000–6999). */
export const SIGNATURE_EVENT_ID_BASE = 6000;

const byName = new Map(EVENTS.map((e) => [e.name, e]));
const byId = new Map(EVENTS.map((e) => [e.id, e]));

export function eventByName(name: string): EventDef | undefined {
  return byName.get(name);
}

export function eventById(id: number): EventDef | undefined {
  return byId.get(id);
}
