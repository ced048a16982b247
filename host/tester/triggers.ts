/**
 * What `tracee-tester TRC-xxx` does for each signature: the trigger
 * program's actions (trigger.c, escapes.c), by variant, the first being the
 * default.
 *
 * `where` says where the behaviour must happen for the signature to fire:
 * `host` triggers run on this machine; `container` ones (signatures that
 * select events from containers only) run inside a throw-away container
 * (container.ts), a privileged one for the container escapes (TRC-1011,
 * 1014, 1021, 1029, 1031), which need /proc/sys writable, unmasked /proc
 * files or CAP_SYS_ADMIN. Those change no setting: they open kernel
 * settings for writing without writing, only read, and mount only in a
 * private mount namespace (escapes.c). Signatures without a trigger here
 * need kernel events this tester cannot cause safely (a kernel module load,
 * a hooked syscall table) or a Kubernetes pod (TRC-108, 1013).
 */

/** A kernel file a variant opens, which some kernels are built without. */
export interface KernelFile {
  readonly path: string;
  /** The kernel option that provides it (for the error when it is missing). */
  readonly config: string;
  /** The variant to use instead on such a kernel. */
  readonly instead: string;
}

export interface Trigger {
  /** Signature ID. */
  readonly id: string;
  /** The signature's event name. */
  readonly signature: string;
  readonly description: string;
  readonly where: 'host' | 'container';
  /** Run in a privileged container (podman --privileged); only with where: 'container'. */
  readonly privileged?: boolean;
  /** Variant name → trigger program action; the first is the default. */
  readonly variants: Readonly<Record<string, string>>;
  /** Variant name → the kernel file it needs, checked before running. */
  readonly needs?: Readonly<Record<string, KernelFile>>;
}

export const TRIGGERS: readonly Trigger[] = [
  {
    id: 'TRC-101', signature: 'stdio_over_socket', where: 'host',
    description: 'standard input becomes a TCP connection to a local listener (connect on fd 0, or dup2 onto fd 0)',
    variants: { connect: 'stdio-connect', dup: 'stdio-dup' },
  },
  {
    id: 'TRC-102', signature: 'anti_debugging', where: 'host',
    description: 'ptrace(PTRACE_TRACEME)',
    variants: { traceme: 'ptrace-traceme' },
  },
  {
    id: 'TRC-103', signature: 'ptrace_code_injection', where: 'host',
    description: 'attach to an own child and write its memory with PTRACE_POKETEXT (or POKEDATA)',
    variants: { poketext: 'ptrace-poketext', pokedata: 'ptrace-pokedata' },
  },
  {
    id: 'TRC-104', signature: 'dynamic_code_loading', where: 'host',
    description: 'mmap an anonymous W+X page, then mprotect it to R+X',
    variants: { mprotect: 'mprotect-wx-to-x' },
  },
  {
    id: 'TRC-105', signature: 'fileless_execution', where: 'host',
    description: 'copy a program into a memfd and execute it with execveat(AT_EMPTY_PATH)',
    variants: { memfd: 'memfd-exec' },
  },
  {
    id: 'TRC-107', signature: 'ld_preload', where: 'host',
    description: 'run a program with LD_PRELOAD set; or write/rename onto /etc/ld.so.preload in a private mount namespace over an empty /etc',
    variants: { env: 'ld-preload-env', file: 'ld-preload-file', rename: 'ld-preload-rename' },
  },
  {
    id: 'TRC-109', signature: 'aslr_inspection', where: 'host',
    description: 'read /proc/sys/kernel/randomize_va_space',
    variants: { read: 'aslr-read' },
  },
  {
    id: 'TRC-1012', signature: 'default_loader_mod', where: 'host',
    description: 'write (or rename onto) /usr/lib/ld-tracee-tester.so.2 in a private mount namespace over an empty /usr/lib',
    variants: { write: 'loader-write', rename: 'loader-rename' },
  },
  {
    id: 'TRC-1015', signature: 'hidden_file_created', where: 'host',
    description: 'write an ELF header to <temp dir>/.hidden/payload, then remove it',
    variants: { write: 'hidden-elf' },
  },
  {
    id: 'TRC-1016', signature: 'illegitimate_shell', where: 'host',
    description: 'a process named nginx executes /bin/sh',
    variants: { exec: 'web-shell' },
  },
  {
    id: 'TRC-1018', signature: 'k8s_cert_theft', where: 'host',
    description: 'read /etc/kubernetes/pki/ca.key in a private mount namespace over an empty /etc',
    variants: { read: 'k8s-cert-read' },
  },
  {
    id: 'TRC-106', signature: 'cgroup_notify_on_release', where: 'container',
    description: 'inside a container: open a notify_on_release file for writing, then remove it',
    variants: { write: 'notify-on-release-write' },
  },
  {
    id: 'TRC-1010', signature: 'cgroup_release_agent', where: 'container',
    description: 'inside a container: open a release_agent file for writing, then remove it',
    variants: { write: 'release-agent-write' },
  },
  {
    id: 'TRC-1019', signature: 'docker_abuse', where: 'container',
    description: 'inside a container: open a docker.sock file for writing, then remove it',
    variants: { write: 'docker-sock-write' },
  },
  {
    id: 'TRC-1022', signature: 'dropped_executable', where: 'container',
    description: 'inside a container: write an ELF header to /tmp/dropped, then remove it',
    variants: { write: 'drop-elf' },
  },
  {
    id: 'TRC-1011', signature: 'core_pattern_modification', where: 'container', privileged: true,
    description: 'inside a privileged container: open /proc/sys/kernel/core_pattern for writing, close it without writing',
    variants: { open: 'core-pattern-open' },
  },
  {
    id: 'TRC-1014', signature: 'disk_mount', where: 'container', privileged: true,
    description: 'inside a privileged container: mount /dev/tracee-tester-disk read-only in a private mount namespace (no such device: the mount fails after the check)',
    variants: { mount: 'disk-mount' },
  },
  {
    id: 'TRC-1021', signature: 'proc_kcore_read', where: 'container', privileged: true,
    description: 'inside a privileged container: read /proc/kcore; or (standin, for kernels without it) a file of that name on a tmpfs over /proc in a private mount namespace',
    variants: { read: 'kcore-read', standin: 'kcore-read-standin' },
    needs: { read: { path: '/proc/kcore', config: 'CONFIG_PROC_KCORE', instead: 'standin' } },
  },
  {
    id: 'TRC-1029', signature: 'sched_debug_recon', where: 'container', privileged: true,
    description: 'inside a privileged container: read /sys/kernel/debug/sched/debug (mounting debugfs in a private mount namespace) or /proc/sched_debug',
    variants: { read: 'sched-debug-read' },
  },
  {
    id: 'TRC-1031', signature: 'system_request_key_mod', where: 'container', privileged: true,
    description: 'inside a privileged container: open /proc/sysrq-trigger for writing, close it without writing; or (standin, for kernels without it) a file of that name on a tmpfs over /proc in a private mount namespace',
    variants: { open: 'sysrq-open', standin: 'sysrq-open-standin' },
    needs: { open: { path: '/proc/sysrq-trigger', config: 'CONFIG_MAGIC_SYSRQ', instead: 'standin' } },
  },
  {
    id: 'TRC-1023', signature: 'proc_mem_access', where: 'host',
    description: 'read an own child\'s memory through /proc/<pid>/mem',
    variants: { read: 'proc-mem-read' },
  },
  {
    id: 'TRC-1024', signature: 'proc_mem_code_injection', where: 'host',
    description: 'write an own child\'s memory through /proc/<pid>/mem (O_WRONLY)',
    variants: { write: 'proc-mem-write' },
  },
  {
    id: 'TRC-1025', signature: 'process_vm_write_inject', where: 'host',
    description: 'process_vm_writev() into an own child',
    variants: { writev: 'vm-write' },
  },
  {
    id: 'TRC-1026', signature: 'rcd_modification', where: 'host',
    description: 'write /etc/rc.local, or rename into /etc/init.d/, in a private mount namespace over an empty /etc; or run a program named update-rc.d',
    variants: { write: 'rc-local-write', rename: 'rcd-rename', exec: 'update-rc.d' },
  },
  {
    id: 'TRC-1027', signature: 'scheduled_task_mod', where: 'host',
    description: 'write /etc/crontab, or rename into /etc/cron.d/, in a private mount namespace over an empty /etc; or run a program named crontab',
    variants: { write: 'crontab-write', rename: 'cron-d-rename', exec: 'crontab-exec' },
  },
  {
    id: 'TRC-1028', signature: 'sudoers_modification', where: 'host',
    description: 'write /etc/sudoers, or rename into /etc/sudoers.d/, in a private mount namespace over an empty /etc',
    variants: { write: 'sudoers-write', rename: 'sudoers-d-rename' },
  },
];

export function triggerFor(id: string): Trigger | undefined {
  const key = id.toUpperCase();
  return TRIGGERS.find((t) => t.id === key || t.signature === id);
}
