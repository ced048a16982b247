// SPDX-License-Identifier: GPL-2.0
/* Syscall events and the events derived from syscalls, from the raw
 * sys_enter/sys_exit tracepoints (x86_64 ids).
 *
 * sys_exit: tr_sys_pol[id] says which policies want this syscall or an
 * event derived from it; the scope of the current task is matched against
 * them (common/scope.h) and, if any is left, the records are built: the
 * syscall event itself (generic: arguments read by the catalogue's types,
 * bpf/gen/syscall_args.h, with the return value) and the derived events
 * (security_file_open, security_inode_rename/unlink, magic_write,
 * mem_prot_alert, socket_dup). The arguments are read at exit from the
 * task's saved user registers, which keep them until the syscall returns, so
 * most syscalls need no sys_enter program at all: each attached program
 * costs every syscall on the machine.
 *
 * sys_enter (attached only when tr_enter_pol wants something): syscalls that
 * do not return (execve, execveat, exit, exit_group, rt_sigreturn) are
 * emitted there, as Tracee does; so is security_socket_connect, which
 * Tracee takes from an LSM hook that runs before the connection is made;
 * and mprotect keeps the protection it is about to change.
 *
 * Both programs run for every syscall on the machine: the first test is one
 * array lookup. 32-bit (compat) syscalls use other numbers and are not
 * traced. Each derived-event emitter is a global function, verified once;
 * the generic syscall event, the hot path, is inlined.
 * Requires Linux 5.11 (task storage, BTF task pointers); bpf_find_vma (5.17)
 * for mem_prot_alert's prev_prot. */
#include "common/path.h"
#include "common/scope.h"
#include <bpf/bpf_tracing.h>

/* x86_64 syscall numbers used by the derived events. */
enum {
	TR_NR_WRITE = 1, TR_NR_OPEN = 2, TR_NR_MMAP = 9, TR_NR_MPROTECT = 10, TR_NR_PWRITE64 = 18,
	TR_NR_WRITEV = 20, TR_NR_DUP = 32, TR_NR_DUP2 = 33, TR_NR_CONNECT = 42, TR_NR_RENAME = 82,
	TR_NR_CREAT = 85, TR_NR_UNLINK = 87, TR_NR_MOUNT = 165, TR_NR_OPENAT = 257, TR_NR_UNLINKAT = 263,
	TR_NR_RENAMEAT = 264, TR_NR_DUP3 = 292, TR_NR_PWRITEV = 296, TR_NR_RENAMEAT2 = 316,
	TR_NR_PWRITEV2 = 328, TR_NR_OPENAT2 = 437,
};

#define TR_PROT_READ 1
#define TR_PROT_WRITE 2
#define TR_PROT_EXEC 4
#define TR_MAP_ANONYMOUS 0x20
#define TR_AT_REMOVEDIR 0x200
#define TR_AF_UNIX 1
#define TR_AF_INET 2
#define TR_AF_INET6 10
#define TR_MAGIC_BYTES 20 /* bytes of a magic_write, as Tracee */
#define TR_AUX_VALID 0x100

/* Tracee's mem_prot_alert kinds. */
enum { TR_ALERT_MMAP_WX = 1, TR_ALERT_MPROTECT_X = 2, TR_ALERT_MPROTECT_X_TO_WX = 3, TR_ALERT_MPROTECT_WX_TO_X = 4 };

static __always_inline bool tr_in_compat_syscall(struct task_struct *task)
{
	return task->thread_info.status & TR_TS_COMPAT;
}

/* ---- generic syscall records ---- */

/* A raw sockaddr from user memory: as many bytes as its family uses, cut
 * to `len` when the syscall gives one. */
static __always_inline void tr_put_user_sockaddr(struct tr_rec *r, __u32 idx, __u64 uaddr, __u64 len)
{
	__u16 family = 0;
	if (!uaddr || bpf_probe_read_user(&family, sizeof(family), (const void *)uaddr))
		return;
	__u32 size = family == TR_AF_UNIX ? 110 : family == TR_AF_INET6 ? 28 : 16;
	if (len < size)
		size = len;
	if (size < 2)
		return;
	tr_put_user_bytes(r, idx, (const void *)uaddr, size);
}

/* Appends syscall argument idx of catalogue type `type` (TR_SC_*) at `at`;
 * returns the new data end. */
__noinline long tr_sc_put_arg(__u32 idx, __u32 type, __u64 val, __u64 len, __u32 at)
{
	struct tr_rec r = { .off = at, .nargs = 0 };
	r.buf = tr_rec_buf();
	if (!r.buf)
		return at;
	switch (type) {
	case TR_SC_S32:
	case TR_SC_U32:
		tr_put_u32(&r, idx, val);
		break;
	case TR_SC_U16:
		tr_put_u16(&r, idx, val);
		break;
	case TR_SC_S64:
	case TR_SC_U64:
		tr_put_u64(&r, idx, val);
		break;
	case TR_SC_BOOL:
		tr_put_bool(&r, idx, val);
		break;
	case TR_SC_STR:
		tr_put_user_str(&r, idx, val);
		break;
	case TR_SC_STRS:
		tr_put_user_argv(&r, idx, (const char *const *)val);
		break;
	case TR_SC_ENV:
		if (tr_cfg.exec_env)
			tr_put_user_argv(&r, idx, (const char *const *)val);
		break;
	case TR_SC_SOCKADDR:
		tr_put_user_sockaddr(&r, idx, val, len);
		break;
	case TR_SC_BYTES:
		tr_put_user_bytes(&r, idx, (const void *)val, len);
		break;
	}
	return r.off;
}

/* The syscall event `id` with the arguments kept at enter. Inlined in both
 * tracepoints (a call less per record); its variable-size arguments go
 * through tr_sc_put_arg, verified once. */
static __always_inline long tr_emit_syscall(__u32 id, long ret, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	if (!t || id >= TR_SC_MAX)
		return 0;
	const struct tr_sc_recipe *rc = &tr_sc_recipes[tr_mask(id, TR_SC_MAX - 1)];
	__u32 nargs = rc->nargs;
	struct tr_rec r;
	if (nargs > 6 || !tr_rec_begin(&r, id, nargs, policies))
		return 0;
	tr_ctx(&r)->syscall = id;
	tr_ctx(&r)->return_value = ret;
	for (int i = 0; i < 6; i++) {
		if (i >= nargs)
			break;
		/* Integers here; the rest in a global function (verified once). */
		switch (rc->type[i]) {
		case TR_SC_S32:
		case TR_SC_U32:
			tr_put_u32(&r, i, t->args[i]);
			continue;
		case TR_SC_S64:
		case TR_SC_U64:
			tr_put_u64(&r, i, t->args[i]);
			continue;
		}
		__u64 len = ~0ull;
		__u8 l = rc->len_arg[i];
		if (l != TR_SC_NO_LEN && (rc->type[i] == TR_SC_SOCKADDR || rc->type[i] == TR_SC_BYTES)) {
			__u32 li = l & 0x7f;
			if (li < 6)
				len = t->args[li];
			if (l & TR_SC_LEN_INDIRECT) {
				__u32 v = 0;
				bpf_probe_read_user(&v, sizeof(v), (const void *)len);
				len = v;
			}
		}
		r.off = tr_sc_put_arg(i, rc->type[i], t->args[i], len, r.off);
	}
	tr_rec_stage(&r);
	return 0;
}

/* ---- derived events ---- */

static __always_inline void tr_put_file_identity(struct tr_rec *r, struct inode *inode, int dev_idx, int ino_idx, int ctime_idx)
{
	if (dev_idx >= 0)
		tr_put_u32(r, dev_idx, BPF_CORE_READ(inode, i_sb, s_dev));
	if (ino_idx >= 0)
		tr_put_u64(r, ino_idx, BPF_CORE_READ(inode, i_ino));
	if (ctime_idx >= 0)
		tr_put_u64(r, ctime_idx, tr_inode_ctime_ns(inode));
}

/* security_file_open: open/openat/openat2/creat returned fd. */
__noinline long tr_emit_file_open(__u32 id, long fd, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	struct file *f = tr_fd_file(fd);
	struct tr_rec r;
	if (!t || !f || !tr_rec_begin(&r, TR_EV_SECURITY_FILE_OPEN, TR_EV_SECURITY_FILE_OPEN_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = id;
	tr_put_path(&r, TR_ARG_SECURITY_FILE_OPEN_PATHNAME, __builtin_preserve_access_index(&f->f_path));
	tr_put_s32(&r, TR_ARG_SECURITY_FILE_OPEN_FLAGS, BPF_CORE_READ(f, f_flags));
	tr_put_file_identity(&r, BPF_CORE_READ(f, f_inode), TR_ARG_SECURITY_FILE_OPEN_DEV,
			     TR_ARG_SECURITY_FILE_OPEN_INODE, TR_ARG_SECURITY_FILE_OPEN_CTIME);
	__u64 upath = (id == TR_NR_OPEN || id == TR_NR_CREAT) ? t->args[0] : t->args[1];
	tr_put_user_str(&r, TR_ARG_SECURITY_FILE_OPEN_SYSCALL_PATHNAME, upath);
	tr_rec_stage(&r);
	return 0;
}

/* security_inode_rename: rename/renameat/renameat2 succeeded. */
__noinline long tr_emit_rename(__u32 id, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	struct tr_rec r;
	if (!t || !tr_rec_begin(&r, TR_EV_SECURITY_INODE_RENAME, TR_EV_SECURITY_INODE_RENAME_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = id;
	if (id == TR_NR_RENAME) {
		tr_put_user_path_at(&r, TR_ARG_SECURITY_INODE_RENAME_OLD_PATH, TR_AT_FDCWD, t->args[0]);
		tr_put_user_path_at(&r, TR_ARG_SECURITY_INODE_RENAME_NEW_PATH, TR_AT_FDCWD, t->args[1]);
	} else {
		tr_put_user_path_at(&r, TR_ARG_SECURITY_INODE_RENAME_OLD_PATH, t->args[0], t->args[1]);
		tr_put_user_path_at(&r, TR_ARG_SECURITY_INODE_RENAME_NEW_PATH, t->args[2], t->args[3]);
	}
	tr_rec_stage(&r);
	return 0;
}

/* security_inode_unlink: unlink/unlinkat (not AT_REMOVEDIR) succeeded. The
 * inode facts were kept in aux[] by misc.bpf.c while the syscall ran. */
__noinline long tr_emit_unlink(__u32 id, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	struct tr_rec r;
	if (!t || !tr_rec_begin(&r, TR_EV_SECURITY_INODE_UNLINK, TR_EV_SECURITY_INODE_UNLINK_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = id;
	if (id == TR_NR_UNLINK)
		tr_put_user_path_at(&r, TR_ARG_SECURITY_INODE_UNLINK_PATHNAME, TR_AT_FDCWD, t->args[0]);
	else
		tr_put_user_path_at(&r, TR_ARG_SECURITY_INODE_UNLINK_PATHNAME, t->args[0], t->args[1]);
	if (t->aux[3] == TR_AUX_VALID) {
		tr_put_u64(&r, TR_ARG_SECURITY_INODE_UNLINK_INODE, t->aux[0]);
		tr_put_u32(&r, TR_ARG_SECURITY_INODE_UNLINK_DEV, t->aux[1]);
		tr_put_u64(&r, TR_ARG_SECURITY_INODE_UNLINK_CTIME, t->aux[2]);
	}
	tr_rec_stage(&r);
	return 0;
}

/* magic_write: the first bytes written at offset 0 of a regular file. */
__noinline long tr_emit_magic_write(__u32 id, long ret, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	if (!t || ret <= 0)
		return 0;
	struct file *f = tr_fd_file(t->args[0]);
	if (!f)
		return 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & TR_S_IFMT) != TR_S_IFREG)
		return 0;
	long pos;
	if (id == TR_NR_PWRITE64 || id == TR_NR_PWRITEV || id == TR_NR_PWRITEV2)
		pos = t->args[3];
	else
		pos = BPF_CORE_READ(f, f_pos) - ret; /* where the write started */
	if (pos != 0)
		return 0;
	__u64 buf = t->args[1];
	__u64 n = ret;
	if (id == TR_NR_WRITEV || id == TR_NR_PWRITEV || id == TR_NR_PWRITEV2) {
		struct iovec iov = {};
		if (bpf_probe_read_user(&iov, sizeof(iov), (const void *)buf))
			return 0;
		buf = (__u64)iov.iov_base;
		if (iov.iov_len < n)
			n = iov.iov_len;
	}
	if (n > TR_MAGIC_BYTES)
		n = TR_MAGIC_BYTES;
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_MAGIC_WRITE, TR_EV_MAGIC_WRITE_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = id;
	tr_put_path(&r, TR_ARG_MAGIC_WRITE_PATHNAME, __builtin_preserve_access_index(&f->f_path));
	tr_put_user_bytes(&r, TR_ARG_MAGIC_WRITE_BYTES, (const void *)buf, n);
	tr_put_file_identity(&r, inode, TR_ARG_MAGIC_WRITE_DEV, TR_ARG_MAGIC_WRITE_INODE, -1);
	tr_rec_stage(&r);
	return 0;
}

static __always_inline void tr_emit_mem_prot(__u32 id, __u32 alert, __u64 addr, __u64 len, __u32 prot,
					     __u32 prev, struct file *f, __u64 policies)
{
	struct tr_rec r;
	if (!tr_rec_begin(&r, TR_EV_MEM_PROT_ALERT, TR_EV_MEM_PROT_ALERT_ARGS, policies))
		return;
	tr_ctx(&r)->syscall = id;
	tr_put_u32(&r, TR_ARG_MEM_PROT_ALERT_ALERT, alert);
	tr_put_u64(&r, TR_ARG_MEM_PROT_ALERT_ADDR, addr);
	tr_put_u64(&r, TR_ARG_MEM_PROT_ALERT_LEN, len);
	tr_put_s32(&r, TR_ARG_MEM_PROT_ALERT_PROT, prot);
	tr_put_s32(&r, TR_ARG_MEM_PROT_ALERT_PREV_PROT, prev);
	if (f) {
		tr_put_path(&r, TR_ARG_MEM_PROT_ALERT_PATHNAME, __builtin_preserve_access_index(&f->f_path));
		tr_put_file_identity(&r, BPF_CORE_READ(f, f_inode), TR_ARG_MEM_PROT_ALERT_DEV,
				     TR_ARG_MEM_PROT_ALERT_INODE, TR_ARG_MEM_PROT_ALERT_CTIME);
	}
	tr_rec_stage(&r);
}

/* mem_prot_alert from mmap (W+X mapping) and mprotect (per Tracee's rules,
 * with the previous protection kept at enter from the VMA). */
__noinline long tr_emit_mem_prot_alert(__u32 id, long ret, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	if (!t)
		return 0;
	if (id == TR_NR_MMAP) {
		__u32 prot = t->args[2];
		if (ret < 0 && ret > -4096)
			return 0;
		if ((prot & (TR_PROT_WRITE | TR_PROT_EXEC)) != (TR_PROT_WRITE | TR_PROT_EXEC))
			return 0;
		struct file *f = (t->args[3] & TR_MAP_ANONYMOUS) ? NULL : tr_fd_file(t->args[4]);
		tr_emit_mem_prot(id, TR_ALERT_MMAP_WX, ret, t->args[1], prot, 0, f, policies);
		return 0;
	}
	if (ret != 0 || !(t->aux[0] & TR_AUX_VALID))
		return 0;
	__u32 prev = t->aux[0] & 7, prot = t->args[2] & 7;
	__u32 alert = 0;
	if (!(prev & TR_PROT_EXEC) && (prot & TR_PROT_EXEC))
		alert = TR_ALERT_MPROTECT_X;
	else if ((prev & TR_PROT_EXEC) && !(prev & TR_PROT_WRITE) &&
		 (prot & (TR_PROT_WRITE | TR_PROT_EXEC)) == (TR_PROT_WRITE | TR_PROT_EXEC))
		alert = TR_ALERT_MPROTECT_X_TO_WX;
	else if ((prev & (TR_PROT_WRITE | TR_PROT_EXEC)) == (TR_PROT_WRITE | TR_PROT_EXEC) &&
		 (prot & TR_PROT_EXEC) && !(prot & TR_PROT_WRITE))
		alert = TR_ALERT_MPROTECT_WX_TO_X;
	if (alert)
		tr_emit_mem_prot(id, alert, t->args[0], t->args[1], t->args[2], prev, (struct file *)t->aux[1], policies);
	return 0;
}

struct tr_vma_found {
	__u64 flags;
	__u64 file;
};

static long tr_vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct tr_vma_found *found = data;
	found->flags = vma->vm_flags | TR_AUX_VALID;
	bpf_probe_read_kernel(&found->file, sizeof(found->file), &vma->vm_file); /* a number, see tr_scalar */
	return 0;
}

/* At mprotect enter: the protection the VMA has now (VM_READ/WRITE/EXEC are
 * PROT_READ/WRITE/EXEC), and its file. */
__noinline long tr_mprotect_enter(__u64 addr)
{
	struct tr_task *t = tr_task_cur(true);
	if (!t) {
		tr_count(TR_C_NO_STORAGE);
		return 0;
	}
	struct tr_vma_found found = {};
	bpf_find_vma(bpf_get_current_task_btf(), addr, tr_vma_cb, &found, 0);
	t->aux[0] = found.flags & (7 | TR_AUX_VALID);
	t->aux[1] = found.file;
	t->aux_id = TR_NR_MPROTECT + 1;
	return 0;
}

/* The struct socket of a socket fd's file, or NULL. */
static __always_inline struct socket *tr_file_socket(struct file *f)
{
	if (!f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & TR_S_IFMT) != TR_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* security_socket_connect, at connect enter. */
__noinline long tr_emit_connect(__u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	if (!t)
		return 0;
	struct socket *sock = tr_file_socket(tr_fd_file(t->args[0]));
	struct tr_rec r;
	if (!sock || !tr_rec_begin(&r, TR_EV_SECURITY_SOCKET_CONNECT, TR_EV_SECURITY_SOCKET_CONNECT_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = TR_NR_CONNECT;
	tr_put_s32(&r, TR_ARG_SECURITY_SOCKET_CONNECT_SOCKFD, t->args[0]);
	tr_put_s32(&r, TR_ARG_SECURITY_SOCKET_CONNECT_TYPE, BPF_CORE_READ(sock, type));
	tr_put_user_sockaddr(&r, TR_ARG_SECURITY_SOCKET_CONNECT_REMOTE_ADDR, t->args[1], (__u32)t->args[2]);
	tr_rec_stage(&r);
	return 0;
}

/* The peer address of a socket as a raw sockaddr (AF_INET, AF_INET6, AF_UNIX). */
static __always_inline void tr_put_sock_peer(struct tr_rec *r, __u32 idx, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == TR_AF_INET) {
		struct sockaddr_in sin = { .sin_family = family };
		sin.sin_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
		sin.sin_addr.s_addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		tr_put_raw(r, idx, &sin, sizeof(sin));
	} else if (family == TR_AF_INET6) {
		struct sockaddr_in6 sin6 = { .sin6_family = family };
		sin6.sin6_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
		BPF_CORE_READ_INTO(&sin6.sin6_addr, sk, __sk_common.skc_v6_daddr);
		tr_put_raw(r, idx, &sin6, sizeof(sin6));
	} else if (family == TR_AF_UNIX) {
		struct unix_sock *u = (struct unix_sock *)sk;
		struct sock *peer = BPF_CORE_READ(u, peer);
		struct unix_address *addr = peer ? BPF_CORE_READ((struct unix_sock *)peer, addr) : BPF_CORE_READ(u, addr);
		__u32 at = r->off;
		if (at >= TR_DATA_LIMIT)
			return;
		if (!addr) {
			__u16 fam = TR_AF_UNIX;
			tr_put_raw(r, idx, &fam, sizeof(fam));
			return;
		}
		__u32 len = BPF_CORE_READ(addr, len);
		if (len > 110)
			len = 110;
		if (len < 2)
			return;
		if (bpf_probe_read_kernel(tr_data_ptr(r, at), len & 127, __builtin_preserve_access_index(&addr->name)))
			return;
		tr_arg_set(r, idx, at, len);
		r->off = at + len;
	}
}

/* socket_dup: dup/dup2/dup3 of a socket fd. */
__noinline long tr_emit_socket_dup(__u32 id, long newfd, __u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	if (!t || newfd < 0)
		return 0;
	struct socket *sock = tr_file_socket(tr_fd_file(newfd));
	struct tr_rec r;
	if (!sock || !tr_rec_begin(&r, TR_EV_SOCKET_DUP, TR_EV_SOCKET_DUP_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = id;
	tr_put_s32(&r, TR_ARG_SOCKET_DUP_OLDFD, t->args[0]);
	tr_put_s32(&r, TR_ARG_SOCKET_DUP_NEWFD, newfd);
	tr_put_sock_peer(&r, TR_ARG_SOCKET_DUP_REMOTE_ADDR, sock);
	tr_rec_stage(&r);
	return 0;
}

/* security_sb_mount, at mount exit (whatever it returned, as the LSM hook
 * runs before the mount): by then the kernel has copied the strings, so
 * their pages are resident; at enter a string in a page not yet touched
 * (e.g. a literal in the binary) cannot be read without a fault. */
__noinline long tr_emit_mount(__u64 policies)
{
	struct tr_sc *t = tr_sc_get();
	struct tr_rec r;
	if (!t || !tr_rec_begin(&r, TR_EV_SECURITY_SB_MOUNT, TR_EV_SECURITY_SB_MOUNT_ARGS, policies))
		return 0;
	tr_ctx(&r)->syscall = TR_NR_MOUNT;
	tr_put_user_str(&r, TR_ARG_SECURITY_SB_MOUNT_DEV_NAME, t->args[0]);
	tr_put_user_path_at(&r, TR_ARG_SECURITY_SB_MOUNT_PATH, TR_AT_FDCWD, t->args[1]);
	tr_put_user_str(&r, TR_ARG_SECURITY_SB_MOUNT_TYPE, t->args[2]);
	tr_put_u64(&r, TR_ARG_SECURITY_SB_MOUNT_FLAGS, t->args[3]);
	tr_rec_stage(&r);
	return 0;
}

/* ---- the two tracepoints ---- */

/* Fills the per-CPU syscall record source from the task's saved user
 * registers: x86_64 syscall arguments are di, si, dx, r10, r8, r9, and stay
 * there until the syscall returns. */
static __always_inline struct tr_sc *tr_sc_fill(struct pt_regs *regs, __u32 id)
{
	struct tr_sc *sc = tr_sc_get();
	if (!sc)
		return NULL;
	sc->id = id;
	sc->args[0] = regs->di;
	sc->args[1] = regs->si;
	sc->args[2] = regs->dx;
	sc->args[3] = regs->r10;
	sc->args[4] = regs->r8;
	sc->args[5] = regs->r9;
	return sc;
}

/* Aux data kept in task storage for this syscall (mprotect, unlink): taken
 * (and cleared, whether or not a record follows) into `aux`. */
static __always_inline void tr_take_aux(struct task_struct *task, __u32 id, __u64 aux[4])
{
	struct tr_task *t = bpf_task_storage_get(&tr_task_map, task, 0, 0);
	if (!t || t->aux_id != id + 1)
		return;
	aux[0] = t->aux[0];
	aux[1] = t->aux[1];
	aux[2] = t->aux[2];
	aux[3] = t->aux[3];
	t->aux_id = 0;
}

/* Attached only when something is wanted at enter (tr_enter_pol). */
SEC("raw_tracepoint/sys_enter")
int tr_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = ctx->args[1];
	if (id < 0 || id >= TR_SC_MAX)
		return 0;
	__u32 key = id;
	__u64 *want = bpf_map_lookup_elem(&tr_enter_pol, &key);
	if (!want || !*want)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (tr_ignored(task) || tr_in_compat_syscall(task))
		return 0;
	__u64 m = tr_scope(*want);
	if (!m)
		return 0;
	__u64 p;
	switch (key) {
	case TR_NR_CONNECT:
		p = m & tr_event_policies(TR_EV_SECURITY_SOCKET_CONNECT);
		if (p && tr_sc_fill((struct pt_regs *)bpf_task_pt_regs(task), key))
			tr_emit_connect(p);
		return 0;
	case TR_NR_MPROTECT:
		if (m & tr_event_policies(TR_EV_MEM_PROT_ALERT))
			tr_mprotect_enter(ctx->args[0] ? BPF_CORE_READ((struct pt_regs *)ctx->args[0], di) : 0);
		return 0;
	}
	/* a syscall that does not return: its event now */
	p = m & tr_event_policies(key);
	if (p && tr_sc_fill((struct pt_regs *)bpf_task_pt_regs(task), key))
		tr_emit_syscall(key, 0, p);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int tr_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long id = regs->orig_ax;
	if (id < 0 || id >= TR_SC_MAX)
		return 0;
	__u32 key = id;
	__u64 *want = bpf_map_lookup_elem(&tr_sys_pol, &key);
	if (!want || !*want)
		return 0;
	__u64 aux[4] = {};
	if (key == TR_NR_UNLINK || key == TR_NR_UNLINKAT || key == TR_NR_MPROTECT)
		tr_take_aux(task, key, aux);
	if (tr_ignored(task) || tr_in_compat_syscall(task))
		return 0;
	__u64 m = tr_scope(*want);
	if (!m)
		return 0;
	struct tr_sc *sc = tr_sc_fill(regs, key);
	if (!sc)
		return 0;
	sc->aux[0] = aux[0];
	sc->aux[1] = aux[1];
	sc->aux[2] = aux[2];
	sc->aux[3] = aux[3];
	long ret = ctx->args[1];
	__u64 p = m & tr_event_policies(key);
	if (p)
		tr_emit_syscall(key, ret, p);

	switch (key) {
	case TR_NR_OPEN:
	case TR_NR_OPENAT:
	case TR_NR_OPENAT2:
	case TR_NR_CREAT:
		p = m & tr_event_policies(TR_EV_SECURITY_FILE_OPEN);
		if (p && ret >= 0)
			tr_emit_file_open(key, ret, p);
		break;
	case TR_NR_RENAME:
	case TR_NR_RENAMEAT:
	case TR_NR_RENAMEAT2:
		p = m & tr_event_policies(TR_EV_SECURITY_INODE_RENAME);
		if (p && ret == 0)
			tr_emit_rename(key, p);
		break;
	case TR_NR_UNLINKAT:
	case TR_NR_UNLINK:
		if (key == TR_NR_UNLINKAT && (sc->args[2] & TR_AT_REMOVEDIR))
			break;
		p = m & tr_event_policies(TR_EV_SECURITY_INODE_UNLINK);
		if (p && ret == 0)
			tr_emit_unlink(key, p);
		break;
	case TR_NR_WRITE:
	case TR_NR_PWRITE64:
	case TR_NR_WRITEV:
	case TR_NR_PWRITEV:
	case TR_NR_PWRITEV2:
		p = m & tr_event_policies(TR_EV_MAGIC_WRITE);
		if (p && ret > 0)
			tr_emit_magic_write(key, ret, p);
		break;
	case TR_NR_MPROTECT:
	case TR_NR_MMAP:
		p = m & tr_event_policies(TR_EV_MEM_PROT_ALERT);
		if (p)
			tr_emit_mem_prot_alert(key, ret, p);
		break;
	case TR_NR_MOUNT:
		p = m & tr_event_policies(TR_EV_SECURITY_SB_MOUNT);
		if (p)
			tr_emit_mount(p);
		break;
	case TR_NR_DUP:
	case TR_NR_DUP2:
	case TR_NR_DUP3:
		p = m & tr_event_policies(TR_EV_SOCKET_DUP);
		if (p && ret >= 0)
			tr_emit_socket_dup(key, ret, p);
		break;
	}
	return 0;
}
