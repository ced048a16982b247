/**
 * The whole signature catalogue on a realistic mixed batch (most events match
 * no selector), in one run:
 *
 *  (a)  the 31 built wasm bundles through the real engine;
 *  (b)  the same 31 signatures as plain TypeScript functions over decoded
 *       event objects, dispatched by event name as our engine does: decode
 *       flat → JS objects + match (what a JS engine fed by the kernel pays;
 *       the baseline), and (b') on pre-decoded objects (logic only);
 *  (c)  json-rules-engine 7.3.1 running 5 of them (TRC-102, 105, 109, 1016,
 *       1028) on pre-decoded objects (generous to it: no decoding counted).
 *
 * Then the engine's per-event cost with 1, 8 and 31 signatures loaded, on the
 * mixed batch and on a batch of events no signature selects: the cost must
 * follow the signatures an event selects, not the number loaded.
 *
 * Every implementation must agree on the findings, or the run fails.
 * Targets (issue 4): a/b ≥ 1.5, a/c ≥ 100.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine as RulesEngine, type RuleProperties } from 'json-rules-engine';
import { Bundle } from '../../host/engine/bundle.ts';
import { Engine } from '../../host/engine/engine.ts';
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { ContainerTable } from '../../host/events/containers.ts';
import { decodeEvent, forEachRecord, readBatchHeader } from '../../host/events/batch-reader.ts';
import type { TraceeEvent } from '../../host/events/event-json.ts';
import { traceeEvent } from '../helpers/events.ts';
import { rate } from './measure.ts';

// ---- the workload ---------------------------------------------------------------------------

const CONTAINER_ID = '7f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b';
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).toString('base64');
const TEXT = Buffer.from('#!/bin/sh\n').toString('base64');
const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', 'HOME=/root', 'LANG=C.UTF-8', 'TERM=xterm', 'SHELL=/bin/bash',
  'USER=root', 'PWD=/root', 'SHLVL=1', 'LOGNAME=root', '_=/usr/bin/env'];
const READ_PATHS = ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/etc/passwd', '/proc/self/status', '/etc/ld.so.cache', '/usr/share/zoneinfo/UTC',
  '/etc/nsswitch.conf', '/proc/meminfo', '/sys/fs/cgroup/cpu.max'];
const WRITE_PATHS = ['/tmp/build/out.o', '/var/log/syslog', '/run/user/0/bus', '/root/.bash_history', '/var/lib/dpkg/status-new'];

type Ctx = Record<string, unknown>;
const arg = (name: string, value: unknown): [string, unknown] => [name, value];

/**
 * `count` events shaped like a busy host: ~45% syscalls no signature selects,
 * ~10% process life cycle, ~20% file opens, 8% execs, the rest sockets,
 * writes, mprotect alerts, renames, ptrace, process_vm_writev; one in five
 * file opens and execs from a container; a few per thousand are attacks.
 */
export function signatureWorkload(count: number, containers: ContainerTable): Uint8Array {
  const w = new BatchWriter(1 << 22);
  const ref = containers.refFor(CONTAINER_ID);
  for (let i = 0; i < count; i++) {
    const r = i % 1000;
    const inContainer = i % 5 === 0;
    const ctx: Ctx = { processId: 1000 + (i % 97), threadId: 1000 + (i % 97), hostProcessId: 1000 + (i % 97), processName: 'worker', cgroupId: inContainer ? 8101 : 5650 };
    if (inContainer) Object.assign(ctx, { containerId: CONTAINER_ID, contextFlags: { containerStarted: true, isCompat: false } });
    const add = (name: string, args: Array<[string, unknown]>, extra: Ctx = {}) => {
      const e = traceeEvent(name, args, { ...ctx, ...extra });
      w.add(e, (e as { containerId?: string }).containerId ? ref : 0);
    };
    if (r < 450) {
      const name = ['read', 'write', 'close', 'openat', 'futex'][r % 5];
      add(name, name === 'openat' ? [arg('dirfd', -100), arg('pathname', READ_PATHS[r % READ_PATHS.length]), arg('flags', 0)] : [arg('fd', 3)]);
    } else if (r < 500) add('sched_process_fork', [arg('parent_pid', 1), arg('child_pid', i), arg('child_tid', i)]);
    else if (r < 550) add('sched_process_exit', [arg('exit_code', 0), arg('process_group_exit', true)]);
    else if (r < 750) {
      const attack = r >= 740;
      const path = attack ? ['/etc/ld.so.preload', '/proc/1234/mem', '/etc/sudoers', '/etc/crontab', '/proc/sys/kernel/randomize_va_space',
        '/proc/kcore', '/etc/kubernetes/pki/ca.key', '/usr/lib/ld-linux.so.2', '/proc/sysrq-trigger', '/etc/rc.local'][r - 740]
        : r % 3 === 0 ? WRITE_PATHS[r % WRITE_PATHS.length] : READ_PATHS[r % READ_PATHS.length];
      const write = attack ? !['/proc/1234/mem', '/proc/sys/kernel/randomize_va_space', '/proc/kcore', '/etc/kubernetes/pki/ca.key'].includes(path) : r % 3 === 0;
      add('security_file_open', [arg('pathname', path), arg('flags', write ? 0o1101 : 0o2000000), arg('dev', 2049), arg('inode', 100 + r), arg('ctime', 1)]);
    } else if (r < 830) {
      const kind = r - 750;
      let path = '/usr/bin/ls';
      let env = ENV;
      let extra: Ctx = {};
      let prev = 'bash';
      if (kind === 0) path = 'memfd:payload';
      else if (kind === 1) env = [...ENV, 'LD_PRELOAD=/tmp/evil.so'];
      else if (kind === 2) { path = '/bin/sh'; prev = 'nginx'; extra = { processName: 'sh' }; }
      else if (kind === 3) path = '/usr/bin/crontab';
      else if (kind === 4) env = [...ENV, 'KUBERNETES_SERVICE_HOST=10.96.0.1'];
      add('sched_process_exec', [arg('pathname', path), arg('argv', ['ls', '-la']), arg('prev_comm', prev), arg('env', env)], extra);
    } else if (r < 880) {
      const fd = r === 830 ? 0 : 3 + (r % 5);
      const ip = r === 831 ? '10.96.0.1' : `10.0.${r % 7}.${r % 13}`;
      add('security_socket_connect', [arg('sockfd', fd), arg('type', 1), arg('remote_addr', { sa_family: 'AF_INET', sin_addr: ip, sin_port: '443' })]);
    } else if (r < 900) {
      add('magic_write', [arg('pathname', r === 880 ? '/tmp/.x/payload' : `/tmp/out-${r}`), arg('bytes', r <= 881 ? ELF : TEXT), arg('dev', 1), arg('inode', 2)]);
    } else if (r < 920) add('mem_prot_alert', [arg('alert', r === 900 ? 4 : 1), arg('addr', 4096), arg('len', 4096)]);
    else if (r < 940) add('security_inode_rename', [arg('old_path', `/tmp/a-${r}`), arg('new_path', r === 920 ? '/etc/sudoers.d/evil' : `/tmp/b-${r}`)]);
    else if (r < 950) add('ptrace', [arg('request', r === 940 ? 0 : r === 941 ? 4 : 16), arg('pid', 77)]);
    else if (r < 960) add('process_vm_writev', [arg('pid', r === 950 ? 4242 : 1000 + (i % 97))]);
    else if (r === 960) add('security_sb_mount', [arg('dev_name', '/dev/sda1'), arg('path', '/mnt'), arg('type', 'ext4')]);
    else if (r === 961) add('socket_dup', [arg('oldfd', 3), arg('newfd', 1), arg('remote_addr', { sa_family: 'AF_INET6', sin6_addr: '2001:db8::1', sin6_port: '4444' })]);
    else add(['read', 'write', 'close'][r % 3], [arg('fd', 4)]);
  }
  return w.finish();
}

/** Events no signature selects. */
function unselectedWorkload(count: number): Uint8Array {
  const w = new BatchWriter(1 << 22);
  for (let i = 0; i < count; i++) w.add(traceeEvent(['read', 'write', 'close', 'futex'][i % 4], [arg('fd', 3)], { processId: 1000 + (i % 50) }));
  return w.finish();
}

// ---- (b) the 31 signatures in plain TypeScript ------------------------------------------------

type Data = Record<string, unknown> | null;
interface TsSignature { id: string; selects: Array<[event: string, origin: '*' | 'container' | 'host']>; match(e: TraceeEvent): Data | undefined }

const get = (e: TraceeEvent, name: string) => e.args.find((a) => a.name === name)?.value;
const str = (e: TraceeEvent, name: string) => { const v = get(e, name); return typeof v === 'string' ? v : ''; };
const flags = (e: TraceeEvent) => get(e, 'flags') as number | undefined;
const isWrite = (f: number | undefined) => f !== undefined && ((f & 3) === 1 || (f & 3) === 2);
const isRead = (f: number | undefined) => f !== undefined && ((f & 3) === 0 || (f & 3) === 2);
const isMemory = (p: string) => p.startsWith('memfd:') || p.startsWith('/run/shm/') || p.startsWith('/dev/shm/');
const isElf = (b: unknown) => b instanceof Uint8Array && b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
const base = (p: string) => { const t = p.replace(/\/+$/, ''); return t === '' ? (p === '' ? '.' : '/') : t.slice(t.lastIndexOf('/') + 1); };
const sock = (e: TraceeEvent) => (get(e, 'remote_addr') ?? {}) as Record<string, string>;
const inetIp = (a: Record<string, string>) => (a.sa_family === 'AF_INET' ? a.sin_addr : a.sa_family === 'AF_INET6' ? a.sin6_addr : undefined);
const inetPort = (a: Record<string, string>) => (a.sa_family === 'AF_INET' ? a.sin_port : a.sin6_port);
const hit = (ok: boolean): Data | undefined => (ok ? null : undefined);
const WEB = new Set(['nginx', 'httpd', 'httpd-foregroun', 'http-nio', 'lighttpd', 'apache', 'apache2']);
const SHELLS = new Set(['ash', 'bash', 'csh', 'ksh', 'sh', 'tcsh', 'zsh', 'dash']);
const LOADER = /^\/(lib|usr\/lib).*\/ld.*\.so[^/]*/;
const PROC_MEM = /\/proc\/(?:\d.+)\/mem$/;
const TOKEN = /secrets\/kubernetes.io\/serviceaccount.+token$/;
const openPath = (e: TraceeEvent, want: (f: number | undefined) => boolean) => (e.eventName === 'security_file_open' && want(flags(e)) ? str(e, 'pathname') : '');
const changed = (e: TraceeEvent) => (e.eventName === 'security_inode_rename' ? str(e, 'new_path') : openPath(e, isWrite));
const isRcd = (p: string) => p === '/etc/rc.local' || p === '/etc/init.d/rc.local' || /^\/etc\/rc[1-6s]\.d/.test(p) || p.startsWith('/etc/init.d') || p.startsWith('/etc/rc.d');
const isCron = (p: string) => ['/etc/crontab', '/etc/anacrontab', '/etc/cron.deny', '/etc/cron.allow'].includes(p)
  || ['/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly', '/etc/cron.d', '/var/spool/cron/crontabs', 'var/spool/anacron'].some((d) => p.startsWith(d));
const isSudoers = (p: string) => p === '/etc/sudoers' || p === '/private/etc/sudoers' || p.startsWith('/etc/sudoers.d/') || p.startsWith('/private/etc/sudoers.d/');
const apiServers = new Map<string, string>();

const TS_SIGNATURES: TsSignature[] = [
  { id: 'TRC-101', selects: [['security_socket_connect', '*'], ['socket_dup', '*']], match: (e) => {
    const fd = get(e, e.eventName === 'socket_dup' ? 'newfd' : 'sockfd');
    if (fd !== 0 && fd !== 1 && fd !== 2) return undefined;
    const a = sock(e);
    const ip = inetIp(a);
    const port = inetPort(a);
    return ip === undefined || !port || port === '0' ? undefined : { 'File descriptor': fd, 'IP address': ip, Port: port };
  } },
  { id: 'TRC-102', selects: [['ptrace', '*']], match: (e) => hit(get(e, 'request') === 0) },
  { id: 'TRC-103', selects: [['ptrace', '*']], match: (e) => hit(get(e, 'request') === 4 || get(e, 'request') === 5) },
  { id: 'TRC-104', selects: [['mem_prot_alert', '*']], match: (e) => hit(get(e, 'alert') === 4) },
  { id: 'TRC-105', selects: [['sched_process_exec', '*']], match: (e) => hit(isMemory(str(e, 'pathname'))) },
  { id: 'TRC-106', selects: [['security_file_open', 'container']], match: (e) => hit(base(openPath(e, isWrite)) === 'notify_on_release') },
  { id: 'TRC-107', selects: [['sched_process_exec', '*'], ['security_file_open', '*'], ['security_inode_rename', '*']], match: (e) => {
    if (e.eventName === 'sched_process_exec') {
      for (const v of (get(e, 'env') as string[] | undefined) ?? []) {
        if (v.startsWith('LD_PRELOAD=')) return { LD_PRELOAD: v };
        if (v.startsWith('LD_LIBRARY_PATH=')) return { LD_LIBRARY_PATH: v };
      }
      return undefined;
    }
    return hit(changed(e).endsWith('/etc/ld.so.preload'));
  } },
  { id: 'TRC-108', selects: [['security_file_open', 'container']], match: (e) => hit(!['flanneld', 'kube-proxy', 'etcd', 'kube-apiserver', 'coredns', 'kube-controller', 'kubectl'].includes(e.processName)
    && TOKEN.test(openPath(e, isRead))) },
  { id: 'TRC-109', selects: [['security_file_open', '*']], match: (e) => hit(openPath(e, isRead) === '/proc/sys/kernel/randomize_va_space') },
  { id: 'TRC-1010', selects: [['security_file_open', 'container'], ['security_inode_rename', 'container']], match: (e) => hit(base(changed(e)) === 'release_agent') },
  { id: 'TRC-1011', selects: [['security_file_open', 'container']], match: (e) => hit(openPath(e, isWrite).endsWith('/proc/sys/kernel/core_pattern')) },
  { id: 'TRC-1012', selects: [['security_file_open', '*'], ['security_inode_rename', '*']], match: (e) => hit(LOADER.test(changed(e))) },
  { id: 'TRC-1013', selects: [['sched_process_exec', 'container'], ['security_socket_connect', 'container'], ['cgroup_rmdir', '*']], match: (e) => {
    if (e.eventName === 'cgroup_rmdir' || !e.containerId) return undefined;
    if (e.eventName === 'sched_process_exec') {
      const v = ((get(e, 'env') as string[] | undefined) ?? []).find((s) => s.includes('KUBERNETES_SERVICE_HOST='));
      const ip = v?.slice(v.indexOf('=') + 1).trim();
      if (ip) apiServers.set(e.containerId, ip);
      return undefined;
    }
    const api = apiServers.get(e.containerId);
    return api !== undefined && inetIp(sock(e)) === api ? { ip: api } : undefined;
  } },
  { id: 'TRC-1014', selects: [['security_sb_mount', 'container']], match: (e) => hit(e.contextFlags.containerStarted && str(e, 'dev_name').startsWith('/dev/')) },
  { id: 'TRC-1015', selects: [['magic_write', '*']], match: (e) => hit(isElf(get(e, 'bytes')) && str(e, 'pathname').includes('/.')) },
  { id: 'TRC-1016', selects: [['sched_process_exec', '*']], match: (e) => hit(WEB.has(str(e, 'prev_comm')) && SHELLS.has(e.processName)) },
  { id: 'TRC-1017', selects: [['module_load', '*']], match: () => null },
  { id: 'TRC-1018', selects: [['security_file_open', '*'], ['security_inode_rename', '*']], match: (e) => {
    if (e.eventName === 'security_inode_rename') return hit(str(e, 'old_path').startsWith('/etc/kubernetes/pki/'));
    return hit(!['kube-apiserver', 'kubelet', 'kube-controller', 'etcd'].includes(e.processName) && openPath(e, isRead).startsWith('/etc/kubernetes/pki/'));
  } },
  { id: 'TRC-1019', selects: [['security_file_open', 'container'], ['security_socket_connect', 'container']], match: (e) => {
    if (e.eventName === 'security_file_open') return hit(openPath(e, isWrite).endsWith('docker.sock'));
    const a = sock(e);
    return hit(a.sa_family === 'AF_UNIX' && (a.sun_path ?? '').endsWith('docker.sock'));
  } },
  { id: 'TRC-1020', selects: [['hooked_proc_fops', 'host']], match: (e) => { const h = get(e, 'hooked_fops_pointers'); return Array.isArray(h) && h.length ? { 'Hooked proc file operations': JSON.stringify(h) } : undefined; } },
  { id: 'TRC-1021', selects: [['security_file_open', 'container']], match: (e) => hit(openPath(e, isRead).endsWith('/proc/kcore')) },
  { id: 'TRC-1022', selects: [['magic_write', 'container']], match: (e) => (isElf(get(e, 'bytes')) && !isMemory(str(e, 'pathname')) ? { path: str(e, 'pathname') } : undefined) },
  { id: 'TRC-1023', selects: [['security_file_open', '*']], match: (e) => hit(PROC_MEM.test(openPath(e, isRead))) },
  { id: 'TRC-1024', selects: [['security_file_open', '*']], match: (e) => hit(PROC_MEM.test(openPath(e, isWrite))) },
  { id: 'TRC-1025', selects: [['process_vm_writev', '*']], match: (e) => { const pid = get(e, 'pid'); return hit(pid !== undefined && pid !== e.processId); } },
  { id: 'TRC-1026', selects: [['security_file_open', '*'], ['security_inode_rename', '*'], ['sched_process_exec', '*']], match: (e) =>
    hit(e.eventName === 'sched_process_exec' ? base(str(e, 'pathname')) === 'update-rc.d' : isRcd(changed(e))) },
  { id: 'TRC-1027', selects: [['security_file_open', '*'], ['security_inode_rename', '*'], ['sched_process_exec', '*']], match: (e) =>
    hit(e.eventName === 'sched_process_exec' ? ['crontab', 'at', 'batch', 'launchd'].includes(base(str(e, 'pathname'))) : isCron(changed(e))) },
  { id: 'TRC-1028', selects: [['security_file_open', '*'], ['security_inode_rename', '*']], match: (e) => hit(isSudoers(changed(e))) },
  { id: 'TRC-1029', selects: [['security_file_open', 'container']], match: (e) => hit(['/proc/sched_debug', '/sys/kernel/debug/sched/debug'].includes(openPath(e, isRead))) },
  { id: 'TRC-1030', selects: [['hooked_syscall', '*']], match: () => null },
  { id: 'TRC-1031', selects: [['security_file_open', 'container']], match: (e) => hit(['/proc/sys/kernel/sysrq', '/proc/sysrq-trigger'].includes(openPath(e, isWrite))) },
];

/** Dispatch by event name (as our engine does), origin check, then the signature. */
function tsEngine(signatures: TsSignature[]) {
  const byEvent = new Map<string, Array<[TsSignature, string]>>();
  for (const s of signatures) for (const [event, origin] of s.selects) byEvent.set(event, [...(byEvent.get(event) ?? []), [s, origin]]);
  return (e: TraceeEvent): number => {
    const list = byEvent.get(e.eventName);
    if (!list) return 0;
    let n = 0;
    const inContainer = e.contextFlags.containerStarted;
    for (const [s, origin] of list) {
      if (origin === 'container' ? !inContainer : origin === 'host' && inContainer) continue;
      if (s.match(e) !== undefined) n++;
    }
    return n;
  };
}

// ---- (c) json-rules-engine on five of them ----------------------------------------------------

const C_IDS = ['TRC-102', 'TRC-105', 'TRC-109', 'TRC-1016', 'TRC-1028'];

function jsonRules(): RulesEngine {
  const engine = new RulesEngine([], { allowUndefinedFacts: true });
  engine.addOperator('startsWithAny', (fact: unknown, prefixes: string[]) => typeof fact === 'string' && prefixes.some((p) => fact.startsWith(p)));
  engine.addOperator('readable', (fact: unknown) => typeof fact === 'number' && isRead(fact));
  engine.addOperator('writable', (fact: unknown) => typeof fact === 'number' && isWrite(fact));
  engine.addOperator('sudoersPath', (fact: unknown) => typeof fact === 'string' && isSudoers(fact));
  const f = (path: string, operator: string, value: unknown) => ({ fact: 'event', path, operator, value });
  const rules: RuleProperties[] = [
    { name: 'TRC-102', event: { type: 'TRC-102' }, conditions: { all: [f('$.eventName', 'equal', 'ptrace'), f('$.args.request', 'equal', 0)] } },
    { name: 'TRC-105', event: { type: 'TRC-105' }, conditions: { all: [f('$.eventName', 'equal', 'sched_process_exec'),
      f('$.args.pathname', 'startsWithAny', ['memfd:', '/run/shm/', '/dev/shm/'])] } },
    { name: 'TRC-109', event: { type: 'TRC-109' }, conditions: { all: [f('$.eventName', 'equal', 'security_file_open'),
      f('$.args.pathname', 'equal', '/proc/sys/kernel/randomize_va_space'), f('$.args.flags', 'readable', true)] } },
    { name: 'TRC-1016', event: { type: 'TRC-1016' }, conditions: { all: [f('$.eventName', 'equal', 'sched_process_exec'),
      f('$.args.prev_comm', 'in', [...WEB]), f('$.processName', 'in', [...SHELLS])] } },
    { name: 'TRC-1028', event: { type: 'TRC-1028' }, conditions: { any: [
      { all: [f('$.eventName', 'equal', 'security_file_open'), f('$.args.flags', 'writable', true), f('$.args.pathname', 'sudoersPath', true)] },
      { all: [f('$.eventName', 'equal', 'security_inode_rename'), f('$.args.new_path', 'sudoersPath', true)] },
    ] } },
  ];
  for (const r of rules) engine.addRule(r);
  return engine;
}

/** The fact json-rules-engine works on: the event with args as an object. */
const fact = (e: TraceeEvent) => ({ eventName: e.eventName, processName: e.processName, args: Object.fromEntries(e.args.map((a) => [a.name, a.value])) });

// ---- measuring ------------------------------------------------------------------------------------


async function rateAsync(run: () => Promise<number>, events: number, minMs = 1500) {
  let findings = await run();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    findings = await run();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const perSec = (n * events) / (elapsed / 1000);
  return { eventsPerSec: perSec, nsPerEvent: 1e9 / perSec, findings };
}

const EIGHT = ['TRC-102', 'TRC-105', 'TRC-107', 'TRC-109', 'TRC-1012', 'TRC-1016', 'TRC-1023', 'TRC-1028'];

export async function benchSignatures(root: string) {
  const EVENTS = 20_000;
  const containers = new ContainerTable();
  const batch = signatureWorkload(EVENTS, containers);
  const files = readdirSync(join(root, 'bundles')).filter((f) => f.endsWith('.wasm')).sort();
  const bytes = await Promise.all(files.map((f) => readFile(join(root, 'bundles', f))));
  const load = async (ids?: readonly string[]) => {
    const all = await Promise.all(files.map((f, i) => Bundle.load(f, bytes[i], () => {}, { containers })));
    return ids ? all.filter((b) => ids.includes(b.metadata.id)) : all;
  };
  const all31 = await load();
  if (all31.length !== 31) throw new Error(`expected the 31 built-in bundles in ${join(root, 'bundles')}, found ${all31.length}`);
  const engine = new Engine(all31, (m) => { throw new Error(m); });
  const a = rate(() => engine.process(batch).length, EVENTS);

  const header = readBatchHeader(batch);
  const ts = tsEngine(TS_SIGNATURES);
  const decodeAndMatch = () => {
    apiServers.clear();
    let found = 0;
    forEachRecord(batch, header, (o) => { found += ts(decodeEvent(batch, o, header, { containers })); });
    return found;
  };
  const b = rate(decodeAndMatch, EVENTS);
  const objects: TraceeEvent[] = [];
  forEachRecord(batch, header, (o) => objects.push(decodeEvent(batch, o, header, { containers })));
  const bLogic = rate(() => { apiServers.clear(); let n = 0; for (const e of objects) n += ts(e); return n; }, EVENTS);
  if (a.findings !== b.findings || a.findings !== bLogic.findings) {
    throw new Error(`implementations disagree: wasm ${a.findings}, TS ${b.findings}/${bLogic.findings} findings per batch`);
  }

  // (c) json-rules-engine and the wasm engine on the same five.
  const rules = jsonRules();
  const SAMPLE = 5000;
  const sampleBatch = signatureWorkload(SAMPLE, containers);
  const sampleHeader = readBatchHeader(sampleBatch);
  const sample: TraceeEvent[] = [];
  forEachRecord(sampleBatch, sampleHeader, (o) => sample.push(decodeEvent(sampleBatch, o, sampleHeader, { containers })));
  const c = await rateAsync(async () => {
    let n = 0;
    for (const e of sample) n += (await rules.run({ event: fact(e) })).events.length;
    return n;
  }, sample.length);
  const five = new Engine(await load(C_IDS), (m) => { throw new Error(m); });
  const aFive = rate(() => five.process(sampleBatch).length, sample.length);
  if (c.findings !== aFive.findings) throw new Error(`json-rules-engine found ${c.findings}, the wasm engine ${aFive.findings} on the same five signatures`);

  // Per-event cost with 1, 8 and 31 loaded.
  const unselected = unselectedWorkload(EVENTS);
  const scaling: Array<Record<string, unknown> & { name: string; ratio: number }> = [];
  for (const [title, input] of [['mixed batch', batch], ['events no signature selects', unselected]] as const) {
    let one = 0;
    for (const ids of [['TRC-102'], EIGHT, undefined]) {
      const e = new Engine(await load(ids), (m) => { throw new Error(m); });
      const r = rate(() => e.process(input).length, EVENTS, 1000);
      if (!one) one = r.nsPerEvent;
      scaling.push({ name: `(a) wasm engine, ${ids?.length ?? 31} loaded, ${title} (ratio: cost vs 1 loaded)`, ...r, ratio: r.nsPerEvent / one });
    }
  }

  return [
    { name: '(b) 31 plain TS signatures, decode flat → JS objects + match (baseline)', ...b, ratio: 1 },
    { name: '(b\') 31 plain TS signatures on pre-decoded JS objects (logic only)', ...bLogic, ratio: bLogic.eventsPerSec / b.eventsPerSec },
    { name: '(a) 31 wasm bundles through the real engine (ratio: a/b)', ...a, ratio: a.eventsPerSec / b.eventsPerSec },
    { name: '(c) json-rules-engine 7.3.1, 5 rules, pre-decoded objects (ratio: c/b)', ...c, ratio: c.eventsPerSec / b.eventsPerSec },
    { name: '(a) 31 wasm bundles vs (c) json-rules-engine on 5 (ratio: a/c)', ...a, ratio: a.eventsPerSec / c.eventsPerSec },
    { name: '(a5) the same 5 as wasm bundles, same events as (c) (ratio: a5/c)', ...aFive, ratio: aFive.eventsPerSec / c.eventsPerSec },
    ...scaling,
  ];
}
