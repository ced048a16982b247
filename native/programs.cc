#include "programs.h"

#include <bpf/btf.h>

#include <string>

const std::vector<ProgramSpec>& Programs() {
  // Event ids: bpf/gen/events.h (generated from host/events/catalogue.ts).
  static const std::vector<ProgramSpec> programs = {
      // execve/execveat are emitted at enter; ptrace/memfd_create save args there.
      {"tr_sys_enter", {59, 101, 319, 322}, Requires::kNothing, false},
      {"tr_sys_exit", {101, 319}, Requires::kNothing, false},
      {"tr_sched_exec", {1003}, Requires::kNothing, false},
      {"tr_sched_prepare_exec", {1003}, Requires::kPrepareExec, true},  // prev_comm only
      {"tr_sched_fork", {1002}, Requires::kNothing, false},
      {"tr_sched_exit", {1004}, Requires::kExitWithGroupDead, true},
      {"tr_sched_exit_legacy", {1004}, Requires::kExitWithoutGroupDead, true},
  };
  return programs;
}

namespace {
// Number of parameters of the tracepoint's BTF prototype
// (typedef btf_trace_<tp> -> pointer -> func_proto), -1 if absent. The first
// parameter is the tracepoint's own void *data.
int TracepointParams(const struct btf* b, const char* tp) {
  std::string name = std::string("btf_trace_") + tp;
  int id = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  const struct btf_type* t = btf__type_by_id(b, id);
  t = btf__type_by_id(b, t->type);  // pointer
  if (!t || !btf_is_ptr(t)) return -1;
  t = btf__type_by_id(b, t->type);  // func_proto
  if (!t || !btf_is_func_proto(t)) return -1;
  return btf_vlen(t);
}
}  // namespace

bool KernelHas(const struct btf* vmlinux, Requires what) {
  switch (what) {
    case Requires::kNothing:
      return true;
    case Requires::kPrepareExec:
      return TracepointParams(vmlinux, "sched_prepare_exec") >= 0;
    case Requires::kExitWithGroupDead:
      return TracepointParams(vmlinux, "sched_process_exit") == 3;
    case Requires::kExitWithoutGroupDead:
      return TracepointParams(vmlinux, "sched_process_exit") == 2;
  }
  return false;
}

bool IsKernelEvent(uint32_t id) {
  for (const auto& p : Programs())
    for (uint32_t e : p.events)
      if (e == id) return true;
  return false;
}
