/* The per-CPU record stage (struct tr_stage, common/maps.h).
 *
 * A record is built in place right after the records already staged on its
 * CPU (record.h), then either left there (a syscall's records: the hot
 * path) or flushed at once with them (process lifecycle and cgroup records,
 * which the host's process tree and container table must see in the order
 * they happened across CPUs). A flush outputs every staged record as one
 * ring buffer record; user space counts them and copies them into its
 * batches as they are (native/batcher.cc).
 *
 * What flushes a stage:
 *   - its records reaching TR_STAGE_FLUSH bytes, or a record that is not
 *     staged (record.h, tr_rec_submit);
 *   - the CPU switching tasks (stage.bpf.c, sched_switch): a task's records
 *     on one CPU reach the ring buffer before it can run on another, so each
 *     task's records stay in order, and an idle CPU holds nothing back;
 *   - a timer interrupt while no record is being built (stage.bpf.c,
 *     hrtimer_expire_entry): a task that keeps its CPU without syscalls
 *     holds its records back at most a tick;
 *   - user space, after detaching, reads what is left (capture stop).
 *
 * Interrupts: the timer flush runs in an interrupt, which can land while a
 * record is being built on the same CPU; `building` tells it to leave the
 * stage alone. Everything else runs with preemption disabled and cannot
 * nest. */
#pragma once

#include "maps.h"

/* Compiler barrier: the stores around it reach memory in program order, as
 * an interrupt on the same CPU must see them. */
#define tr_barrier() asm volatile("" ::: "memory")

static __always_inline struct tr_stage *tr_stage_cur(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tr_stage, &zero);
}

/* Outputs this CPU's staged records; counts them in tr_lost when the ring
 * buffer is full. Global function (lib.bpf.c): verified once. */
extern long tr_stage_flush(void);

/* Flushes unless empty (the common case at a task switch: no call). */
static __always_inline void tr_stage_flush_any(bool from_interrupt)
{
	struct tr_stage *st = tr_stage_cur();
	if (!st || !st->len)
		return;
	if (from_interrupt && st->building)
		return;
	tr_stage_flush();
}
