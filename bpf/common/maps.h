/* Maps and load-time config shared by every program of tracee.bpf.o.
 *
 * Each concern is compiled to its own object and `bpftool gen object` links
 * them into one (see Makefile). Shared state is declared `extern` here and
 * defined exactly once, in maps.bpf.c (which defines TR_DEFINE_SHARED before
 * including this header), so the static linker resolves every reference to
 * the same ring buffer, scratch buffers, policy maps and config. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../gen/events.h"
#include "../gen/syscall_args.h"
#include "config.h"

#ifdef TR_DEFINE_SHARED
#define TR_SHARED
#else
#define TR_SHARED extern
#endif

/* Path scratch: components are written backwards from the middle; the upper
 * half is slack so a masked offset plus a bounded length never overruns. */
#define TR_PATH_BUF_SIZE 8192

struct tr_path_buf { __u8 data[TR_PATH_BUF_SIZE]; };

/* Records go to user space through this ring buffer; the loader resizes it
 * (bpf_map__set_max_entries) before load. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} tr_events SEC(".maps");

/* Records that did not fit in the ring buffer, per CPU and event id. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TR_MAX_EVENT_ID);
	__type(key, __u32);
	__type(value, __u64);
} tr_lost SEC(".maps");

/* Other losses and cuts, per CPU, by enum tr_counter. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TR_C_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tr_counters SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_stage);
} tr_stage SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_path_buf);
} tr_path_scratch SEC(".maps");

/* The context parts (common/context.h) that change only with the task or
 * its parent, for the last task a record was made for on this CPU: in
 * syscall-heavy work the next record is nearly always the same task's. */
struct tr_ctx_cache {
	__u64 task;                   /* task_struct pointer; 0 = empty */
	__u64 start;                  /* its start_boottime (a reused task_struct, or a non-leader exec, changes it) */
	__u64 parent;                 /* its real_parent (reparenting changes it) */
	__u32 host_thread_id;         /* its pid (a non-leader exec changes it) */
	__u32 thread_id, process_id, parent_process_id, pid_namespace, host_parent_process_id;
	__u32 thread_entity_id, process_entity_id, parent_entity_id;
};

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_ctx_cache);
} tr_ctx_cache SEC(".maps");

/* Event id -> bitmap of the policies that want the event. 0: not emitted. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TR_MAX_EVENT_ID);
	__type(key, __u32);
	__type(value, __u64);
} tr_event_pol SEC(".maps");

/* Syscall id -> policies that want something at the syscall's exit: the
 * syscall event, or an event derived from it (the addon ORs them,
 * native/programs.cc). 0: sys_exit returns at once. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TR_SC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tr_sys_pol SEC(".maps");

/* Scope filters (config.h): the config and its value maps. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_scope_cfg);
} tr_scope_cfg SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tr_scope_key_u64);
	__type(value, struct tr_scope_val);
} tr_scope_u64 SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tr_scope_key_str);
	__type(value, struct tr_scope_val);
} tr_scope_str SEC(".maps");

/* Per-thread state, in task storage (Linux 5.11+): data a syscall's exit
 * needs from its enter or from tracepoints that fire inside it, and the
 * scope facts cached for the task. */
#define TR_T_EXE_KNOWN 1 /* exe_hash is set */
struct tr_task {
	__u32 aux_id;     /* syscall aux[] belongs to (0 = none; ids are stored + 1) */
	__u32 pad0;
	__u64 aux[4];     /* mprotect: previous protection, vma file; unlink: inode, dev, ctime */
	__u32 gen;        /* tr_scope_cfg.gen tree_eq/tree_ne were computed for */
	__u32 fgen;       /* tr_scope_cfg.gen `followed` was set for */
	__u32 flags;      /* TR_T_* */
	__u32 pad;
	__u64 exe_hash;   /* FNV-1a 64 of the executable's path */
	__u64 tree_eq;    /* OR of the tree "=" bitmaps of the task's process and ancestors */
	__u64 tree_ne;    /* ... of the "!=" bitmaps */
	__u64 followed;   /* policies the process follows from a matched ancestor */
};

/* The syscall being recorded on this CPU: filled from the task's registers
 * (which keep the arguments until the syscall returns) by sys_enter or
 * sys_exit right before the emitters run; never held across a sleep. */
struct tr_sc {
	__u32 id;
	__u32 pad;
	__u64 args[6];
	__u64 aux[4];     /* copied from struct tr_task when the syscall has aux data */
};

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_sc);
} tr_sc_cur SEC(".maps");

/* Syscall id -> policies that want something at the syscall's enter: the
 * syscall event of a syscall that does not return, security_socket_connect,
 * security_sb_mount, mem_prot_alert (mprotect's previous protection). The
 * addon computes it (native/programs.cc); 0: sys_enter returns at once. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TR_SC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tr_enter_pol SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tr_task);
} tr_task_map SEC(".maps");

/* Filled by the loader between open and load (native/ finds it by name in
 * the .rodata BTF datasec). */
#ifdef TR_DEFINE_SHARED
const volatile struct tr_config tr_cfg = {};
#else
extern const volatile struct tr_config tr_cfg;
#endif

/* A kernel pointer as a plain number, for the arguments of global
 * functions (which take scalars, not the verifier's typed BTF pointers). */
static __always_inline __u64 tr_scalar(const void *p)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/* Policies that want event `id` (0 when none). */
static __always_inline __u64 tr_event_policies(__u32 id)
{
	__u64 *p = bpf_map_lookup_elem(&tr_event_pol, &id);
	return p ? *p : 0;
}

static __always_inline void tr_count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&tr_counters, &which);
	if (c)
		(*c)++;
}

/* Tracee must never trace itself: its own reads and writes would feed back.
 * With the task pointer at hand (BTF): a plain load instead of a helper call. */
static __always_inline bool tr_ignored(struct task_struct *task)
{
	return tr_cfg.ignore_tgid && task->tgid == tr_cfg.ignore_tgid;
}

static __always_inline bool tr_ignored_current(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return tr_cfg.ignore_tgid && tgid == tr_cfg.ignore_tgid;
}

static __always_inline struct tr_sc *tr_sc_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tr_sc_cur, &zero);
}

/* The current thread's state; created on demand when `create`. */
static __always_inline struct tr_task *tr_task_cur(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return bpf_task_storage_get(&tr_task_map, task, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}
