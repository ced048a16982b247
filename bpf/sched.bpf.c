// SPDX-License-Identifier: GPL-2.0
/* Process life-cycle events from the scheduler tracepoints, as BTF-typed
 * tracepoints (tp_btf, Linux 5.5+): exec, fork and exit.
 *
 * Named variants cover kernel differences, the loader picks one by
 * looking at the kernel's BTF (native/programs.cc):
 *   tr_sched_exit          sched_process_exit(task, group_dead) (newer kernels, e.g. 6.18)
 *   tr_sched_exit_legacy   sched_process_exit(task) (older): group_dead from signal->live
 *   tr_sched_prepare_exec  sched_prepare_exec (Linux 6.10+), only to keep the
 *                          comm and syscall from before exec for
 *                          sched_process_exec; without it prev_comm is absent
 *                          and execveat shows as execve. */
#include "common/path.h"
#include <bpf/bpf_tracing.h>

/* Old thread id -> what sched_process_exec can no longer see, kept between
 * sched_prepare_exec and sched_process_exec of the same exec (the exec'ing
 * thread may change tid): the comm before exec, and the syscall number,
 * since start_thread() has reset the user registers by the time
 * sched_process_exec fires (orig_ax then reads execve even for execveat). */
struct tr_exec_before {
	char comm[16];
	__s32 syscall;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct tr_exec_before);
} tr_exec_before SEC(".maps");

/* Older inode layouts, for CO-RE: the ctime moved twice. */
struct inode___pre611 { struct timespec64 __i_ctime; } __attribute__((preserve_access_index));
struct inode___pre66 { struct timespec64 i_ctime; } __attribute__((preserve_access_index));

static __always_inline __u64 tr_inode_ctime_ns(struct inode *inode)
{
	if (bpf_core_field_exists(inode->i_ctime_sec))
		return BPF_CORE_READ(inode, i_ctime_sec) * 1000000000ull + BPF_CORE_READ(inode, i_ctime_nsec);
	if (bpf_core_field_exists(((struct inode___pre611 *)inode)->__i_ctime)) {
		struct inode___pre611 *i = (void *)inode;
		return BPF_CORE_READ(i, __i_ctime.tv_sec) * 1000000000ull + BPF_CORE_READ(i, __i_ctime.tv_nsec);
	}
	struct inode___pre66 *i = (void *)inode;
	return BPF_CORE_READ(i, i_ctime.tv_sec) * 1000000000ull + BPF_CORE_READ(i, i_ctime.tv_nsec);
}

SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(tr_sched_prepare_exec, struct task_struct *task, struct linux_binprm *bprm)
{
	if (!tr_event_enabled(TR_EV_SCHED_PROCESS_EXEC) || tr_ignored_current())
		return 0;
	struct tr_exec_before b = { .syscall = tr_current_syscall(task) };
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_get_current_comm(b.comm, sizeof(b.comm));
	bpf_map_update_elem(&tr_exec_before, &tid, &b, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tr_sched_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!tr_event_enabled(TR_EV_SCHED_PROCESS_EXEC) || tr_ignored_current())
		return 0;
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_SCHED_PROCESS_EXEC, TR_EV_SCHED_PROCESS_EXEC_ARGS))
		return 0;
	tr_ctx(&r)->syscall = tr_current_syscall(task);

	struct file *file = BPF_CORE_READ(bprm, file);
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	tr_put_kernel_str(&r, TR_ARG_SCHED_PROCESS_EXEC_CMDPATH, BPF_CORE_READ(bprm, filename));
	tr_put_path(&r, TR_ARG_SCHED_PROCESS_EXEC_PATHNAME, __builtin_preserve_access_index(&file->f_path));
	tr_put_u32(&r, TR_ARG_SCHED_PROCESS_EXEC_DEV, BPF_CORE_READ(inode, i_sb, s_dev));
	tr_put_u64(&r, TR_ARG_SCHED_PROCESS_EXEC_INODE, BPF_CORE_READ(inode, i_ino));
	tr_put_u64(&r, TR_ARG_SCHED_PROCESS_EXEC_CTIME, tr_inode_ctime_ns(inode));
	tr_put_u16(&r, TR_ARG_SCHED_PROCESS_EXEC_INODE_MODE, BPF_CORE_READ(inode, i_mode));

	/* The new image's arguments, already copied to its stack by exec. */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	tr_put_user_strings_region(&r, TR_ARG_SCHED_PROCESS_EXEC_ARGV,
				   BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end));

	__u32 key = old_pid;
	struct tr_exec_before *before = bpf_map_lookup_elem(&tr_exec_before, &key);
	if (before) {
		tr_ctx(&r)->syscall = before->syscall;
		tr_put_kernel_str(&r, TR_ARG_SCHED_PROCESS_EXEC_PREV_COMM, before->comm);
		bpf_map_delete_elem(&tr_exec_before, &key);
	}
	tr_rec_submit(&r);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tr_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!tr_event_enabled(TR_EV_SCHED_PROCESS_FORK) || tr_ignored_current())
		return 0;
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_SCHED_PROCESS_FORK, TR_EV_SCHED_PROCESS_FORK_ARGS))
		return 0;
	tr_ctx(&r)->syscall = tr_current_syscall(parent);
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_PARENT_TID, BPF_CORE_READ(parent, pid));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_PARENT_NS_TID, tr_task_ns_tid(parent));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_PARENT_PID, BPF_CORE_READ(parent, tgid));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_PARENT_NS_PID, tr_task_ns_tgid(parent));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_CHILD_TID, BPF_CORE_READ(child, pid));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_CHILD_NS_TID, tr_task_ns_tid(child));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_CHILD_PID, BPF_CORE_READ(child, tgid));
	tr_put_s32(&r, TR_ARG_SCHED_PROCESS_FORK_CHILD_NS_PID, tr_task_ns_tgid(child));
	tr_put_u64(&r, TR_ARG_SCHED_PROCESS_FORK_START_TIME, BPF_CORE_READ(child, start_boottime));
	tr_rec_submit(&r);
	return 0;
}

/* Fires for every exiting thread. exit_code keeps the exit status byte
 * (exit(3) -> 3), like Tracee; a killing signal lives in the low bits that
 * this shift drops. */
static __always_inline void tr_emit_exit(struct task_struct *task, bool group_dead)
{
	if (!tr_event_enabled(TR_EV_SCHED_PROCESS_EXIT) || tr_ignored_current())
		return;
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_SCHED_PROCESS_EXIT, TR_EV_SCHED_PROCESS_EXIT_ARGS))
		return;
	tr_ctx(&r)->syscall = tr_current_syscall(task);
	tr_put_s64(&r, TR_ARG_SCHED_PROCESS_EXIT_EXIT_CODE, BPF_CORE_READ(task, exit_code) >> 8);
	tr_put_bool(&r, TR_ARG_SCHED_PROCESS_EXIT_PROCESS_GROUP_EXIT, group_dead);
	tr_rec_submit(&r);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tr_sched_exit, struct task_struct *task, bool group_dead)
{
	tr_emit_exit(task, group_dead);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tr_sched_exit_legacy, struct task_struct *task)
{
	/* Without the argument, the tracepoint fires after do_exit() dropped signal->live. */
	tr_emit_exit(task, BPF_CORE_READ(task, signal, live.counter) == 0);
	return 0;
}
