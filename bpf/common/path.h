/* Paths and files: absolute paths from struct path (as d_path() would give,
 * but bounded for the verifier), paths given to a syscall made absolute
 * against its dirfd or the cwd, and the struct file behind an fd.
 *
 * Path resolution walks dentry->d_parent up to the mount root, then goes on
 * from the mount point in the parent mount, until the root of the task's
 * mount namespace. Components are written backwards into the per-CPU path
 * scratch, ending at TR_PATH_HALF. These are global (non-inlined) functions
 * in lib.bpf.c, verified once rather than at every call site.
 *
 * Files that live on an internal pseudo mount and have no place in any tree
 * (memfd, pipes, sockets, anon inodes) have a dentry that is its own parent
 * but is not its mount's root. For them the result is the bare dentry name,
 * without a leading slash, as Tracee reports it: "memfd:<name>" for a memfd.
 * (The " (deleted)" suffix some tools show is added by d_path(), never
 * stored in d_name, so nothing here has to strip it.) */
#pragma once

#include "record.h"

#define TR_PATH_MAX_COMPONENTS 64
#define TR_PATH_HALF (TR_PATH_BUF_SIZE / 2) /* path text lives in [pos, TR_PATH_HALF) */
#define TR_NAME_MAX 255                     /* longest dentry name (NAME_MAX) */
#define TR_AT_FDCWD -100

/* Resolves the struct path at `path` into the path scratch; returns where
 * the text starts (it ends at TR_PATH_HALF), or -1. */
extern long tr_path_resolve(__u64 path);
/* Copies path scratch text [start, TR_PATH_HALF) to record data at `at` as
 * argument idx; returns the new data end (`at` when nothing was added). */
extern long tr_path_copy(__u32 idx, __u32 at, long start);
/* FNV-1a 64 of path scratch text [start, TR_PATH_HALF) (executable filter). */
extern __u64 tr_path_hash(long start);
/* Appends argument idx: the user string `upath` as an absolute path: kept
 * when it starts with '/', else prefixed with the path of `dirfd` (or of the
 * cwd for AT_FDCWD) and '/'. "." and ".." components are kept as given.
 * Returns the new data end. */
extern long tr_put_at_path(__u32 idx, __u32 at, long dirfd, __u64 upath);

static __always_inline void tr_put_path(struct tr_rec *r, __u32 idx, const struct path *path)
{
	long start = tr_path_resolve((__u64)path);
	if (start >= 0)
		r->off = tr_path_copy(idx, r->off, start);
}

static __always_inline void tr_put_user_path_at(struct tr_rec *r, __u32 idx, long dirfd, __u64 upath)
{
	r->off = tr_put_at_path(idx, r->off, dirfd, upath);
}

/* The file behind the current task's fd, or NULL. */
static __always_inline struct file *tr_fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	if (!files || fd < 0)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	return f;
}

/* Older inode layouts, for CO-RE: the ctime moved twice. */
struct inode___pre611 { struct timespec64 __i_ctime; } __attribute__((preserve_access_index));
struct inode___pre66 { struct timespec64 i_ctime; } __attribute__((preserve_access_index));

static __always_inline __u64 tr_inode_ctime_ns(struct inode *inode)
{
	if (bpf_core_field_exists(inode->i_ctime_sec))
		/* 6.13+ keeps a "queried" flag in bit 31 of the nanoseconds (multigrain timestamps). */
		return BPF_CORE_READ(inode, i_ctime_sec) * 1000000000ull + (BPF_CORE_READ(inode, i_ctime_nsec) & 0x3fffffff);
	if (bpf_core_field_exists(((struct inode___pre611 *)inode)->__i_ctime)) {
		struct inode___pre611 *i = (void *)inode;
		return BPF_CORE_READ(i, __i_ctime.tv_sec) * 1000000000ull + BPF_CORE_READ(i, __i_ctime.tv_nsec);
	}
	struct inode___pre66 *i = (void *)inode;
	return BPF_CORE_READ(i, i_ctime.tv_sec) * 1000000000ull + BPF_CORE_READ(i, i_ctime.tv_nsec);
}

#define TR_S_IFMT 00170000
#define TR_S_IFSOCK 0140000
#define TR_S_IFREG 0100000
#define TR_S_IFDIR 0040000
