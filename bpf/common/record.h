/* Builds one flat record (docs/abi/flat-encoding.md) in this CPU's stage,
 * after the records staged there (common/stage.h):
 *
 *   [tr_context 152][argument table: nargs x {u32 off, u32 len}][data...]
 *
 * Append helpers take the argument index from bpf/gen/events.h and write the
 * value at the current data end. An argument that cannot be read stays
 * absent (offset 0). Every variable offset is masked before use so the
 * verifier can prove writes stay inside the stage: a record starts below
 * TR_STAGE_FLUSH, an append below TR_DATA_LIMIT and writes at most
 * TR_MAX_STR bytes. Data past TR_DATA_LIMIT is dropped (the argument stays
 * absent or, for a []string, the list is cut short); every such cut, like a
 * string longer than TR_MAX_STR or a list longer than TR_MAX_ARGV, is
 * counted in tr_counters[TR_C_TRUNCATED] so nothing is lost silently. */
#pragma once

#include "maps.h"
#include "context.h"
#include "stage.h"
#include <bpf/bpf_core_read.h>

#define TR_DATA_LIMIT 16384          /* appends must start below this */
#define TR_DATA_MASK (TR_DATA_LIMIT - 1)
#define TR_MAX_STR 4096              /* longest string copied (incl. the NUL read) */
#define TR_MAX_ARGV 20               /* entries kept from an argv array */
#define TR_MAX_ENV 64                /* entries kept from an environment */
#define TR_MAX_ARGS 32               /* a record has fewer argument table entries than this (power of two) */
#define TR_REC_MAX (TR_STAGE_DATA - TR_STAGE_FLUSH) /* record bytes a stage has room for after the staged ones */
_Static_assert(TR_MAX_EVENT_ARGS < TR_MAX_ARGS, "an event in the catalogue has more arguments than TR_MAX_ARGS");
_Static_assert(TR_DATA_LIMIT + TR_MAX_STR + 8 <= TR_REC_MAX, "a record can outgrow the stage");
_Static_assert((TR_STAGE_FLUSH & (TR_STAGE_FLUSH - 1)) == 0, "TR_STAGE_FLUSH is a mask bound: a power of two");

struct tr_rec {
	struct tr_stage *stage; /* this CPU's */
	__u8 *buf;   /* the record's start in the stage */
	__u32 off;   /* end of the data written so far */
	__u32 nargs; /* argument table entries */
};

/* Masks a value the verifier must see bounded. The empty asm hides the value
 * from clang, which would otherwise drop the mask as redundant with an
 * earlier range check that the verifier cannot follow. */
#define tr_mask(v, mask)                        \
	({                                      \
		__u64 __m = (v);                \
		asm volatile("" : "+r"(__m));   \
		__m & (mask);                   \
	})

/* Pointer to data offset `at` (< TR_DATA_LIMIT) of the record. */
static __always_inline __u8 *tr_data_ptr(struct tr_rec *r, __u32 at)
{
	return r->buf + tr_mask(at, TR_DATA_MASK);
}

static __always_inline struct tr_context *tr_ctx(struct tr_rec *r)
{
	return (struct tr_context *)r->buf;
}

/* Where this CPU's next record starts: after the staged ones, which are
 * fewer than TR_STAGE_FLUSH bytes between records (the mask only shows the
 * verifier that). For the global functions that append to the record being
 * built. */
static __always_inline __u8 *tr_stage_next(struct tr_stage *st)
{
	return st->data + tr_mask(st->len, TR_STAGE_FLUSH - 1);
}

static __always_inline __u8 *tr_rec_buf(void)
{
	struct tr_stage *st = tr_stage_cur();
	return st ? tr_stage_next(st) : NULL;
}

/* Starts a record for the current task, matching `policies` (the record's
 * matchedPolicies); returns false if no stage (cannot happen for a 1-entry
 * per-CPU array, but the verifier needs the check). */
static __always_inline bool tr_rec_begin(struct tr_rec *r, __u32 event_id, __u32 nargs, __u64 policies)
{
	r->stage = tr_stage_cur();
	if (!r->stage)
		return false;
	/* Before reading where the record starts: a timer flush between the
	 * two would empty the stage under it. */
	r->stage->building = 1;
	tr_barrier();
	r->buf = tr_stage_next(r->stage);
	nargs &= TR_MAX_ARGS - 1;
	r->nargs = nargs;
	r->off = TR_CONTEXT_SIZE + nargs * TR_ARG_ENTRY_SIZE;
	tr_fill_context(tr_ctx(r), event_id);
	tr_ctx(r)->args_num = nargs;
	tr_ctx(r)->matched_policies = policies;
	/* All arguments start absent; nargs is a constant at every call site. */
	/* volatile: clang would turn a loop of variable length into memset */
	volatile __u64 *table = (volatile __u64 *)(r->buf + TR_CONTEXT_SIZE);
	for (__u32 i = 0; i < TR_MAX_ARGS && i < nargs; i++)
		table[i] = 0;
	return true;
}

/* Records argument `idx` as the `len` bytes at offset `at`. */
static __always_inline void tr_arg_set(struct tr_rec *r, __u32 idx, __u32 at, __u32 len)
{
	struct tr_arg_entry *e = (struct tr_arg_entry *)(r->buf + TR_CONTEXT_SIZE);
	idx &= TR_MAX_ARGS - 1;
	e[idx].offset = at;
	e[idx].length = len;
}

/* Appends a fixed-width value (integers, pointers, bool) and records it. */
static __always_inline void tr_put_raw(struct tr_rec *r, __u32 idx, const void *v, __u32 size)
{
	__u32 at = r->off;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return;
	}
	/* size is a small constant: the verifier inlines this copy. */
	__builtin_memcpy(tr_data_ptr(r, at), v, size);
	tr_arg_set(r, idx, at, size);
	r->off = at + size;
}

#define TR_PUT_INT(r, idx, type, value)                       \
	do {                                                  \
		type __v = (type)(value);                     \
		tr_put_raw((r), (idx), &__v, sizeof(__v));    \
	} while (0)

#define tr_put_s32(r, idx, v) TR_PUT_INT(r, idx, __s32, v)
#define tr_put_u32(r, idx, v) TR_PUT_INT(r, idx, __u32, v)
#define tr_put_u16(r, idx, v) TR_PUT_INT(r, idx, __u16, v)
#define tr_put_s64(r, idx, v) TR_PUT_INT(r, idx, __s64, v)
#define tr_put_u64(r, idx, v) TR_PUT_INT(r, idx, __u64, v)
#define tr_put_bool(r, idx, v) TR_PUT_INT(r, idx, __u8, (v) ? 1 : 0)

/* Copies a NUL-terminated string to `at` (masked); returns its length
 * without the NUL, or a negative error. */
static __always_inline long tr_read_str(struct tr_rec *r, __u32 at, const void *src, bool user)
{
	long n;
	if (user)
		n = bpf_probe_read_user_str(tr_data_ptr(r, at), TR_MAX_STR, src);
	else
		n = bpf_probe_read_kernel_str(tr_data_ptr(r, at), TR_MAX_STR, src);
	if (n >= TR_MAX_STR)
		tr_count(TR_C_TRUNCATED);
	return n > 0 ? n - 1 : (n == 0 ? -1 : n);
}

/* Appends a string (raw bytes, no NUL) read from user or kernel memory. */
static __always_inline void tr_put_str(struct tr_rec *r, __u32 idx, const void *src, bool user)
{
	__u32 at = r->off;
	if (!src)
		return;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return;
	}
	long len = tr_read_str(r, at, src, user);
	if (len < 0)
		return;
	tr_arg_set(r, idx, at, len);
	r->off = at + len;
}

#define tr_put_user_str(r, idx, src) tr_put_str(r, idx, (const void *)(src), true)
#define tr_put_kernel_str(r, idx, src) tr_put_str(r, idx, (const void *)(src), false)

/* []string header and entries: u32 count, then count x {u32 len, bytes}.
 * Returns the offset of the count, or -1 when there is no room. */
static __always_inline long tr_strs_begin(struct tr_rec *r)
{
	__u32 at = r->off;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return -1;
	}
	*(__u32 *)(tr_data_ptr(r, at)) = 0;
	r->off = at + 4;
	return at;
}

/* Appends one list entry read from `src`; false when it could not be added. */
static __always_inline bool tr_strs_add(struct tr_rec *r, const void *src, bool user, long *len_out)
{
	__u32 at = r->off;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return false;
	}
	long len = tr_read_str(r, at + 4, src, user);
	if (len < 0)
		return false;
	*(__u32 *)(tr_data_ptr(r, at)) = len;
	r->off = at + 4 + len;
	*len_out = len;
	return true;
}

static __always_inline void tr_strs_end(struct tr_rec *r, __u32 idx, long head, __u32 count)
{
	*(__u32 *)(tr_data_ptr(r, head)) = count;
	tr_arg_set(r, idx, head, r->off - head);
}

/* Appends a user argv-style array (NULL-terminated char *[]), first
 * TR_MAX_ARGV entries. */
static __always_inline void tr_put_user_argv(struct tr_rec *r, __u32 idx, const char *const *argv)
{
	if (!argv)
		return;
	long head = tr_strs_begin(r);
	if (head < 0)
		return;
	__u32 count = 0;
	const char *p = NULL;
	for (int i = 0; i < TR_MAX_ARGV; i++) {
		long len;
		p = NULL;
		if (bpf_probe_read_user(&p, sizeof(p), &argv[i]) || !p)
			break;
		if (!tr_strs_add(r, p, true, &len))
			break;
		count++;
	}
	if (count == TR_MAX_ARGV) {
		p = NULL;
		if (!bpf_probe_read_user(&p, sizeof(p), &argv[TR_MAX_ARGV]) && p)
			tr_count(TR_C_TRUNCATED);
	}
	tr_strs_end(r, idx, head, count);
}

/* Appends the NUL-separated strings of a user memory region [start, end),
 * e.g. a process's arguments at mm->arg_start..arg_end. */
#define tr_put_user_strings_region(r, idx, start, end) tr_put_user_strings_region_n(r, idx, start, end, TR_MAX_ARGV)
static __always_inline void tr_put_user_strings_region_n(struct tr_rec *r, __u32 idx,
							 unsigned long start, unsigned long end, const int max)
{
	if (!start || end <= start)
		return;
	long head = tr_strs_begin(r);
	if (head < 0)
		return;
	__u32 count = 0;
	unsigned long p = start;
	for (int i = 0; i < max && p < end; i++) {
		long len;
		if (!tr_strs_add(r, (const void *)p, true, &len))
			break;
		count++;
		p += len + 1;
	}
	if (p < end && count == max)
		tr_count(TR_C_TRUNCATED);
	tr_strs_end(r, idx, head, count);
}

/* Appends `len` raw bytes (at most TR_MAX_STR) from user memory. */
static __always_inline void tr_put_user_bytes(struct tr_rec *r, __u32 idx, const void *src, __u32 len)
{
	__u32 at = r->off;
	if (!src || !len)
		return;
	if (at >= TR_DATA_LIMIT) {
		tr_count(TR_C_TRUNCATED);
		return;
	}
	if (len > TR_MAX_STR) {
		len = TR_MAX_STR;
		tr_count(TR_C_TRUNCATED);
	}
	__u32 n = tr_mask(len - 1, TR_MAX_STR - 1) + 1; /* 1..TR_MAX_STR, as the verifier sees it too */
	if (bpf_probe_read_user(tr_data_ptr(r, at), n, src))
		return;
	tr_arg_set(r, idx, at, n);
	r->off = at + n;
}

/* Ends the record (size rounded up to 8): stages it and, when `flush` or
 * the stage is full enough, outputs the stage (common/stage.h). */
static __always_inline void tr_rec_end(struct tr_rec *r, bool flush)
{
	struct tr_stage *st = r->stage;
	__u32 end = r->off & (TR_STAGE_SIZE - 1);
	__u32 size = (r->off + 7) & ~7u;

	if (size > TR_REC_MAX || end > TR_REC_MAX - 8) {
		st->building = 0; /* unreachable: appends end below 16 KiB + 4 KiB */
		return;
	}
	/* Zero the alignment padding so no stale stage bytes leave the kernel. */
	*(__u64 *)(r->buf + end) = 0;
	tr_ctx(r)->size = size;
	st->len += size;
	if (flush || st->len >= TR_STAGE_FLUSH)
		tr_stage_flush();
	tr_barrier();
	st->building = 0;
}

/* A syscall's records: staged (the hot path; common/stage.h says when they
 * reach user space). */
static __always_inline void tr_rec_stage(struct tr_rec *r)
{
	tr_rec_end(r, false);
}

/* Process lifecycle and cgroup records: out at once, with the staged ones
 * before them, so user space sees them in order across CPUs. */
static __always_inline void tr_rec_submit(struct tr_rec *r)
{
	tr_rec_end(r, true);
}
