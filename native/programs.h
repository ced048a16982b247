// Which programs of bpf/build/tracee.bpf.o serve which catalogue events,
// which kernel each named variant needs, and which syscalls each derived
// event is made from. Only programs of enabled events (or of the scope
// filters in use) are loaded and attached. Keep in sync with the SEC()
// programs in bpf/*.bpf.c.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct btf;

enum class Requires {
  kNothing,
  kPrepareExec,             // tp sched_prepare_exec exists (Linux 6.10+)
  kExitWithGroupDead,       // sched_process_exit(task, group_dead)
  kExitWithoutGroupDead,    // sched_process_exit(task)
  kCgroupTracepoints,       // cgroup_mkdir/cgroup_rmdir
  kModuleLoad,              // tp module_load (CONFIG_MODULES)
  kCtimeSet,                // tp inode_set_ctime_to_ts
  kCtimeMultigrain,         // tps ctime_xchg_skip, ctime_ns_xchg (6.13+)
};

// Programs needed by scope filters regardless of the events (fork keeps the
// followed policies and the executable, exec the executable).
enum ScopeNeed : uint32_t { kScopeNone = 0, kScopeFork = 1, kScopeExec = 2 };

// Which syscall events a program serves. kWithSyscallPrograms: none itself,
// but it is needed whenever a program serving some is (the per-CPU record
// stage's flushes, bpf/common/stage.h).
enum SyscallSet { kNoSyscalls, kAtEnterSyscalls, kAtExitSyscalls, kWithSyscallPrograms };

struct ProgramSpec {
  const char* name;
  std::vector<uint32_t> events;  // needed when any of these is enabled
  SyscallSet syscalls;           // ...or any syscall event of this set
  Requires requires_;
  bool optional;  // the event still works (with less data) without it
  uint32_t scope; // ScopeNeed bits that also need it
};

const std::vector<ProgramSpec>& Programs();

// True when the running kernel (its vmlinux BTF) can run this variant.
bool KernelHas(const struct btf* vmlinux, Requires what);
// What the kernel lacks for `what`, for messages.
std::string Missing(Requires what);

// Syscall events: ids below TR_SC_MAX (512).
bool IsSyscallEvent(uint32_t id);
// True when some program serves this event id.
bool IsKernelEvent(uint32_t id);
// Syscalls whose event is emitted at enter (they do not return).
bool AtEnter(uint32_t id);
// The syscalls whose enter / exit an event needs (the syscall itself for a syscall event).
std::vector<uint32_t> EnterSyscallsOf(uint32_t event_id);
std::vector<uint32_t> ExitSyscallsOf(uint32_t event_id);
