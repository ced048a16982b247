// Opens, configures, loads and attaches bpf/build/tracee.bpf.o, and tears it
// all down again. Plain libbpf; no N-API. Not thread-safe: the owner calls it
// from one thread (the JS thread), the poll thread only uses RingBufferFd().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "failure.h"

struct bpf_object;
struct bpf_link;

struct LoadOptions {
  std::string object_path;
  std::vector<uint32_t> event_ids;
  uint32_t ring_buffer_bytes = 0;
  uint32_t ignore_tgid = 0;
  uint32_t wakeup_bytes = 0;  // see struct tr_config
};

class Loader {
 public:
  Loader() = default;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;
  ~Loader() { Close(); }

  // Runs every step; on failure everything done so far is undone.
  Failure Open(const LoadOptions& options);
  int RingBufferFd() const { return ring_fd_; }
  // Records the kernel could not put in the ring buffer, summed over CPUs.
  uint64_t LostRecords() const;
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
  int ring_fd_ = -1;
  int lost_fd_ = -1;
};
