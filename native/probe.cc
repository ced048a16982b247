#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "programs.h"

namespace {
std::string Why(int ret) {
  if (ret == 0) return "not supported by this kernel";
  return strerror(ret < 0 ? -ret : ret);
}

// libbpf 1.1's prog-type probe needs no attach target, which tp_btf
// (BPF_PROG_TYPE_TRACING) does: load `return 0` attached to a tracepoint
// found in the kernel's BTF.
int ProbeTpBtf(const struct btf* vmlinux, std::string* detail) {
  int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF);
  if (id < 0) {
    *detail = "tracepoint sched_process_exec not in kernel BTF";
    return -1;
  }
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},  // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                  // exit
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
              .attach_btf_id = static_cast<__u32>(id));
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "trc_probe", "GPL", insns, 2, &opts);
  if (fd < 0) {
    *detail = std::string("loading a tp_btf program: ") + strerror(errno);
    return -1;
  }
  close(fd);
  return 0;
}

bool KallsymsHas(const char* name) {
  std::ifstream in("/proc/kallsyms");
  std::string addr, type, sym;
  while (in >> addr >> type >> sym) {
    if (sym == name) return true;
    in.ignore(1 << 20, '\n');
  }
  return false;
}
}  // namespace

std::vector<ProbeResult> ProbeKernel() {
  std::vector<ProbeResult> out;
  bool btf_file = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  out.push_back({"btf", btf_file, btf_file ? "" : "/sys/kernel/btf/vmlinux missing (kernel needs CONFIG_DEBUG_INFO_BTF=y)", {}, false});
  struct btf* vmlinux = btf_file ? btf__load_vmlinux_btf() : nullptr;

  // Tracepoints the kernel has (BTF, no root needed).
  auto tp = [&](const char* feature, Requires what, std::vector<uint32_t> events, bool degrades) {
    bool ok = vmlinux && KernelHas(vmlinux, what);
    out.push_back({feature, ok, ok ? "" : (vmlinux ? Missing(what) : "needs kernel BTF"), std::move(events), degrades});
  };
  tp("sched_prepare_exec", Requires::kPrepareExec, {1003}, true);
  tp("cgroup_tracepoints", Requires::kCgroupTracepoints, {1019, 1020}, false);
  tp("module_load_tracepoint", Requires::kModuleLoad, {1018}, false);
  bool ctime = vmlinux && (KernelHas(vmlinux, Requires::kCtimeSet) || KernelHas(vmlinux, Requires::kCtimeMultigrain));
  out.push_back({"ctime_tracepoints", ctime,
                 ctime ? "" : "tracepoints inode_set_ctime_to_ts/ctime_ns_xchg (Linux 6.6+): unlink's inode, dev, ctime",
                 {1012}, true});
  {
    // hooked_syscall / hooked_proc_fops: not derived here; say what the kernel offers.
    bool modules = access("/proc/modules", R_OK) == 0;
    bool table = KallsymsHas("sys_call_table");
    bool x64 = KallsymsHas("x64_sys_call");
    std::string why = "needs kernel symbol tables and reads of kernel memory (Tracee uses a kprobe-triggered scan);"
                      " not implemented with tracepoints only";
    if (!table) why += "; sys_call_table is not in /proc/kallsyms (CONFIG_KALLSYMS_ALL off)";
    if (x64) why += "; syscalls are dispatched through x64_sys_call (Linux 6.9+), not the table";
    if (!modules) why += "; the kernel has no loadable modules (CONFIG_MODULES off), so no module can hook it";
    out.push_back({"kernel_symbol_scan", false, why, {1021, 1022}, false});
  }

  if (geteuid() != 0) {
    // bpf() answers EPERM to everything: nothing can be told apart.
    for (const char* f : {"ringbuf", "raw_tracepoint", "tp_btf", "task_storage", "find_vma"})
      out.push_back({f, false, "not probed: bpf() needs root", {}, false});
    if (vmlinux) btf__free(vmlinux);
    return out;
  }
  int rb = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
  out.push_back({"ringbuf", rb == 1, rb == 1 ? "" : "BPF ring buffer map (Linux 5.8+): " + Why(rb), {}, false});

  int raw = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr);
  out.push_back({"raw_tracepoint", raw == 1, raw == 1 ? "" : "raw tracepoint programs (Linux 4.17+): " + Why(raw), {}, false});

  std::string detail;
  bool tpb = vmlinux && ProbeTpBtf(vmlinux, &detail) == 0;
  out.push_back({"tp_btf", tpb, tpb ? "" : "BTF tracepoint programs (Linux 5.5+): " + (vmlinux ? detail : "needs kernel BTF"), {}, false});

  int ts = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, nullptr);
  out.push_back({"task_storage", ts == 1, ts == 1 ? "" : "task storage maps (Linux 5.11+): " + Why(ts), {}, false});

  int fv = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_find_vma, nullptr);
  // Referenced by the syscall and exec programs (mprotect's previous
  // protection, exec's interpreter): without it they do not load.
  out.push_back({"find_vma", fv == 1, fv == 1 ? "" : "helper bpf_find_vma (Linux 5.17+): " + Why(fv), {}, false});
  if (vmlinux) btf__free(vmlinux);
  return out;
}
