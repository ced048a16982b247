/* Fills struct tr_context (bpf/gen/events.h) for the current task.
 *
 * Ids come in two views, as in Tracee: "host" ids as the initial pid
 * namespace sees them (task->pid/tgid), and ids as the task's own pid
 * namespace sees them (task->thread_pid->numbers[level]).
 *
 * The task is read through its BTF pointer (bpf_get_current_task_btf, Linux
 * 5.11+): field loads are plain (fault-safe) loads instead of one
 * bpf_probe_read_kernel call each, which matters at a record per syscall. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "../gen/events.h"
#include "maps.h"

#define TR_PF_KTHREAD 0x00200000 /* include/linux/sched.h */
#define TR_TS_COMPAT 0x0002      /* arch/x86/include/asm/thread_info.h */

/* Entity ids: FNV-1a (32-bit) over the id (u32 LE) then the start time
 * (u64 LE, boot-time ns). Host code that needs the same ids must hash the
 * same 12 bytes. A start time makes ids unique across pid reuse. */
static __always_inline __u32 tr_entity_id(__u64 start_time, __u32 id)
{
	__u32 h = 2166136261u;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		h ^= (id >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
#pragma unroll
	for (int i = 0; i < 8; i++) {
		h ^= (start_time >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
	return h;
}

/* The pid number of `pid` as seen from its own (deepest) pid namespace. */
static __always_inline __u32 tr_pid_vnr(struct pid *pid)
{
	unsigned int level = BPF_CORE_READ(pid, level);
	return BPF_CORE_READ(pid, numbers[level].nr);
}

/* The pid number of `pid` as seen from namespace `ns` at depth `level`, or 0
 * when `pid` is not visible there (like getppid() in a container's init). */
static __always_inline __u32 tr_pid_nr_in(struct pid *pid, struct pid_namespace *ns,
					  unsigned int level)
{
	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	if (BPF_CORE_READ(pid, numbers[level].ns) != ns)
		return 0;
	return BPF_CORE_READ(pid, numbers[level].nr);
}

/* Namespace-view tid of any task (used for fork's child args). */
static __always_inline __u32 tr_task_ns_tid(struct task_struct *t)
{
	return tr_pid_vnr(BPF_CORE_READ(t, thread_pid));
}

/* Namespace-view tgid of any task: its leader's number in its own namespace. */
static __always_inline __u32 tr_task_ns_tgid(struct task_struct *t)
{
	return tr_pid_vnr(BPF_CORE_READ(t, group_leader, thread_pid));
}

/* The syscall the current task is in, from its saved user registers; -1 for
 * kernel threads (which have no user registers). Tracee reports it on
 * tracepoint events too (e.g. sched_process_exec happens in execve). */
static __always_inline __s32 tr_current_syscall(struct task_struct *task)
{
	if (BPF_CORE_READ(task, flags) & TR_PF_KTHREAD)
		return -1;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return (__s32)BPF_CORE_READ(regs, orig_ax);
}

/* The context fields tr_ctx_cache keeps (the same names in both structs), copied in and out by one list. */
#define TR_CACHED_IDS(X) X(thread_id) X(process_id) X(parent_process_id) X(pid_namespace) \
	X(host_parent_process_id) X(thread_entity_id) X(process_entity_id) X(parent_entity_id)

/* The ids that change only with the task or its parent (see struct
 * tr_ctx_cache): from this CPU's cache when it holds the same task, same
 * pid, start time and parent; else computed and cached. Saves the three
 * entity-id hashes and the pid namespace walks, ~20 ns a record. */
static __always_inline void tr_fill_task_ids(struct tr_context *c, struct task_struct *task)
{
	__u32 zero = 0;
	struct tr_ctx_cache *k = bpf_map_lookup_elem(&tr_ctx_cache, &zero);
	struct task_struct *parent = task->real_parent;
	__u64 start = task->start_boottime;
	__u32 tid = task->pid;

	if (k && k->task == (__u64)task && k->start == start && k->parent == (__u64)parent && k->host_thread_id == tid) {
#define TR_FROM_CACHE(f) c->f = k->f;
		TR_CACHED_IDS(TR_FROM_CACHE)
#undef TR_FROM_CACHE
		return;
	}
	struct task_struct *leader = task->group_leader;
	struct task_struct *pleader = parent->group_leader;
	struct pid *tpid = task->thread_pid;
	unsigned int level = tpid->level;

	c->host_parent_process_id = parent->tgid;
	if (level == 0) {
		/* The initial pid namespace: both views agree (most tasks). */
		c->thread_id = tid;
		c->process_id = c->host_process_id;
		c->parent_process_id = c->host_parent_process_id;
		c->pid_namespace = tpid->numbers[0].ns->ns.inum;
	} else {
		struct pid_namespace *pidns = BPF_CORE_READ(tpid, numbers[level].ns);
		c->thread_id = BPF_CORE_READ(tpid, numbers[level].nr);
		c->process_id = tr_pid_nr_in(leader->thread_pid, pidns, level);
		c->parent_process_id = tr_pid_nr_in(pleader->thread_pid, pidns, level);
		c->pid_namespace = BPF_CORE_READ(pidns, ns.inum);
	}
	c->thread_entity_id = tr_entity_id(start, tid);
	c->process_entity_id = tr_entity_id(leader->start_boottime, c->host_process_id);
	c->parent_entity_id = tr_entity_id(pleader->start_boottime, c->host_parent_process_id);
	if (!k)
		return;
	k->task = 0; /* invalid while it is rewritten */
	k->start = start;
	k->parent = (__u64)parent;
	k->host_thread_id = tid;
#define TR_TO_CACHE(f) k->f = c->f;
	TR_CACHED_IDS(TR_TO_CACHE)
#undef TR_TO_CACHE
	k->task = (__u64)task;
}

static __always_inline void tr_fill_context(struct tr_context *c, __u32 event_id)
{
	struct task_struct *task = bpf_get_current_task_btf();

	c->size = 0; /* set when the record is submitted */
	c->event_id = event_id;
	c->timestamp = bpf_ktime_get_boot_ns();
	c->thread_start_time = task->start_boottime;
	c->cgroup_id = task->cgroups->dfl_cgrp->kn->id; /* bpf_get_current_cgroup_id() without a helper call */
	c->return_value = 0;
	c->matched_policies = 0;
	c->processor_id = bpf_get_smp_processor_id();

	c->host_thread_id = task->pid;
	c->host_process_id = task->tgid;
	tr_fill_task_ids(c, task);

	c->user_id = task->cred->uid.val; /* real uid (of the subjective creds, as bpf_get_current_uid_gid), init user ns */
	c->mount_namespace = task->nsproxy->mnt_ns->ns.inum;
	c->syscall = -1;
	c->flags = (task->thread_info.status & TR_TS_COMPAT) ? TR_FLAG_IS_COMPAT : 0;
	c->container_ref = 0; /* set by the host's enrichment stage */

	/* comm and the first 16 bytes of the UTS nodename (as Tracee keeps),
	 * as two plain 8-byte loads each */
	const __u64 *comm = (const __u64 *)task->comm;
	const __u64 *node = (const __u64 *)task->nsproxy->uts_ns->name.nodename;
	__u64 *dst = (__u64 *)c->process_name;
	dst[0] = comm[0];
	dst[1] = comm[1];
	dst = (__u64 *)c->host_name;
	dst[0] = node[0];
	dst[1] = node[1];
	c->args_num = 0;
	c->reserved0 = 0;
	c->reserved1 = 0;
}
