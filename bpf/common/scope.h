/* Scope filters in the kernel (config.h describes the maps). */
#pragma once

#include "maps.h"

/* The policies among `want` whose scope the current task matches: every
 * filtered field must pass (values of one expression OR'd, expressions AND'd
 * by the user space compiler), or the task follows a matched ancestor in a
 * policy with `follow`. Global function in lib.bpf.c. */
extern __u64 tr_scope_match(__u64 want);

