// Which programs of bpf/build/tracee.bpf.o serve which catalogue events, and
// which kernel each named variant needs. Only programs of enabled events are
// loaded and attached. Keep in sync with the SEC() programs in bpf/*.bpf.c.
#pragma once

#include <cstdint>
#include <vector>

struct btf;

enum class Requires {
  kNothing,
  kPrepareExec,             // tp sched_prepare_exec exists (Linux 6.10+)
  kExitWithGroupDead,       // sched_process_exit(task, group_dead)
  kExitWithoutGroupDead,    // sched_process_exit(task)
};

struct ProgramSpec {
  const char* name;
  std::vector<uint32_t> events;  // needed when any of these is enabled
  Requires requires_;
  bool optional;  // the event still works (with less data) without it
};

const std::vector<ProgramSpec>& Programs();

// True when the running kernel (its vmlinux BTF) can run this variant.
bool KernelHas(const struct btf* vmlinux, Requires what);

// True when some program serves this event id.
bool IsKernelEvent(uint32_t id);
