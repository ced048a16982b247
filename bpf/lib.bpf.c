// SPDX-License-Identifier: GPL-2.0
/* Global (non-inlined) functions shared by the programs: path resolution
 * (common/path.h), the record stage's flush (common/stage.h) and the scope
 * match (common/scope.h). The verifier checks
 * each of them once, with unknown arguments, instead of at every call site:
 * the loops here would otherwise multiply the work of verifying callers. */
#include "common/path.h"
#include "common/scope.h"

static __always_inline struct tr_path_buf *tr_path_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tr_path_scratch, &zero);
}

static __always_inline struct mount *tr_real_mount(struct vfsmount *vfsmnt)
{
	/* container_of with a CO-RE relocated offset of mount.mnt */
	return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* A dentry's parent and name (length, pointer) with one read: d_parent and
 * d_name are neighbours in struct dentry, so the bytes from d_parent to the
 * end of d_name are read at once (CO-RE offsets, relocated at load) instead
 * of a read per field. Each read is a helper call; a path component took
 * five of them, now two (this and the name's bytes). */
struct tr_dentry_head {
	struct dentry *parent;
	__u32 len;
	const unsigned char *name;
};

#define TR_DENTRY_SPAN 32 /* bytes from d_parent to the end of d_name.name: 24 in every layout so far */

static __always_inline int tr_dentry_head(struct dentry *d, struct tr_dentry_head *h)
{
	const __u32 base = bpf_core_field_offset(struct dentry, d_parent);
	const __u32 len_at = bpf_core_field_offset(struct dentry, d_name.len) - base;
	const __u32 name_at = bpf_core_field_offset(struct dentry, d_name.name) - base;
	if (name_at + 8 > TR_DENTRY_SPAN || len_at + 4 > TR_DENTRY_SPAN) {
		/* another layout: a read per field */
		h->parent = BPF_CORE_READ(d, d_parent);
		h->len = BPF_CORE_READ(d, d_name.len);
		h->name = BPF_CORE_READ(d, d_name.name);
		return 0;
	}
	__u8 raw[TR_DENTRY_SPAN];
	if (bpf_probe_read_kernel(raw, name_at + 8, (const void *)d + base))
		return -1;
	h->parent = *(struct dentry **)raw;
	h->len = *(__u32 *)(raw + len_at);
	h->name = *(const unsigned char **)(raw + name_at);
	return 0;
}

__noinline long tr_path_resolve(__u64 path_ptr)
{
	struct tr_path_buf *pb = tr_path_buf();
	const struct path *path = (const struct path *)path_ptr;
	if (!pb || !path)
		return -1;

	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	if (!dentry || !vfsmnt)
		return -1;
	struct mount *mnt = tr_real_mount(vfsmnt);
	struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct tr_dentry_head head = {};
	__u32 pos = TR_PATH_HALF;
	bool detached = false, done = false;

	for (int i = 0; i < TR_PATH_MAX_COMPONENTS; i++) {
		if (tr_dentry_head(dentry, &head))
			break;
		if (dentry == mnt_root || dentry == head.parent) {
			if (dentry != mnt_root) {
				detached = true; /* pseudo file, no tree above */
				done = true;
				break;
			}
			if (mnt == mnt_parent) {
				done = true; /* the root */
				break;
			}
			/* root of a mount: go on from where it is mounted */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
			vfsmnt = (struct vfsmount *)((void *)mnt + bpf_core_field_offset(struct mount, mnt));
			mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
			continue;
		}

		__u32 len = head.len;
		if (len > TR_NAME_MAX || len + 1 > pos)
			break; /* no room: keep the deepest components found so far */
		pos = tr_mask(pos - len - 1, TR_PATH_HALF - 1);
		pb->data[pos] = '/';
		bpf_probe_read_kernel(&pb->data[pos + 1], tr_mask(len, TR_NAME_MAX), head.name);
		dentry = head.parent;
	}
	if (!done)
		tr_count(TR_C_TRUNCATED);

	if (pos == TR_PATH_HALF) {
		if (detached) {
			/* the bare name, e.g. "memfd:x" (head is the dentry's) */
			__u32 len = head.len;
			if (len == 0 || len > TR_NAME_MAX)
				return -1;
			pos = TR_PATH_HALF - len;
			bpf_probe_read_kernel(&pb->data[tr_mask(pos, TR_PATH_HALF - 1)], tr_mask(len, TR_NAME_MAX), head.name);
			return pos;
		}
		pos = TR_PATH_HALF - 1;
		pb->data[pos] = '/';
	}
	return pos;
}

__noinline long tr_path_copy(__u32 idx, __u32 at, long start)
{
	struct tr_path_buf *pb = tr_path_buf();
	__u8 *buf = tr_rec_buf();
	if (!pb || !buf || start < 0 || start >= TR_PATH_HALF)
		return at;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return at;
	}
	__u32 pos = tr_mask(start, TR_PATH_HALF - 1);
	__u32 len = TR_PATH_HALF - pos; /* 1..TR_PATH_HALF */
	if (len > TR_PATH_HALF)
		return at;
	if (bpf_probe_read_kernel(buf + tr_mask(at, TR_DATA_MASK), len, &pb->data[pos]))
		return at;
	struct tr_arg_entry *e = (struct tr_arg_entry *)(buf + TR_CONTEXT_SIZE);
	idx &= TR_MAX_ARGS - 1;
	e[idx].offset = at;
	e[idx].length = len;
	return at + len;
}

__noinline __u64 tr_path_hash(long start)
{
	struct tr_path_buf *pb = tr_path_buf();
	__u64 h = 14695981039346656037ull;
	if (!pb || start < 0 || start >= TR_PATH_HALF)
		return 0;
	for (__u32 i = start; i < TR_PATH_HALF; i++) {
		h ^= pb->data[i & (TR_PATH_HALF - 1)];
		h *= 1099511628211ull;
	}
	return h;
}

__noinline long tr_put_at_path(__u32 idx, __u32 at, long dirfd, __u64 upath)
{
	__u8 *buf = tr_rec_buf();
	char first = 0;
	if (!buf || !upath)
		return at;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return at;
	}
	bpf_probe_read_user(&first, 1, (const void *)upath);
	__u32 start = at, dirlen = 0;
	if (first != '/') {
		/* the directory: dirfd's file, or the cwd */
		long pstart = -1;
		if ((int)dirfd == TR_AT_FDCWD) {
			struct fs_struct *fs = BPF_CORE_READ(bpf_get_current_task_btf(), fs);
			pstart = tr_path_resolve((__u64)__builtin_preserve_access_index(&fs->pwd));
		} else {
			struct file *f = tr_fd_file((int)dirfd);
			if (f)
				pstart = tr_path_resolve((__u64)__builtin_preserve_access_index(&f->f_path));
		}
		if (pstart >= 0) {
			long end = tr_path_copy(idx, at, pstart);
			dirlen = end - at;
			if (dirlen > 1) { /* "/" alone needs no separator */
				at = end;
				buf[tr_mask(at, TR_DATA_MASK)] = '/';
				at++;
			} else {
				at = end;
			}
		}
	}
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return start;
	}
	long n = bpf_probe_read_user_str(buf + tr_mask(at, TR_DATA_MASK), TR_MAX_STR, (const void *)upath);
	if (n <= 0)
		return start;
	if (n >= TR_MAX_STR)
		tr_count(TR_C_TRUNCATED);
	at += n - 1;
	struct tr_arg_entry *e = (struct tr_arg_entry *)(buf + TR_CONTEXT_SIZE);
	idx &= TR_MAX_ARGS - 1;
	e[idx].offset = start;
	e[idx].length = at - start;
	return at;
}

/* ---- stage ---- */

#define TR_STAGE_MAX_RECORDS (TR_STAGE_DATA / TR_CONTEXT_SIZE + 1)

/* The staged records could not be output: each counts as lost for its event. */
static __always_inline void tr_stage_lost(struct tr_stage *st, __u64 len)
{
	__u64 at = 0;
	for (int i = 0; i < TR_STAGE_MAX_RECORDS && at < len; i++) {
		asm volatile("" : "+r"(at)); /* the bound below must be tested on this register */
		if (at > TR_STAGE_DATA - TR_CONTEXT_SIZE)
			break;
		struct tr_context *c = (struct tr_context *)(st->data + at);
		__u32 id = c->event_id;
		__u64 *lost = bpf_map_lookup_elem(&tr_lost, &id);
		if (lost)
			__sync_fetch_and_add(lost, 1); /* a timer flush may interrupt another */
		if (c->size < TR_CONTEXT_SIZE)
			break;
		at += c->size;
	}
}

/* The reader is woken once per wakeup_bytes (a power of two) produced: by
 * the output whose end crosses a multiple of it in the producer position;
 * otherwise it finds the records on its next timed read. Not "whenever
 * wakeup_bytes wait": that wakes on every output until the reader has run,
 * and each wakeup is an irq_work self-IPI, a VM exit on a virtual machine.
 * Producers on other CPUs can race the position read, so a crossing may
 * rarely be missed or doubled: the timed read covers a missed one. */
__noinline long tr_stage_flush(void)
{
	struct tr_stage *st = tr_stage_cur();
	if (!st)
		return 0;
	__u64 len = st->len;
	/* tested apart: clang would fold `len && len <= max` into one test on
	 * len - 1, a bound the verifier cannot carry over to len */
	if (len > TR_STAGE_DATA)
		len = 0; /* unreachable: records end below TR_STAGE_DATA */
	asm volatile("" : "+r"(len));
	if (len) {
		__u64 flags = 0;
		if (tr_cfg.wakeup_bytes) {
			__u64 prod = bpf_ringbuf_query(&tr_events, BPF_RB_PROD_POS);
			__u64 end = prod + len + 8; /* + BPF_RINGBUF_HDR_SZ */
			flags = (prod ^ end) >= tr_cfg.wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
		}
		if (bpf_ringbuf_output(&tr_events, st->data, len, flags))
			tr_stage_lost(st, len);
	}
	st->len = 0;
	return 0;
}

/* ---- scope ---- */

static __always_inline __u64 tr_field(struct tr_scope_cfg *cfg, __u64 m, int f, struct tr_scope_val *v)
{
	m &= ~cfg->eq[f] | (v ? v->eq : 0);
	if (v)
		m &= ~(cfg->ne[f] & v->ne);
	return m;
}

static __always_inline __u64 tr_field_u64(struct tr_scope_cfg *cfg, __u64 m, int f, __u32 ver, __u64 value)
{
	struct tr_scope_key_u64 key = { .field = f | ver, .value = value };
	return tr_field(cfg, m, f, bpf_map_lookup_elem(&tr_scope_u64, &key));
}

/* The policies among `r` whose [lo, hi] bounds on field `which` (0 uid,
 * 1 pid) hold `value`. Its own global function: one loop, verified once. */
__noinline __u64 tr_range_pass(__u32 which, __u32 value, __u64 r)
{
	__u32 zero = 0;
	struct tr_scope_cfg *cfg = bpf_map_lookup_elem(&tr_scope_cfg, &zero);
	if (!cfg)
		return 0;
	__u64 pass = 0;
	which &= 1;
	for (int i = 0; i < TR_MAX_POLICIES; i++) {
		__u32 lo = cfg->lo[which][i], hi = cfg->hi[which][i];
		if (((r >> i) & 1) && value >= lo && value <= hi)
			pass |= 1ull << i;
	}
	return pass;
}

static __always_inline __u64 tr_range(struct tr_scope_cfg *cfg, __u64 m, int which, __u32 value)
{
	__u64 r = cfg->range[which & 1] & m;
	if (!r)
		return m;
	return (m & ~r) | tr_range_pass(which, value, r);
}

/* Recomputes the current task's tree caches: the "=" and "!=" bitmaps of
 * its own process and of up to 32 ancestors. */
__noinline long tr_tree_cache(__u32 ver)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tr_task *t = bpf_task_storage_get(&tr_task_map, task, 0, 0);
	if (!t)
		return 0;
	__u64 teq = 0, tne = 0;
	struct task_struct *p = task;
	for (int i = 0; i < 32; i++) {
		struct tr_scope_key_u64 key = { .field = TR_F_TREE | ver, .value = BPF_CORE_READ(p, tgid) };
		struct tr_scope_val *v = bpf_map_lookup_elem(&tr_scope_u64, &key);
		if (v) {
			teq |= v->eq;
			tne |= v->ne;
		}
		struct task_struct *parent = BPF_CORE_READ(p, real_parent);
		if (!parent || parent == p || key.value <= 1)
			break;
		p = parent;
	}
	t->tree_eq = teq;
	t->tree_ne = tne;
	return 0;
}

__noinline __u64 tr_scope_match(__u64 want)
{
	__u32 zero = 0;
	struct tr_scope_cfg *cfg = bpf_map_lookup_elem(&tr_scope_cfg, &zero);
	if (!cfg)
		return 0;
	__u64 m = want & cfg->policies;
	__u32 fields = cfg->fields;
	if (!m || !fields)
		return m;
	__u64 wanted = m;
	__u32 ver = (cfg->ver & 1) << 8;
	struct task_struct *task = bpf_get_current_task_btf();
	struct tr_task *t = NULL;

	if (fields & ((1u << TR_F_TREE) | (1u << TR_F_EXE) | TR_F_BIT_FOLLOW)) {
		t = bpf_task_storage_get(&tr_task_map, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!t)
			tr_count(TR_C_NO_STORAGE);
	}
	if (fields & (1u << TR_F_UID)) {
		__u32 uid = (__u32)bpf_get_current_uid_gid();
		m = tr_field_u64(cfg, m, TR_F_UID, ver, uid);
		m = tr_range(cfg, m, 0, uid);
	}
	if (fields & (1u << TR_F_PID)) {
		__u32 pid = bpf_get_current_pid_tgid() >> 32;
		m = tr_field_u64(cfg, m, TR_F_PID, ver, pid);
		m = tr_range(cfg, m, 1, pid);
	}
	if (fields & (1u << TR_F_MNTNS))
		m = tr_field_u64(cfg, m, TR_F_MNTNS, ver, task->nsproxy->mnt_ns->ns.inum);
	if (fields & (1u << TR_F_PIDNS)) {
		struct pid *tpid = task->thread_pid;
		unsigned int level = tpid->level;
		m = tr_field_u64(cfg, m, TR_F_PIDNS, ver, BPF_CORE_READ(tpid, numbers[level].ns, ns.inum));
	}
	if (fields & (1u << TR_F_UTS)) {
		struct tr_scope_key_str key = { .field = TR_F_UTS | ver };
		bpf_probe_read_kernel_str(key.value, sizeof(key.value) - 1, task->nsproxy->uts_ns->name.nodename);
		m = tr_field(cfg, m, TR_F_UTS, bpf_map_lookup_elem(&tr_scope_str, &key));
	}
	if (fields & (1u << TR_F_COMM)) {
		struct tr_scope_key_str key = { .field = TR_F_COMM | ver };
		bpf_get_current_comm(key.value, sizeof(key.value));
		m = tr_field(cfg, m, TR_F_COMM, bpf_map_lookup_elem(&tr_scope_str, &key));
	}
	if (fields & ((1u << TR_F_CGROUP) | TR_F_BIT_CONTAINER)) {
		struct tr_scope_key_u64 key = { .field = TR_F_CGROUP | ver, .value = bpf_get_current_cgroup_id() };
		struct tr_scope_val *v = bpf_map_lookup_elem(&tr_scope_u64, &key);
		__u64 flags = v ? v->flags : 0;
		m = tr_field(cfg, m, TR_F_CGROUP, v);
		if (!(flags & TR_CG_CONTAINER))
			m &= ~(cfg->container | cfg->container_new | cfg->container_started);
		else
			m &= ~cfg->not_container;
		if (!(flags & TR_CG_NEW))
			m &= ~cfg->container_new;
		if (!(flags & TR_CG_STARTED))
			m &= ~cfg->container_started;
	}
	if (fields & (1u << TR_F_TREE)) {
		if (t && t->gen != cfg->gen) {
			tr_tree_cache(ver);
			t->gen = cfg->gen;
		}
		m &= ~cfg->eq[TR_F_TREE] | (t ? t->tree_eq : 0);
		m &= ~(cfg->ne[TR_F_TREE] & (t ? t->tree_ne : 0));
	}
	if (fields & (1u << TR_F_EXE)) {
		if (t && !(t->flags & TR_T_EXE_KNOWN)) {
			struct mm_struct *mm = task->mm;
			__u64 h = 0;
			if (mm) {
				struct file *exe = BPF_CORE_READ(mm, exe_file);
				long start = exe ? tr_path_resolve((__u64)__builtin_preserve_access_index(&exe->f_path)) : -1;
				h = start >= 0 ? tr_path_hash(start) : 0;
			}
			t->exe_hash = h;
			t->flags |= TR_T_EXE_KNOWN;
		}
		if (t)
			m = tr_field_u64(cfg, m, TR_F_EXE, ver, t->exe_hash);
		else
			m &= ~cfg->eq[TR_F_EXE];
	}
	if ((fields & TR_F_BIT_FOLLOW) && t && t->fgen == cfg->gen)
		m |= wanted & cfg->follow & t->followed;
	return m;
}
