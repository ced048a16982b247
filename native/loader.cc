#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "../bpf/common/config.h"
#include "log.h"
#include "programs.h"

namespace {
constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
constexpr size_t kLogTail = 3000;  // verifier log bytes kept in an error message
constexpr uint32_t kScMax = 512;   // TR_SC_MAX (bpf/gen/syscall_args.h)

// libbpf has its own error numbers (e.g. 4001: not an ELF object) besides errno.
std::string Errno(int err) {
  char buf[256];
  libbpf_strerror(err < 0 ? err : -err, buf, sizeof buf);
  return buf;
}

bool Wanted(const ProgramSpec& spec, const std::vector<uint32_t>& ids) {
  if (spec.scope) return true;  // fork/exec keep scope caches: always there (cheap)
  if (spec.syscalls == kWithSyscallPrograms) {
    for (const ProgramSpec& other : Programs())
      if ((other.syscalls == kAtEnterSyscalls || other.syscalls == kAtExitSyscalls) && Wanted(other, ids)) return true;
    return false;
  }
  for (uint32_t id : ids) {
    if (spec.syscalls != kNoSyscalls && IsSyscallEvent(id) && AtEnter(id) == (spec.syscalls == kAtEnterSyscalls))
      return true;
    for (uint32_t e : spec.events)
      if (e == id) return true;
  }
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

int MapFd(struct bpf_object* obj, const char* name) { return bpf_object__find_map_fd_by_name(obj, name); }

std::vector<uint64_t> PerCpu(int fd, uint32_t key) {
  int cpus = libbpf_num_possible_cpus();
  if (fd < 0 || cpus <= 0) return {};
  std::vector<uint64_t> v(cpus);  // per-CPU values are 8-byte slots
  if (bpf_map_lookup_elem(fd, &key, v.data())) return {};
  return v;
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
  if (!f.failed()) f = ApplyScope(o.scope);
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
  std::set<uint32_t> served;
  std::set<uint32_t> unserved;  // events a required program cannot serve here
  std::string why;
  for (const ProgramSpec& spec : Programs()) {
    struct bpf_program* prog = bpf_object__find_program_by_name(obj_, spec.name);
    if (!prog) {
      f = Failure::Make("TRC_ERR_OPEN", "configure", ENOENT,
                        std::string("capture: program ") + spec.name + " missing from the object (rebuild bpf/)");
      break;
    }
    bool wanted = Wanted(spec, o.event_ids);
    bool has = KernelHas(vmlinux, spec.requires_);
    bpf_program__set_autoload(prog, wanted && has);
    if (wanted && !has && !spec.optional) {
      for (uint32_t e : spec.events)
        if (std::find(o.event_ids.begin(), o.event_ids.end(), e) != o.event_ids.end() && !unserved.count(e)) {
          unserved.insert(e);
          why += "\n  event " + std::to_string(e) + ": needs " + Missing(spec.requires_);
        }
    }
  }
  btf__free(vmlinux);
  if (f.failed()) return f;
  if (!unserved.empty())
    return Failure::Make("TRC_ERR_UNAVAILABLE_EVENT", "configure", ENOTSUP,
                         "capture: events unavailable on this kernel:" + why);
  loaded_events_ = o.event_ids;

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
  cfg.exec_env = o.exec_env ? 1 : 0;
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
    // Global functions (emitters, path and scope helpers) are not programs.
    if (bpf_program__type(prog) == BPF_PROG_TYPE_UNSPEC) continue;
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
    prog_fds_.push_back(bpf_program__fd(prog));
  }
  ring_fd_ = MapFd(obj_, "tr_events");
  lost_fd_ = MapFd(obj_, "tr_lost");
  counters_fd_ = MapFd(obj_, "tr_counters");
  stage_fd_ = MapFd(obj_, "tr_stage");
  if (ring_fd_ < 0 || lost_fd_ < 0 || counters_fd_ < 0 || stage_fd_ < 0)
    return Failure::Make("TRC_ERR_OPEN", "attach", ENOENT,
                         "capture: maps tr_events/tr_lost/tr_counters/tr_stage missing after load");
  return Failure::None();
}

Failure Loader::ApplyScope(const ScopeImage& s) {
  if (!obj_) return Failure::Make("TRC_ERR_STATE", "scope", EINVAL, "capture: not open");
  if (s.config.size() != sizeof(struct tr_scope_cfg))
    return Failure::Make("TRC_ERR_INVALID_ARG", "scope", EINVAL,
                         "capture: scope config is " + std::to_string(s.config.size()) + " bytes, the kernel's struct tr_scope_cfg " +
                             std::to_string(sizeof(struct tr_scope_cfg)) + " (rebuild: host and bpf/ disagree)");
  for (const auto& [id, policies] : s.event_policies) {
    if (id >= TR_MAX_EVENT_ID)
      return Failure::Make("TRC_ERR_INVALID_ARG", "scope", EINVAL, "capture: event id " + std::to_string(id) + " out of range");
    if (policies && std::find(loaded_events_.begin(), loaded_events_.end(), id) == loaded_events_.end())
      return Failure::Make("TRC_ERR_INVALID_ARG", "scope", EINVAL,
                           "capture: event " + std::to_string(id) + " is in a policy but was not among the events opened (eventIds)");
  }
  int cfg_fd = MapFd(obj_, "tr_scope_cfg"), ev_fd = MapFd(obj_, "tr_event_pol"), sys_fd = MapFd(obj_, "tr_sys_pol");
  int enter_fd = MapFd(obj_, "tr_enter_pol");
  int u64_fd = MapFd(obj_, "tr_scope_u64"), str_fd = MapFd(obj_, "tr_scope_str");
  if (cfg_fd < 0 || ev_fd < 0 || sys_fd < 0 || enter_fd < 0 || u64_fd < 0 || str_fd < 0)
    return Failure::Make("TRC_ERR_OPEN", "scope", ENOENT, "capture: scope maps missing from the object (rebuild bpf/)");

  uint32_t ver = ver_ ^ 1;
  // 1. The value maps of the new version, beside the live one.
  auto write_value = [&](const ScopeValue& v, uint32_t version, bool remove) -> int {
    struct tr_scope_val val = {v.eq, v.ne, v.flags};
    uint32_t field = v.field | (version << 8);
    if (v.is_text) {
      struct tr_scope_key_str key = {};
      key.field = field;
      memcpy(key.value, v.text.data(), std::min<size_t>(v.text.size(), sizeof key.value - 1));
      return remove ? bpf_map_delete_elem(str_fd, &key) : bpf_map_update_elem(str_fd, &key, &val, BPF_ANY);
    }
    struct tr_scope_key_u64 key = {};
    key.field = field;
    key.value = v.value;
    return remove ? bpf_map_delete_elem(u64_fd, &key) : bpf_map_update_elem(u64_fd, &key, &val, BPF_ANY);
  };
  for (const ScopeValue& v : s.values) {
    if (write_value(v, ver, false))
      return Failure::Make("TRC_ERR_CONFIG", "scope", errno, "capture: writing a scope value (field " +
                                                                  std::to_string(v.field) + "): " + Errno(errno));
  }
  // 2. Event policies, and per syscall the union of what needs it.
  std::vector<uint64_t> events(TR_MAX_EVENT_ID, 0), sys(kScMax, 0), enter(kScMax, 0);
  for (const auto& [id, policies] : s.event_policies) events[id] |= policies;
  for (uint32_t id = 0; id < TR_MAX_EVENT_ID; id++) {
    if (!events[id]) continue;
    for (uint32_t sc : ExitSyscallsOf(id))
      if (sc < kScMax) sys[sc] |= events[id];
    for (uint32_t sc : EnterSyscallsOf(id))
      if (sc < kScMax) enter[sc] |= events[id];
  }
  for (uint32_t id = 0; id < TR_MAX_EVENT_ID; id++)
    if (bpf_map_update_elem(ev_fd, &id, &events[id], BPF_ANY))
      return Failure::Make("TRC_ERR_CONFIG", "scope", errno, "capture: writing tr_event_pol: " + Errno(errno));
  for (uint32_t id = 0; id < kScMax; id++)
    if (bpf_map_update_elem(sys_fd, &id, &sys[id], BPF_ANY) || bpf_map_update_elem(enter_fd, &id, &enter[id], BPF_ANY))
      return Failure::Make("TRC_ERR_CONFIG", "scope", errno, "capture: writing tr_sys_pol/tr_enter_pol: " + Errno(errno));
  // 3. Switch: the config names the new version and a new generation.
  struct tr_scope_cfg cfg;
  memcpy(&cfg, s.config.data(), sizeof cfg);
  cfg.gen = ++gen_;
  cfg.ver = ver;
  uint32_t zero = 0;
  if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
    return Failure::Make("TRC_ERR_CONFIG", "scope", errno, "capture: writing tr_scope_cfg: " + Errno(errno));
  // 4. The old version's entries go.
  for (const ScopeValue& v : live_values_) write_value(v, ver_, true);
  live_values_ = s.values;
  ver_ = ver;
  return Failure::None();
}

Counters Loader::ReadCounters() const {
  Counters c;
  if (lost_fd_ < 0) return c;
  int cpus = libbpf_num_possible_cpus();
  if (cpus > 0) c.lost_by_cpu.assign(cpus, 0);
  for (uint32_t id = 0; id < TR_MAX_EVENT_ID; id++) {
    std::vector<uint64_t> v = PerCpu(lost_fd_, id);
    uint64_t sum = 0;
    for (size_t i = 0; i < v.size(); i++) {
      sum += v[i];
      if (i < c.lost_by_cpu.size()) c.lost_by_cpu[i] += v[i];
    }
    if (sum) c.lost_by_event.emplace_back(id, sum);
    c.lost_total += sum;
  }
  for (uint64_t v : PerCpu(counters_fd_, TR_C_TRUNCATED)) c.truncated += v;
  for (uint64_t v : PerCpu(counters_fd_, TR_C_NO_STORAGE)) c.no_storage += v;
  for (int fd : prog_fds_) {
    struct bpf_prog_info info = {};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) c.recursion_misses += info.recursion_misses;
  }
  return c;
}

std::vector<std::vector<uint8_t>> Loader::TakeStaged() const {
  std::vector<std::vector<uint8_t>> out;
  int cpus = libbpf_num_possible_cpus();
  if (stage_fd_ < 0 || cpus <= 0) return out;
  static_assert(sizeof(struct tr_stage) == TR_STAGE_SIZE && TR_STAGE_SIZE % 8 == 0, "per-CPU slots are the value size");
  std::vector<uint8_t> all(static_cast<size_t>(cpus) * TR_STAGE_SIZE);
  uint32_t key = 0;
  if (bpf_map_lookup_elem(stage_fd_, &key, all.data())) return out;
  for (int cpu = 0; cpu < cpus; cpu++) {
    const auto* st = reinterpret_cast<const struct tr_stage*>(all.data() + static_cast<size_t>(cpu) * TR_STAGE_SIZE);
    if (st->len && st->len <= TR_STAGE_DATA) out.emplace_back(st->data, st->data + st->len);
  }
  return out;
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
  ring_fd_ = lost_fd_ = counters_fd_ = stage_fd_ = -1;
  prog_fds_.clear();
  live_values_.clear();
  loaded_events_.clear();
  gen_ = ver_ = 0;
}
