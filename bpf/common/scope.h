/* Scope filters in the kernel (config.h describes the maps). */
#pragma once

#include "maps.h"

/* The policies among `want` whose scope the current task matches: every
 * filtered field must pass (values of one expression OR'd, expressions AND'd
 * by the user space compiler), or the task follows a matched ancestor in a
 * policy with `follow`. Global function in lib.bpf.c. */
extern __u64 tr_scope_match(__u64 want);

/* tr_scope_match without the call when no policy filters on anything (the
 * common case, checked for every traced syscall): the policies that want it. */
static __always_inline __u64 tr_scope(__u64 want)
{
	__u32 zero = 0;
	struct tr_scope_cfg *cfg = bpf_map_lookup_elem(&tr_scope_cfg, &zero);
	if (!cfg)
		return 0;
	if (!cfg->fields)
		return want & cfg->policies;
	return tr_scope_match(want);
}
