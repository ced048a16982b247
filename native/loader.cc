#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../bpf/common/config.h"
#include "log.h"
#include "programs.h"

namespace {
constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
constexpr size_t kLogTail = 3000;  // verifier log bytes kept in an error message

// libbpf has its own error numbers (e.g. 4001: not an ELF object) besides errno.
std::string Errno(int err) {
  char buf[256];
  libbpf_strerror(err < 0 ? err : -err, buf, sizeof buf);
  return buf;
}

bool Wanted(const ProgramSpec& spec, const std::vector<uint32_t>& ids) {
  for (uint32_t e : spec.events)
    for (uint32_t id : ids)
      if (e == id) return true;
  return false;
}

// libbpf names the failing program in its log: "prog 'NAME': failed to load".
std::string FailedProgram(const std::string& log) {
  size_t at = log.find("': failed to load");
  if (at == std::string::npos) return "";
  size_t start = log.rfind("prog '", at);
  return start == std::string::npos ? "" : log.substr(start + 6, at - start - 6);
}

// Offset of a global variable inside the .rodata map's value (from the
// object's BTF datasec), or -1.
long RodataOffset(const struct btf* btf, const char* var, size_t size) {
  int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) return -1;
  const struct btf_type* sec = btf__type_by_id(btf, sec_id);
  const struct btf_var_secinfo* v = btf_var_secinfos(sec);
  for (int i = 0; i < btf_vlen(sec); i++, v++) {
    const struct btf_type* t = btf__type_by_id(btf, v->type);
    if (strcmp(btf__name_by_offset(btf, t->name_off), var) == 0)
      return v->size == size ? static_cast<long>(v->offset) : -1;
  }
  return -1;
}
}  // namespace

Failure Loader::Open(const LoadOptions& o) {
  Close();
  trlog::Install();
  if (geteuid() != 0)
    return Failure::Make("TRC_ERR_NOT_ROOT", "check", EPERM,
                         "capture: loading eBPF programs needs root (effective uid is " +
                             std::to_string(geteuid()) + ")");
  if (access(kVmlinuxBtf, R_OK) != 0)
    return Failure::Make("TRC_ERR_NO_BTF", "check", errno,
                         std::string("capture: kernel BTF ") + kVmlinuxBtf + ": " + Errno(errno) +
                             " (needs a kernel built with CONFIG_DEBUG_INFO_BTF=y)");

  trlog::Clear();
  obj_ = bpf_object__open_file(o.object_path.c_str(), nullptr);
  if (!obj_) {
    int err = errno;
    std::string log = trlog::Take();
    return Failure::Make("TRC_ERR_OPEN", "open", err,
                         "capture: opening " + o.object_path + ": " + Errno(err) +
                             (err == ENOENT ? " (run npm run build:bpf)" : "") +
                             (log.empty() ? "" : "\n" + trlog::Tail(log, kLogTail)));
  }
  Failure f = Configure(o);
  if (!f.failed()) f = Load();
  if (!f.failed()) f = Attach();
  if (f.failed()) Close();
  return f;
}

Failure Loader::Configure(const LoadOptions& o) {
  // Programs: load only those enabled events need, and for each concern only
  // the variant the running kernel supports.
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux)
    return Failure::Make("TRC_ERR_NO_BTF", "configure", errno,
                         std::string("capture: parsing ") + kVmlinuxBtf + ": " + Errno(errno));
  Failure f;
  for (const ProgramSpec& spec : Programs()) {
    struct bpf_program* prog = bpf_object__find_program_by_name(obj_, spec.name);
    if (!prog) {
      f = Failure::Make("TRC_ERR_OPEN", "configure", ENOENT,
                        std::string("capture: program ") + spec.name + " missing from the object (rebuild bpf/)");
      break;
    }
    bool use = Wanted(spec, o.event_ids) && KernelHas(vmlinux, spec.requires_);
    bpf_program__set_autoload(prog, use);
  }
  btf__free(vmlinux);
  if (f.failed()) return f;

  struct bpf_map* ring = bpf_object__find_map_by_name(obj_, "tr_events");
  if (!ring) return Failure::Make("TRC_ERR_OPEN", "configure", ENOENT, "capture: map tr_events missing from the object");
  int err = bpf_map__set_max_entries(ring, o.ring_buffer_bytes);
  if (err)
    return Failure::Make("TRC_ERR_CONFIG", "configure", err,
                         "capture: ring buffer size " + std::to_string(o.ring_buffer_bytes) + ": " + Errno(err));

  // Load-time config: struct tr_config tr_cfg in .rodata (bpf/common/config.h).
  struct tr_config cfg = {};
  cfg.ignore_tgid = o.ignore_tgid;
  cfg.wakeup_bytes = o.wakeup_bytes;
  for (uint32_t id : o.event_ids) cfg.enabled[id / 64] |= 1ull << (id % 64);
  struct bpf_map* rodata = nullptr;
  struct bpf_map* m;
  bpf_object__for_each_map(m, obj_) {
    const char* name = bpf_map__name(m);
    size_t n = strlen(name);
    if (bpf_map__is_internal(m) && n >= 7 && strcmp(name + n - 7, ".rodata") == 0) rodata = m;
  }
  long off = rodata ? RodataOffset(bpf_object__btf(obj_), "tr_cfg", sizeof cfg) : -1;
  size_t size = 0;
  const void* initial = rodata ? bpf_map__initial_value(rodata, &size) : nullptr;
  if (off < 0 || !initial || off + sizeof cfg > size)
    return Failure::Make("TRC_ERR_OPEN", "configure", ENOENT,
                         "capture: tr_cfg (struct tr_config) not found in the object's .rodata (rebuild bpf/)");
  // libbpf 1.1 hands out the initial value read-only: patch a copy, set it back.
  std::vector<char> value(static_cast<const char*>(initial), static_cast<const char*>(initial) + size);
  memcpy(value.data() + off, &cfg, sizeof cfg);
  err = bpf_map__set_initial_value(rodata, value.data(), value.size());
  if (err)
    return Failure::Make("TRC_ERR_CONFIG", "configure", err, "capture: writing tr_cfg: " + Errno(err));
  return Failure::None();
}

Failure Loader::Load() {
  trlog::Clear();
  int err = bpf_object__load(obj_);
  std::string log = trlog::Take();
  if (!err) return Failure::None();
  std::string prog = FailedProgram(log);
  std::string tail = log.empty() ? "" : "\nlibbpf log (tail):\n" + trlog::Tail(log, kLogTail);
  if (err == -EPERM)
    return Failure::Make("TRC_ERR_BPF_REFUSED", "load", err,
                         "capture: the kernel refused bpf() (EPERM): needs root with CAP_BPF/CAP_SYS_ADMIN, "
                         "and kernel.unprivileged_bpf_disabled/lockdown may forbid it" + tail);
  if (!prog.empty())
    return Failure::Make("TRC_ERR_PROG_LOAD", "load", err,
                         "capture: loading program " + prog + ": " + Errno(err) + tail);
  return Failure::Make("TRC_ERR_LOAD", "load", err, "capture: loading " + std::string(bpf_object__name(obj_)) +
                                                        ": " + Errno(err) + tail);
}

Failure Loader::Attach() {
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    if (!bpf_program__autoload(prog)) continue;
    trlog::Clear();
    struct bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      int err = errno;
      std::string log = trlog::Take();
      return Failure::Make("TRC_ERR_ATTACH", "attach", err,
                           std::string("capture: attaching ") + bpf_program__name(prog) + " (" +
                               bpf_program__section_name(prog) + "): " + Errno(err) +
                               (log.empty() ? "" : "\n" + trlog::Tail(log, kLogTail)));
    }
    links_.push_back(link);
    attached_.push_back(bpf_program__name(prog));
  }
  ring_fd_ = bpf_object__find_map_fd_by_name(obj_, "tr_events");
  lost_fd_ = bpf_object__find_map_fd_by_name(obj_, "tr_lost");
  if (ring_fd_ < 0 || lost_fd_ < 0)
    return Failure::Make("TRC_ERR_OPEN", "attach", ENOENT, "capture: maps tr_events/tr_lost missing after load");
  return Failure::None();
}

uint64_t Loader::LostRecords() const {
  if (lost_fd_ < 0) return 0;
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return 0;
  std::vector<uint64_t> per_cpu(cpus);  // per-CPU values are 8-byte slots
  uint32_t key = 0;
  if (bpf_map_lookup_elem(lost_fd_, &key, per_cpu.data())) return 0;
  uint64_t sum = 0;
  for (uint64_t v : per_cpu) sum += v;
  return sum;
}

void Loader::Detach() {
  for (struct bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
  attached_.clear();
}

void Loader::Close() {
  Detach();  // links first so no program runs while the object goes away
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  ring_fd_ = lost_fd_ = -1;
}
