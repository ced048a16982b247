// SPDX-License-Identifier: GPL-2.0
/* Process life-cycle events from the scheduler tracepoints, as BTF-typed
 * tracepoints (tp_btf, Linux 5.5+): exec, fork and exit. Fork and exec also
 * keep the scope caches of common/scope.h current (followed policies, the
 * executable), so they are attached whenever a scope needs them.
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
#include "common/scope.h"
#include <bpf/bpf_tracing.h>

#define TR_AT_NULL 0
#define TR_AT_BASE 7 /* the ELF interpreter's load address (include/uapi/linux/auxvec.h) */

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

static __always_inline struct tr_scope_cfg *tr_scope_config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tr_scope_cfg, &zero);
}

SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(tr_sched_prepare_exec, struct task_struct *task, struct linux_binprm *bprm)
{
	if (!tr_event_policies(TR_EV_SCHED_PROCESS_EXEC) || tr_ignored_current())
		return 0;
	struct tr_exec_before b = { .syscall = tr_current_syscall(task) };
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_get_current_comm(b.comm, sizeof(b.comm));
	bpf_map_update_elem(&tr_exec_before, &tid, &b, BPF_ANY);
	return 0;
}

struct tr_vma_file {
	__u64 file;
};

static long tr_vma_file_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	/* read, not loaded: a plain number, not a typed pointer (see tr_scalar) */
	bpf_probe_read_kernel(&((struct tr_vma_file *)data)->file, sizeof(__u64), &vma->vm_file);
	return 0;
}

/* The file mapped at the ELF interpreter's base (auxv AT_BASE), or NULL for
 * a static binary. */
static __always_inline struct file *tr_exec_interpreter(struct mm_struct *mm)
{
	__u64 base = 0;
	for (int i = 0; i < 24; i++) {
		__u64 pair[2];
		if (bpf_probe_read_kernel(pair, sizeof(pair), __builtin_preserve_access_index(&mm->saved_auxv[2 * i])))
			return NULL;
		if (pair[0] == TR_AT_NULL)
			break;
		if (pair[0] == TR_AT_BASE) {
			base = pair[1];
			break;
		}
	}
	if (!base)
		return NULL;
	struct tr_vma_file found = {};
	bpf_find_vma(bpf_get_current_task_btf(), base, tr_vma_file_cb, &found, 0);
	return (struct file *)found.file;
}

__noinline long tr_emit_exec(__u32 old_pid, __u64 bprm_ptr, __u64 policies)
{
	struct linux_binprm *bprm = (struct linux_binprm *)bprm_ptr;
	struct task_struct *task = bpf_get_current_task_btf();
	struct tr_rec r;
	if (!bprm || !tr_rec_begin(&r, TR_EV_SCHED_PROCESS_EXEC, TR_EV_SCHED_PROCESS_EXEC_ARGS, policies))
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

	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct file *interp = tr_exec_interpreter(mm);
	if (interp) {
		struct inode *ii = BPF_CORE_READ(interp, f_inode);
		tr_put_path(&r, TR_ARG_SCHED_PROCESS_EXEC_INTERPRETER_PATHNAME, __builtin_preserve_access_index(&interp->f_path));
		tr_put_u32(&r, TR_ARG_SCHED_PROCESS_EXEC_INTERPRETER_DEV, BPF_CORE_READ(ii, i_sb, s_dev));
		tr_put_u64(&r, TR_ARG_SCHED_PROCESS_EXEC_INTERPRETER_INODE, BPF_CORE_READ(ii, i_ino));
		tr_put_u64(&r, TR_ARG_SCHED_PROCESS_EXEC_INTERPRETER_CTIME, tr_inode_ctime_ns(ii));
	}

	/* The new image's arguments, already copied to its stack by exec. */
	tr_put_user_strings_region(&r, TR_ARG_SCHED_PROCESS_EXEC_ARGV,
				   BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end));
	tr_put_kernel_str(&r, TR_ARG_SCHED_PROCESS_EXEC_INTERP, BPF_CORE_READ(bprm, interp));

	struct file *in = tr_fd_file(0);
	if (in) {
		tr_put_u16(&r, TR_ARG_SCHED_PROCESS_EXEC_STDIN_TYPE, BPF_CORE_READ(in, f_inode, i_mode) & TR_S_IFMT);
		tr_put_path(&r, TR_ARG_SCHED_PROCESS_EXEC_STDIN_PATH, __builtin_preserve_access_index(&in->f_path));
	}
	tr_put_bool(&r, TR_ARG_SCHED_PROCESS_EXEC_INVOKED_FROM_KERNEL,
		    BPF_CORE_READ(task, real_parent, flags) & TR_PF_KTHREAD);

	__u32 key = old_pid;
	struct tr_exec_before *before = bpf_map_lookup_elem(&tr_exec_before, &key);
	if (before) {
		tr_ctx(&r)->syscall = before->syscall;
		tr_put_kernel_str(&r, TR_ARG_SCHED_PROCESS_EXEC_PREV_COMM, before->comm);
		bpf_map_delete_elem(&tr_exec_before, &key);
	}
	if (tr_cfg.exec_env)
		tr_put_user_strings_region_n(&r, TR_ARG_SCHED_PROCESS_EXEC_ENV, BPF_CORE_READ(mm, env_start),
					     BPF_CORE_READ(mm, env_end), TR_MAX_ENV);
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	tr_put_path(&r, TR_ARG_SCHED_PROCESS_EXEC_PWD, __builtin_preserve_access_index(&fs->pwd));
	tr_rec_submit(&r);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tr_sched_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	if (tr_ignored_current())
		return 0;
	/* The executable filter: the task's new executable. */
	struct tr_scope_cfg *cfg = tr_scope_config();
	if (cfg && (cfg->fields & (1u << TR_F_EXE))) {
		struct tr_task *t = tr_task_cur(true);
		struct file *file = BPF_CORE_READ(bprm, file);
		long start = tr_path_resolve((__u64)__builtin_preserve_access_index(&file->f_path));
		if (t) {
			t->exe_hash = start >= 0 ? tr_path_hash(start) : 0;
			t->flags |= TR_T_EXE_KNOWN;
		}
	}
	__u64 m = tr_scope_match(tr_event_policies(TR_EV_SCHED_PROCESS_EXEC));
	if (m)
		tr_emit_exec(old_pid, tr_scalar(bprm), m);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tr_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	if (tr_ignored_current())
		return 0;
	/* Scope caches: the child runs the parent's executable and follows
	 * what the parent matches. */
	struct tr_scope_cfg *cfg = tr_scope_config();
	if (cfg && (cfg->fields & ((1u << TR_F_TREE) | (1u << TR_F_EXE) | TR_F_BIT_FOLLOW))) {
		__u32 gen = cfg->gen;
		__u64 followed = (cfg->fields & TR_F_BIT_FOLLOW) ? tr_scope_match(cfg->follow) : 0;
		struct tr_task *pt = tr_task_cur(false);
		struct tr_task *ct = bpf_task_storage_get(&tr_task_map, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (ct) {
			ct->followed = followed;
			ct->fgen = gen;
			ct->gen = 0; /* tree caches: recomputed at its first event */
			if (pt) {
				ct->exe_hash = pt->exe_hash;
				ct->flags = pt->flags & TR_T_EXE_KNOWN;
			}
		} else {
			tr_count(TR_C_NO_STORAGE);
		}
	}

	__u64 m = tr_scope_match(tr_event_policies(TR_EV_SCHED_PROCESS_FORK));
	if (!m)
		return 0;
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_SCHED_PROCESS_FORK, TR_EV_SCHED_PROCESS_FORK_ARGS, m))
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
	if (tr_ignored_current())
		return;
	__u64 m = tr_scope_match(tr_event_policies(TR_EV_SCHED_PROCESS_EXIT));
	struct tr_rec r;
	if (!m || !tr_rec_begin(&r, TR_EV_SCHED_PROCESS_EXIT, TR_EV_SCHED_PROCESS_EXIT_ARGS, m))
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
