#include "programs.h"

#include <bpf/btf.h>


const std::vector<ProgramSpec>& Programs() {
  // Event ids: bpf/gen/events.h (generated from host/events/catalogue.ts).
  static const std::vector<ProgramSpec> programs = {
      // Syscall events and the events derived from syscalls: at exit, and at
      // enter only for what needs it (each attached program costs every
      // syscall on the machine). The syscall flags say which syscall events.
      {"tr_sys_enter", {1014, 1015}, kAtEnterSyscalls, Requires::kNothing, false, 0},
      {"tr_sys_exit", {1010, 1011, 1012, 1013, 1014, 1016, 1017}, kAtExitSyscalls, Requires::kNothing, false, 0},
      // Flush the per-CPU record stage the two above write to (bpf/common/stage.h).
      {"tr_stage_switch", {}, kWithSyscallPrograms, Requires::kNothing, false, 0},
      {"tr_stage_tick", {}, kWithSyscallPrograms, Requires::kNothing, false, 0},
      {"tr_sched_exec", {1003}, kNoSyscalls, Requires::kNothing, false, kScopeExec},
      {"tr_sched_prepare_exec", {1003}, kNoSyscalls, Requires::kPrepareExec, true, 0},  // prev_comm only
      {"tr_sched_fork", {1002}, kNoSyscalls, Requires::kNothing, false, kScopeFork},
      {"tr_sched_exit", {1004}, kNoSyscalls, Requires::kExitWithGroupDead, true, 0},
      {"tr_sched_exit_legacy", {1004}, kNoSyscalls, Requires::kExitWithoutGroupDead, true, 0},
      {"tr_cgroup_mkdir", {1019}, kNoSyscalls, Requires::kCgroupTracepoints, false, 0},
      {"tr_cgroup_rmdir", {1020}, kNoSyscalls, Requires::kCgroupTracepoints, false, 0},
      {"tr_module_load", {1018}, kNoSyscalls, Requires::kModuleLoad, false, 0},
      // security_inode_unlink's inode/dev/ctime only
      {"tr_unlink_ctime_set", {1012}, kNoSyscalls, Requires::kCtimeSet, true, 0},
      {"tr_unlink_ctime_skip", {1012}, kNoSyscalls, Requires::kCtimeMultigrain, true, 0},
      {"tr_unlink_ctime_xchg", {1012}, kNoSyscalls, Requires::kCtimeMultigrain, true, 0},
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
    case Requires::kCgroupTracepoints:
      return TracepointParams(vmlinux, "cgroup_mkdir") >= 0 && TracepointParams(vmlinux, "cgroup_rmdir") >= 0;
    case Requires::kModuleLoad:
      return TracepointParams(vmlinux, "module_load") >= 0;
    case Requires::kCtimeSet:
      return TracepointParams(vmlinux, "inode_set_ctime_to_ts") >= 0;
    case Requires::kCtimeMultigrain:
      return TracepointParams(vmlinux, "ctime_xchg_skip") >= 0 && TracepointParams(vmlinux, "ctime_ns_xchg") >= 0;
  }
  return false;
}

std::string Missing(Requires what) {
  switch (what) {
    case Requires::kNothing: return "";
    case Requires::kPrepareExec: return "tracepoint sched_prepare_exec (Linux 6.10+)";
    case Requires::kExitWithGroupDead: return "tracepoint sched_process_exit(task, group_dead)";
    case Requires::kExitWithoutGroupDead: return "tracepoint sched_process_exit(task)";
    case Requires::kCgroupTracepoints: return "tracepoints cgroup_mkdir/cgroup_rmdir (cgroups)";
    case Requires::kModuleLoad:
      return "tracepoint module_load: the kernel has no loadable module support (CONFIG_MODULES off)";
    case Requires::kCtimeSet: return "tracepoint inode_set_ctime_to_ts (Linux 6.6+)";
    case Requires::kCtimeMultigrain: return "tracepoints ctime_xchg_skip/ctime_ns_xchg (Linux 6.13+)";
  }
  return "";
}

// The host checks ids against the catalogue; here every id below 512 is a
// syscall (bpf/gen/syscall_args.h has the recipes; TR_SC_MAX is 512).
bool IsSyscallEvent(uint32_t id) { return id < 512; }

bool AtEnter(uint32_t id) {
  // Syscalls that do not return (host/events/generate.ts SC_EMIT_AT_ENTER):
  // rt_sigreturn, execve, exit, exit_group, execveat.
  return id == 15 || id == 59 || id == 60 || id == 231 || id == 322;
}

bool IsKernelEvent(uint32_t id) {
  if (IsSyscallEvent(id)) return true;
  for (const auto& p : Programs())
    for (uint32_t e : p.events)
      if (e == id) return true;
  return false;
}

std::vector<uint32_t> EnterSyscallsOf(uint32_t id) {
  if (IsSyscallEvent(id)) return AtEnter(id) ? std::vector<uint32_t>{id} : std::vector<uint32_t>{};
  switch (id) {
    case 1014: return {10};   // mem_prot_alert: mprotect's previous protection
    case 1015: return {42};   // security_socket_connect: connect
  }
  return {};
}

std::vector<uint32_t> ExitSyscallsOf(uint32_t id) {
  if (IsSyscallEvent(id)) return AtEnter(id) ? std::vector<uint32_t>{} : std::vector<uint32_t>{id};
  switch (id) {
    case 1010: return {2, 257, 437, 85};        // security_file_open: open, openat, openat2, creat
    case 1011: return {82, 264, 316};           // security_inode_rename: rename, renameat, renameat2
    case 1012: return {87, 263};                // security_inode_unlink: unlink, unlinkat
    case 1013: return {1, 18, 20, 296, 328};    // magic_write: write, pwrite64, writev, pwritev, pwritev2
    case 1014: return {9, 10};                  // mem_prot_alert: mmap, mprotect
    case 1016: return {32, 33, 292};            // socket_dup: dup, dup2, dup3
    case 1017: return {165};                    // security_sb_mount: mount
  }
  return {};
}
