// SPDX-License-Identifier: GPL-2.0
/* Events from tracepoints other than the scheduler's and the syscalls':
 *   cgroup_mkdir, cgroup_rmdir   tp_btf cgroup/cgroup_mkdir|rmdir (Linux 5.5+)
 *   module_load                  tp_btf module/module_load (only on kernels
 *                                with loadable modules, CONFIG_MODULES)
 *   security_inode_unlink's inode, dev and ctime: while an unlink(at)
 *   syscall that wants them runs, the first non-directory inode whose ctime
 *   the kernel updates is the unlinked one (the other is its directory);
 *   the ctime tracepoints (inode_set_ctime_to_ts, and on multigrain
 *   filesystems ctime_xchg_skip/ctime_ns_xchg, Linux 6.13+) hand it over.
 *   The facts go to the thread's task storage (aux[]) for sys_exit, which
 *   clears them at every unlink exit. */
#include "common/path.h"
#include "common/scope.h"
#include <bpf/bpf_tracing.h>

enum { TR_NR_UNLINK_ = 87, TR_NR_UNLINKAT_ = 263, TR_NR_FINIT_MODULE = 313 };
#define TR_AUX_VALID 0x100

static __always_inline void tr_emit_cgroup(__u32 id, struct cgroup *cgrp, const char *path)
{
	if (tr_ignored_current())
		return;
	__u64 m = tr_scope_match(tr_event_policies(id));
	struct tr_rec r;
	if (!m || !tr_rec_begin(&r, id, TR_EV_CGROUP_MKDIR_ARGS, m))
		return;
	tr_ctx(&r)->syscall = tr_current_syscall(bpf_get_current_task_btf());
	/* cgroup_rmdir has the same arguments at the same indices */
	tr_put_u64(&r, TR_ARG_CGROUP_MKDIR_CGROUP_ID, BPF_CORE_READ(cgrp, kn, id));
	tr_put_kernel_str(&r, TR_ARG_CGROUP_MKDIR_CGROUP_PATH, path);
	tr_put_u32(&r, TR_ARG_CGROUP_MKDIR_HIERARCHY_ID, BPF_CORE_READ(cgrp, root, hierarchy_id));
	tr_rec_submit(&r);
}

_Static_assert(TR_ARG_CGROUP_MKDIR_CGROUP_PATH == TR_ARG_CGROUP_RMDIR_CGROUP_PATH &&
	       TR_EV_CGROUP_MKDIR_ARGS == TR_EV_CGROUP_RMDIR_ARGS, "cgroup_mkdir/rmdir arguments differ");

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(tr_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	tr_emit_cgroup(TR_EV_CGROUP_MKDIR, cgrp, path);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(tr_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	tr_emit_cgroup(TR_EV_CGROUP_RMDIR, cgrp, path);
	return 0;
}

SEC("tp_btf/module_load")
int BPF_PROG(tr_module_load, struct module *mod)
{
	if (tr_ignored_current())
		return 0;
	__u64 m = tr_scope_match(tr_event_policies(TR_EV_MODULE_LOAD));
	struct tr_rec r;
	if (!m || !tr_rec_begin(&r, TR_EV_MODULE_LOAD, TR_EV_MODULE_LOAD_ARGS, m))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	tr_ctx(&r)->syscall = tr_current_syscall(task);
	tr_put_kernel_str(&r, TR_ARG_MODULE_LOAD_NAME, __builtin_preserve_access_index(&mod->name));
	tr_put_kernel_str(&r, TR_ARG_MODULE_LOAD_VERSION, BPF_CORE_READ(mod, version));
	tr_put_kernel_str(&r, TR_ARG_MODULE_LOAD_SRC_VERSION, BPF_CORE_READ(mod, srcversion));
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (regs->orig_ax == TR_NR_FINIT_MODULE) {
		struct file *f = tr_fd_file(regs->di);
		if (f)
			tr_put_path(&r, TR_ARG_MODULE_LOAD_PATHNAME, __builtin_preserve_access_index(&f->f_path));
	}
	tr_rec_submit(&r);
	return 0;
}

static __always_inline void tr_unlink_inode(struct inode *inode)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->flags & TR_PF_KTHREAD)
		return;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long id = regs->orig_ax;
	if (id != TR_NR_UNLINK_ && id != TR_NR_UNLINKAT_)
		return;
	if (!tr_event_policies(TR_EV_SECURITY_INODE_UNLINK))
		return;
	if ((BPF_CORE_READ(inode, i_mode) & TR_S_IFMT) == TR_S_IFDIR)
		return;
	struct tr_task *t = tr_task_cur(true);
	if (!t)
		return;
	/* the first non-directory of this syscall only; sys_exit clears aux_id */
	if (t->aux_id == id + 1)
		return;
	t->aux_id = id + 1;
	t->aux[0] = BPF_CORE_READ(inode, i_ino);
	t->aux[1] = BPF_CORE_READ(inode, i_sb, s_dev);
	t->aux[2] = tr_inode_ctime_ns(inode);
	t->aux[3] = TR_AUX_VALID;
}

SEC("tp_btf/inode_set_ctime_to_ts")
int BPF_PROG(tr_unlink_ctime_set, struct inode *inode)
{
	tr_unlink_inode(inode);
	return 0;
}

SEC("tp_btf/ctime_xchg_skip")
int BPF_PROG(tr_unlink_ctime_skip, struct inode *inode)
{
	tr_unlink_inode(inode);
	return 0;
}

SEC("tp_btf/ctime_ns_xchg")
int BPF_PROG(tr_unlink_ctime_xchg, struct inode *inode)
{
	tr_unlink_inode(inode);
	return 0;
}
