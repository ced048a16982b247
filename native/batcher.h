// The poll thread: drains the kernel ring buffer and packs records into
// flat-encoding batches (docs/abi/flat-encoding.md), handed to a sink when a
// batch is full or its oldest record has waited flush_ms. Never one hand-off
// per record. No N-API here: capture.cc's sink does the JS hand-off.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "failure.h"

struct ring_buffer;

// One batch: header + records. Owned by whoever holds the pointer.
struct Batch {
  uint8_t* data = nullptr;
  size_t len = 0;  // bytes used, header included
  size_t cap = 0;
  uint32_t count = 0;
  static Batch* New(size_t cap);
  static void Free(Batch* b);
};

class Batcher {
 public:
  // Takes the batch when it returns true; on false the batch is dropped
  // (e.g. the JS queue is full) and counted as lost.
  using Sink = std::function<bool(Batch*)>;

  Batcher(int ring_fd, size_t batch_bytes, int flush_ms, Sink sink)
      : ring_fd_(ring_fd), batch_bytes_(batch_bytes), flush_ms_(flush_ms), sink_(std::move(sink)) {}
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;
  ~Batcher() { Stop(); }

  Failure Start();
  // Stops polling, hands off the last partial batch, joins; idempotent.
  void Stop();
  // After Stop: hands off the records the kernel had staged but not output
  // (Loader::TakeStaged), which come after everything read from the ring.
  void DeliverStaged(const std::vector<std::vector<uint8_t>>& chunks);

  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  uint64_t lost_queue_full() const { return lost_queue_full_.load(std::memory_order_relaxed); }
  int poll_error() const { return poll_error_.load(std::memory_order_relaxed); }

 private:
  static int OnRecord(void* self, void* data, size_t size);
  int Append(const void* data, size_t size);
  void Flush();
  void Run();

  int ring_fd_;
  size_t batch_bytes_;
  int flush_ms_;
  Sink sink_;
  int64_t clock_offset_ns_ = 0;  // CLOCK_REALTIME - CLOCK_BOOTTIME at Start()
  struct ring_buffer* rb_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // Poll-thread state.
  Batch* batch_ = nullptr;
  int64_t batch_started_ns_ = 0;  // monotonic time of the batch's first record

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> lost_queue_full_{0};
  std::atomic<int> poll_error_{0};
};
