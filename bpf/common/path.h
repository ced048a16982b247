/* Resolves a struct path to an absolute path string, as d_path() would but
 * bounded for the verifier: walk dentry->d_parent up to the mount root, then
 * continue from the mount point in the parent mount, until the global root.
 *
 * Components are written backwards into the per-CPU path scratch, ending at
 * TR_PATH_HALF, then the finished string is copied into the record.
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

static __always_inline struct mount *tr_real_mount(struct vfsmount *vfsmnt)
{
	/* container_of with a CO-RE relocated offset of mount.mnt */
	return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

static __always_inline void tr_put_path(struct tr_rec *r, __u32 idx, const struct path *path)
{
	__u32 zero = 0;
	struct tr_path_buf *pb = bpf_map_lookup_elem(&tr_path_scratch, &zero);
	if (!pb || !path)
		return;

	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct mount *mnt = tr_real_mount(vfsmnt);
	struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
	__u32 pos = TR_PATH_HALF;
	bool detached = false;

	for (int i = 0; i < TR_PATH_MAX_COMPONENTS; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *d_parent = BPF_CORE_READ(dentry, d_parent);

		if (dentry == mnt_root || dentry == d_parent) {
			if (dentry != mnt_root) {
				detached = true; /* pseudo file, no tree above */
				break;
			}
			if (mnt == mnt_parent)
				break; /* the global root */
			/* root of a mount: go on from where it is mounted */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
			vfsmnt = (struct vfsmount *)((void *)mnt + bpf_core_field_offset(struct mount, mnt));
			continue;
		}

		__u32 len = BPF_CORE_READ(dentry, d_name.len);
		const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
		if (len > TR_NAME_MAX || len + 1 > pos)
			break; /* no room: keep the deepest components found so far */
		pos = tr_mask(pos - len - 1, TR_PATH_HALF - 1);
		pb->data[pos] = '/';
		bpf_probe_read_kernel(&pb->data[pos + 1], tr_mask(len, TR_NAME_MAX), name);
		dentry = d_parent;
	}

	__u32 at = r->off;
	if (at >= TR_DATA_LIMIT)
		return;
	if (pos == TR_PATH_HALF) {
		if (detached) {
			tr_put_kernel_str(r, idx, BPF_CORE_READ(dentry, d_name.name));
		} else {
			*tr_data_ptr(r, at) = '/';
			tr_arg_set(r, idx, at, 1);
			r->off = at + 1;
		}
		return;
	}
	pos = tr_mask(pos, TR_PATH_HALF - 1);
	__u32 len = TR_PATH_HALF - pos; /* 1..TR_PATH_HALF */
	if (bpf_probe_read_kernel(tr_data_ptr(r, at), len, &pb->data[pos]))
		return;
	tr_arg_set(r, idx, at, len);
	r->off = at + len;
}
