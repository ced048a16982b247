// Opens, configures, loads and attaches bpf/build/tracee.bpf.o, writes the
// policy and scope maps (bpf/common/config.h), reads the loss counters, and
// tears it all down again. Plain libbpf; no N-API. Not thread-safe: the
// owner calls it from one thread (the JS thread), the poll thread only uses
// RingBufferFd().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "failure.h"

struct bpf_object;
struct bpf_link;

struct ScopeValue {
  uint32_t field;     // enum tr_scope_field
  uint64_t value;     // u64-keyed fields
  std::string text;   // string-keyed fields (uts, comm)
  bool is_text;
  uint64_t eq, ne, flags;
};

// What host/capture/kernel-scope.ts compiles from Policy[].
struct ScopeImage {
  std::vector<uint8_t> config;  // struct tr_scope_cfg; gen/ver are set by the loader
  std::vector<std::pair<uint32_t, uint64_t>> event_policies;  // event id -> policies
  std::vector<ScopeValue> values;
};

struct LoadOptions {
  std::string object_path;
  std::vector<uint32_t> event_ids;
  uint32_t ring_buffer_bytes = 0;
  uint32_t ignore_tgid = 0;
  uint32_t wakeup_bytes = 0;  // see struct tr_config
  bool exec_env = false;
  ScopeImage scope;
};

struct Counters {
  uint64_t lost_total = 0;
  std::vector<uint64_t> lost_by_cpu;
  std::vector<std::pair<uint32_t, uint64_t>> lost_by_event;  // nonzero only
  uint64_t truncated = 0;
  uint64_t no_storage = 0;
  uint64_t recursion_misses = 0;  // program runs the kernel skipped (bpf_prog_info)
};

class Loader {
 public:
  Loader() = default;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;
  ~Loader() { Close(); }

  // Runs every step; on failure everything done so far is undone.
  Failure Open(const LoadOptions& options);
  // Replaces the policy and scope maps (at open and at run time). Events
  // whose programs are not attached are refused.
  Failure ApplyScope(const ScopeImage& scope);
  int RingBufferFd() const { return ring_fd_; }
  // Records the kernel could not put in the ring buffer, and other counters.
  Counters ReadCounters() const;
  uint64_t LostRecords() const { return ReadCounters().lost_total; }
  // The records each CPU had staged and not yet output (bpf/common/stage.h),
  // one chunk per CPU that has any: after Detach, the last of them.
  std::vector<std::vector<uint8_t>> TakeStaged() const;
  // Names of the attached programs, for diagnostics.
  const std::vector<std::string>& Attached() const { return attached_; }
  // Detaches the programs (no new records) but keeps the maps; idempotent.
  void Detach();
  // Detaches and closes everything; idempotent.
  void Close();

 private:
  Failure Configure(const LoadOptions& options);
  Failure Load();
  Failure Attach();

  struct bpf_object* obj_ = nullptr;
  std::vector<struct bpf_link*> links_;
  std::vector<std::string> attached_;
  std::vector<int> prog_fds_;
  std::vector<uint32_t> loaded_events_;  // events whose programs are attached
  int ring_fd_ = -1;
  int lost_fd_ = -1;
  int counters_fd_ = -1;
  int stage_fd_ = -1;
  uint32_t gen_ = 0, ver_ = 0;
  std::vector<ScopeValue> live_values_;  // entries of version ver_, deleted on the next apply
};
