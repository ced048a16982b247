/* Configuration shared by the kernel programs and the loader (native/).
 * Only fixed-width kernel UAPI types so both sides can include it.
 *
 * Two kinds:
 *  - struct tr_config: load-time constants in .rodata (`const volatile`):
 *    the loader writes them between open and load, the kernel freezes them;
 *  - the policy and scope maps below: written from user space at open and
 *    whenever the policies change (host/capture/kernel-scope.ts compiles
 *    them from Policy[]; the addon writes them). */
#pragma once

/* Needs __u32/__u64: include vmlinux.h (BPF) or <linux/types.h> (loader) first. */

/* Event ids 0..TR_MAX_EVENT_ID-1 index the per-event maps (syscalls < 512,
 * other events from 1000). */
#define TR_MAX_EVENT_ID 2048
#define TR_MAX_POLICIES 64

struct tr_config {
	__u32 ignore_tgid;  /* host tgid never traced (tracee itself); 0 = none */
	/* Wake the reader once per this many bytes produced, a power of two
	 * (it also reads on its own every flush interval): a wakeup per record
	 * would cost more than the record. 0 = the kernel's default (wake when
	 * the reader has caught up). */
	__u32 wakeup_bytes;
	__u32 exec_env;     /* 1: record env of sched_process_exec and envp of execve(at) */
	__u32 pad;
};

/* The record stage: one per CPU (32 KiB, the per-CPU value size limit).
 * Records are built in place after the staged ones and go to the ring
 * buffer together, several records per ring buffer record (common/stage.h):
 * reserving and committing a ring buffer record costs more than building a
 * syscall's record. The loader reads what is left when it stops. */
#define TR_STAGE_SIZE 32768
#define TR_STAGE_HEAD 16    /* struct tr_stage before data[] */
#define TR_STAGE_FLUSH 8192 /* output once this many bytes are staged */
#define TR_STAGE_DATA (TR_STAGE_SIZE - TR_STAGE_HEAD)

struct tr_stage {
	__u32 len;      /* bytes of whole records staged in data[] */
	__u32 building; /* a record is being built after them (an interrupt must not flush) */
	__u64 pad;
	__u8 data[TR_STAGE_DATA];
};

/* Scope fields (host/policy/model.ts ScopeField), as bit numbers of
 * tr_scope_cfg.fields and as the `field` of value-map keys. */
enum tr_scope_field {
	TR_F_UID = 0,    /* real uid */
	TR_F_PID = 1,    /* host tgid */
	TR_F_MNTNS = 2,  /* mount namespace inode */
	TR_F_PIDNS = 3,  /* pid namespace inode */
	TR_F_UTS = 4,    /* UTS nodename, first 15 bytes */
	TR_F_COMM = 5,   /* comm */
	TR_F_CGROUP = 6, /* container=<id>/!=<id>, by cgroup v2 id */
	TR_F_TREE = 7,   /* tree=<pid>: the process or one of its ancestors (host tgids) */
	TR_F_EXE = 8,    /* executable=<path>: FNV-1a 64 of the absolute path */
	TR_F_COUNT = 9,
};
/* Extra bits of tr_scope_cfg.fields: filters without a value map. */
#define TR_F_BIT_CONTAINER (1u << 16) /* container / container=new|started / not-container */
#define TR_F_BIT_FOLLOW (1u << 17)    /* some policy follows descendants */

/* Flags of a cgroup entry (value map, field TR_F_CGROUP). */
#define TR_CG_CONTAINER 1 /* the cgroup is a container's */
#define TR_CG_NEW 2       /* ...created after capture started */
#define TR_CG_STARTED 4   /* ...whose container has started */

/* The one entry of map tr_scope_cfg. Value-map keys carry `ver` so the
 * user space can write a new generation beside the live one, then switch. */
struct tr_scope_cfg {
	__u64 policies;          /* bitmap of configured policies */
	__u32 gen;               /* bumped on every change: per-task caches recompute */
	__u32 ver;               /* 0/1: value-map entries of this version are live */
	__u32 fields;            /* bit per tr_scope_field in use, plus TR_F_BIT_* */
	__u32 pad;
	__u64 eq[TR_F_COUNT];    /* policies requiring the value in their "=" set */
	__u64 ne[TR_F_COUNT];    /* policies requiring it outside their "!=" set */
	__u64 range[2];          /* [uid, pid]: policies with <, >, <=, >= bounds */
	__u64 follow;            /* policies that follow descendants */
	__u64 container;         /* policies: in a container */
	__u64 container_new;     /* policies: in a container created after start */
	__u64 container_started; /* policies: in a started container */
	__u64 not_container;     /* policies: not in a container */
	__u32 lo[2][TR_MAX_POLICIES]; /* [uid, pid] inclusive bounds per policy */
	__u32 hi[2][TR_MAX_POLICIES];
};

/* Value maps: per (version, field, value) the policies that list it. */
struct tr_scope_key_u64 {
	__u32 field; /* tr_scope_field | ver << 8 */
	__u32 pad;
	__u64 value; /* uid, pid, ns inode, cgroup id, exe path hash */
};
struct tr_scope_key_str {
	__u32 field; /* TR_F_UTS/TR_F_COMM | ver << 8 */
	char value[16]; /* NUL padded, at most 15 bytes */
};
struct tr_scope_val {
	__u64 eq;    /* policies whose "=" set has this value */
	__u64 ne;    /* policies whose "!=" set has it */
	__u64 flags; /* TR_CG_* for cgroups */
};

/* Counters of map tr_counters (per CPU): things that did not reach user
 * space whole, by cause. Ring-buffer-full losses are per event: tr_lost. */
enum tr_counter {
	TR_C_TRUNCATED = 0,  /* records with data cut at a limit (string, list, path, record size) */
	TR_C_NO_STORAGE = 1, /* syscalls not followed: no per-task storage (out of memory) */
	TR_C_COUNT = 4,
};
