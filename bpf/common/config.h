/* Load-time configuration of the kernel programs, shared with the loader
 * (native/). Only fixed-width kernel UAPI types so both sides can include it.
 * The BPF side reads it as `const volatile` rodata: the loader writes it
 * between open and load, the kernel freezes it, and the verifier then knows
 * every value as a constant (disabled branches are pruned). */
#pragma once

/* Needs __u32/__u64: include vmlinux.h (BPF) or <linux/types.h> (loader) first. */

/* Event ids 0..TR_MAX_EVENT_ID-1 fit the enabled bitmap (syscalls < 512,
 * tracepoint events from 1000). */
#define TR_MAX_EVENT_ID 2048
#define TR_ENABLED_WORDS (TR_MAX_EVENT_ID / 64)

struct tr_config {
	__u32 ignore_tgid;  /* host tgid never traced (tracee itself); 0 = none */
	/* Wake the reader only once this much data waits in the ring buffer
	 * (it also reads on its own every flush interval): a wakeup per record
	 * would cost more than the record. 0 = wake for every record. */
	__u32 wakeup_bytes;
	__u64 enabled[TR_ENABLED_WORDS]; /* bit (id % 64) of word id / 64 */
};
