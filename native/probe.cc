#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {
std::string Why(int ret) {
  if (ret == 0) return "not supported by this kernel";
  return strerror(ret < 0 ? -ret : ret);
}

// libbpf 1.1's prog-type probe needs no attach target, which tp_btf
// (BPF_PROG_TYPE_TRACING) does: load `return 0` attached to a tracepoint
// found in the kernel's BTF.
int ProbeTpBtf(std::string* detail) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    *detail = "kernel BTF unavailable";
    return -1;
  }
  int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF);
  btf__free(vmlinux);
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
}  // namespace

std::vector<ProbeResult> ProbeKernel() {
  std::vector<ProbeResult> out;
  bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  out.push_back({"btf", btf, btf ? "" : "/sys/kernel/btf/vmlinux missing (kernel needs CONFIG_DEBUG_INFO_BTF=y)"});

  if (geteuid() != 0) {
    // bpf() answers EPERM to everything: nothing can be told apart.
    for (const char* f : {"ringbuf", "raw_tracepoint", "tp_btf"})
      out.push_back({f, false, "not probed: bpf() needs root"});
    return out;
  }
  int rb = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
  out.push_back({"ringbuf", rb == 1, rb == 1 ? "" : "BPF ring buffer map (Linux 5.8+): " + Why(rb)});

  int raw = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr);
  out.push_back({"raw_tracepoint", raw == 1, raw == 1 ? "" : "raw tracepoint programs (Linux 4.17+): " + Why(raw)});

  std::string detail;
  bool tp = btf && ProbeTpBtf(&detail) == 0;
  out.push_back({"tp_btf", tp, tp ? "" : "BTF tracepoint programs (Linux 5.5+): " + (btf ? detail : "needs kernel BTF")});
  return out;
}
