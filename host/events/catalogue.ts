/**
 * The event catalogue: the single definition of every event tracee-ts knows
 * (numeric id, name, argument names and types, sets). Everything else — the
 * eBPF header, the host decoder, the AssemblyScript SDK constants and
 * `tracee list` — is generated from or imports this file
 * (see host/events/generate.ts). Names and argument names/types follow
 * Tracee v0.23+ so signatures, policies and recorded events port unchanged.
 */
import { SYSCALL_EVENTS } from './syscalls.ts';

/** Argument type names as Tracee v0.23+ prints them in event JSON. */
export type ArgType =
  | 'int32' | 'uint32' | 'int64' | 'uint64' | 'uint16' | 'trace.Pointer' | 'bool'
  | 'string' | '[]string' | '[]byte' | 'SockAddr'
  /** Structured values kept as JSON text in the flat encoding (rare, never on a hot path). */
  | '[]trace.HookedSymbolData';

/** Named value tables used to parse/render flag and enum arguments. */
export type ArgParser = 'ptraceRequest' | 'openFlags' | 'memfdFlags' | 'execFlags' | 'memProtAlert' | 'socketType';

export interface ArgDef {
  readonly name: string;
  readonly type: ArgType;
  /** Arguments recorded with Tracee's parse-arguments carry names instead of numbers. */
  readonly parser?: ArgParser;
}

/** syscall: a syscall's entry/exit; tracepoint: a kernel tracepoint; derived: built from several probes. */
export type EventSource = 'syscall' | 'tracepoint' | 'derived' | 'signature';

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

/**
 * Non-syscall events start at 1000, as in Tracee. Names and arguments are
 * Tracee's; the ids of derived events are ours (recorded events are matched
 * by name). Tracee derives several of these from kprobes; here they come from
 * syscall entry/exit and scheduler/cgroup tracepoints.
 */
const u16 = (name: string): ArgDef => ({ name, type: 'uint16' });
const i64 = (name: string): ArgDef => ({ name, type: 'int64' });
const bool = (name: string): ArgDef => ({ name, type: 'bool' });
const bytes = (name: string): ArgDef => ({ name, type: '[]byte' });
const sockaddr = (name: string): ArgDef => ({ name, type: 'SockAddr' });
const openFlags = (name: string): ArgDef => ({ name, type: 'int32', parser: 'openFlags' });

const derived: EventDef[] = [
  { id: 1002, name: 'sched_process_fork', source: 'tracepoint', sets: ['proc', 'proc_life'],
    args: [i32('parent_tid'), i32('parent_ns_tid'), i32('parent_pid'), i32('parent_ns_pid'),
      i32('child_tid'), i32('child_ns_tid'), i32('child_pid'), i32('child_ns_pid'), u64('start_time')] },
  { id: 1003, name: 'sched_process_exec', source: 'tracepoint', sets: ['default', 'proc', 'proc_life'],
    args: [str('cmdpath'), str('pathname'), u32('dev'), u64('inode'), u64('ctime'), u16('inode_mode'),
      str('interpreter_pathname'), u32('interpreter_dev'), u64('interpreter_inode'), u64('interpreter_ctime'),
      strs('argv'), str('interp'), u16('stdin_type'), str('stdin_path'), bool('invoked_from_kernel'),
      str('prev_comm'), strs('env'), str('pwd')] },
  { id: 1004, name: 'sched_process_exit', source: 'tracepoint', sets: ['proc', 'proc_life'],
    args: [i64('exit_code'), bool('process_group_exit')] },
  { id: 1010, name: 'security_file_open', source: 'derived', sets: ['default', 'lsm_hooks', 'fs', 'fs_file_ops'],
    args: [str('pathname'), openFlags('flags'), u32('dev'), u64('inode'), u64('ctime'), str('syscall_pathname')] },
  { id: 1011, name: 'security_inode_rename', source: 'derived', sets: ['lsm_hooks', 'fs', 'fs_file_ops'],
    args: [str('old_path'), str('new_path')] },
  { id: 1012, name: 'security_inode_unlink', source: 'derived', sets: ['default', 'lsm_hooks', 'fs', 'fs_file_ops'],
    args: [str('pathname'), u64('inode'), u32('dev'), u64('ctime')] },
  { id: 1013, name: 'magic_write', source: 'derived', sets: ['fs'],
    args: [str('pathname'), bytes('bytes'), u32('dev'), u64('inode')] },
  { id: 1014, name: 'mem_prot_alert', source: 'derived', sets: ['proc', 'proc_mem'],
    args: [{ name: 'alert', type: 'uint32', parser: 'memProtAlert' }, ptr('addr'), u64('len'), i32('prot'), i32('prev_prot'),
      str('pathname'), u32('dev'), u64('inode'), u64('ctime')] },
  { id: 1015, name: 'security_socket_connect', source: 'derived', sets: ['default', 'lsm_hooks', 'net', 'net_sock'],
    args: [i32('sockfd'), { name: 'type', type: 'int32', parser: 'socketType' }, sockaddr('remote_addr')] },
  { id: 1016, name: 'socket_dup', source: 'derived', sets: ['net', 'net_sock'],
    args: [i32('oldfd'), i32('newfd'), sockaddr('remote_addr')] },
  { id: 1017, name: 'security_sb_mount', source: 'derived', sets: ['default', 'lsm_hooks', 'fs'],
    args: [str('dev_name'), str('path'), str('type'), u64('flags')] },
  { id: 1018, name: 'module_load', source: 'derived', sets: ['default'],
    args: [str('name'), str('version'), str('src_version'), str('pathname')] },
  { id: 1019, name: 'cgroup_mkdir', source: 'tracepoint', sets: ['default'],
    args: [u64('cgroup_id'), str('cgroup_path'), u32('hierarchy_id')] },
  { id: 1020, name: 'cgroup_rmdir', source: 'tracepoint', sets: ['default'],
    args: [u64('cgroup_id'), str('cgroup_path'), u32('hierarchy_id')] },
  { id: 1021, name: 'hooked_syscall', source: 'derived', sets: ['default'],
    args: [str('syscall'), str('address'), str('function'), str('owner')] },
  { id: 1022, name: 'hooked_proc_fops', source: 'derived', sets: ['default'],
    args: [{ name: 'hooked_fops_pointers', type: '[]trace.HookedSymbolData' }] },
];

/** Syscall events (host/events/syscalls.ts) use the x86_64 syscall number as their id, as Tracee does. */
export const EVENTS: readonly EventDef[] = [...SYSCALL_EVENTS, ...derived];

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
