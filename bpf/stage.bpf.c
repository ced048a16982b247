// SPDX-License-Identifier: GPL-2.0
/* The two programs that flush a CPU's record stage besides its own records
 * (common/stage.h): at every task switch, and at timer interrupts. Attached
 * with the syscall programs, the only ones that stage. */
#include "common/stage.h"
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int tr_stage_switch(void *ctx)
{
	tr_stage_flush_any(false);
	return 0;
}

SEC("tp_btf/hrtimer_expire_entry")
int tr_stage_tick(void *ctx)
{
	tr_stage_flush_any(true);
	return 0;
}
