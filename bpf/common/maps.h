/* Maps and load-time config shared by every program of tracee.bpf.o.
 *
 * Each concern is compiled to its own object and `bpftool gen object` links
 * them into one (see Makefile). Shared state is declared `extern` here and
 * defined exactly once, in maps.bpf.c (which defines TR_DEFINE_SHARED before
 * including this header), so the static linker resolves every reference to
 * the same ring buffer, scratch buffers and config. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../gen/events.h"
#include "config.h"

#ifdef TR_DEFINE_SHARED
#define TR_SHARED
#else
#define TR_SHARED extern
#endif

/* Record scratch: one per CPU; a record is built here, then copied to the
 * ring buffer. 32 KiB is the per-CPU value size limit. */
#define TR_REC_BUF_SIZE 32768
/* Path scratch: components are written backwards from the middle; the upper
 * half is slack so a masked offset plus a bounded length never overruns. */
#define TR_PATH_BUF_SIZE 8192

struct tr_rec_buf { __u8 data[TR_REC_BUF_SIZE]; };
struct tr_path_buf { __u8 data[TR_PATH_BUF_SIZE]; };

/* Records go to user space through this ring buffer; the loader resizes it
 * (bpf_map__set_max_entries) before load. */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} tr_events SEC(".maps");

/* Records that did not fit in the ring buffer, counted per CPU (no atomics). */
TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tr_lost SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_rec_buf);
} tr_rec_scratch SEC(".maps");

TR_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_path_buf);
} tr_path_scratch SEC(".maps");

/* Filled by the loader between open and load (native/ finds it by name in
 * the .rodata BTF datasec). */
#ifdef TR_DEFINE_SHARED
const volatile struct tr_config tr_cfg = {};
#else
extern const volatile struct tr_config tr_cfg;
#endif

/* True when events with this id were enabled by the loader. With a constant
 * id the verifier resolves this from the frozen rodata and drops the branch. */
static __always_inline bool tr_event_enabled(__u32 id)
{
	if (id >= TR_MAX_EVENT_ID)
		return false;
	/* clang rewrites the range check into a form the verifier cannot
	 * follow; hiding the index from clang (empty asm) keeps the mask, which
	 * the verifier does follow. */
	__u32 word = id / 64;
	asm volatile("" : "+r"(word));
	return (tr_cfg.enabled[word & (TR_ENABLED_WORDS - 1)] >> (id % 64)) & 1;
}

/* Tracee must never trace itself: its own reads and writes would feed back. */
static __always_inline bool tr_ignored_current(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return tr_cfg.ignore_tgid && tgid == tr_cfg.ignore_tgid;
}
