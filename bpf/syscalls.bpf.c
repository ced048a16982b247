// SPDX-License-Identifier: GPL-2.0
/* Syscall events from the raw sys_enter/sys_exit tracepoints (x86_64 ids).
 *
 * Most syscalls are emitted at exit, with their return value: sys_enter
 * saves the six raw arguments per thread and sys_exit builds the record.
 * execve/execveat are emitted at enter because they do not return on
 * success (the old image is gone), as in Tracee.
 *
 * Both programs run for every syscall on the machine, so each starts with the
 * enabled-bitmap test. 32-bit (compat) syscalls use other numbers and are not
 * traced. Requires Linux 5.8 (ring buffer), raw tracepoints. */
#include "common/record.h"
#include <bpf/bpf_tracing.h>

struct tr_saved_args {
	__u64 id;
	__u64 args[6];
};

/* tid -> arguments of the syscall in progress. LRU so that threads that die
 * inside a syscall do not leak entries. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct tr_saved_args);
} tr_syscall_args SEC(".maps");

static __always_inline bool tr_in_compat_syscall(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, thread_info.status) & TR_TS_COMPAT;
}

/* x86_64 syscall arguments live in di, si, dx, r10, r8, r9. */
static __always_inline void tr_read_args(struct pt_regs *regs, __u64 a[6])
{
	a[0] = BPF_CORE_READ(regs, di);
	a[1] = BPF_CORE_READ(regs, si);
	a[2] = BPF_CORE_READ(regs, dx);
	a[3] = BPF_CORE_READ(regs, r10);
	a[4] = BPF_CORE_READ(regs, r8);
	a[5] = BPF_CORE_READ(regs, r9);
}

static __always_inline void tr_emit_execve(__u64 a[6])
{
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_EXECVE, TR_EV_EXECVE_ARGS))
		return;
	tr_ctx(&r)->syscall = TR_EV_EXECVE;
	tr_put_user_str(&r, TR_ARG_EXECVE_PATHNAME, a[0]);
	tr_put_user_argv(&r, TR_ARG_EXECVE_ARGV, (const char *const *)a[1]);
	/* envp stays absent: Tracee only records it on request. */
	tr_rec_submit(&r);
}

static __always_inline void tr_emit_execveat(__u64 a[6])
{
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_EXECVEAT, TR_EV_EXECVEAT_ARGS))
		return;
	tr_ctx(&r)->syscall = TR_EV_EXECVEAT;
	tr_put_s32(&r, TR_ARG_EXECVEAT_DIRFD, a[0]);
	tr_put_user_str(&r, TR_ARG_EXECVEAT_PATHNAME, a[1]);
	tr_put_user_argv(&r, TR_ARG_EXECVEAT_ARGV, (const char *const *)a[2]);
	tr_put_s32(&r, TR_ARG_EXECVEAT_FLAGS, a[4]);
	tr_rec_submit(&r);
}

SEC("raw_tracepoint/sys_enter")
int tr_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = ctx->args[1];

	if (id < 0 || !tr_event_enabled(id) || tr_ignored_current() || tr_in_compat_syscall())
		return 0;

	struct tr_saved_args saved = { .id = id };
	tr_read_args((struct pt_regs *)ctx->args[0], saved.args);

	if (id == TR_EV_EXECVE) {
		tr_emit_execve(saved.args);
		return 0;
	}
	if (id == TR_EV_EXECVEAT) {
		tr_emit_execveat(saved.args);
		return 0;
	}
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&tr_syscall_args, &tid, &saved, BPF_ANY);
	return 0;
}

static __always_inline void tr_emit_exit(struct tr_saved_args *s, long ret)
{
	struct tr_rec r;
	__u32 id = s->id;

	switch (id) {
	case TR_EV_PTRACE:
		if (!tr_rec_begin(&r, id, TR_EV_PTRACE_ARGS))
			return;
		tr_put_s64(&r, TR_ARG_PTRACE_REQUEST, s->args[0]);
		tr_put_s32(&r, TR_ARG_PTRACE_PID, s->args[1]);
		tr_put_u64(&r, TR_ARG_PTRACE_ADDR, s->args[2]);
		tr_put_u64(&r, TR_ARG_PTRACE_DATA, s->args[3]);
		break;
	case TR_EV_MEMFD_CREATE:
		if (!tr_rec_begin(&r, id, TR_EV_MEMFD_CREATE_ARGS))
			return;
		tr_put_user_str(&r, TR_ARG_MEMFD_CREATE_NAME, s->args[0]);
		tr_put_u32(&r, TR_ARG_MEMFD_CREATE_FLAGS, s->args[1]);
		break;
	default:
		return; /* enabled in the catalogue but no argument recipe here */
	}
	tr_ctx(&r)->syscall = id;
	tr_ctx(&r)->return_value = ret;
	tr_rec_submit(&r);
}

SEC("raw_tracepoint/sys_exit")
int tr_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long id = BPF_CORE_READ(regs, orig_ax);

	if (id < 0 || !tr_event_enabled(id))
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tr_saved_args *s = bpf_map_lookup_elem(&tr_syscall_args, &tid);
	if (!s)
		return 0;
	if (s->id == id)
		tr_emit_exit(s, ctx->args[1]);
	bpf_map_delete_elem(&tr_syscall_args, &tid);
	return 0;
}
