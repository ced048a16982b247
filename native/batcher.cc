#include "batcher.h"

#include <bpf/libbpf.h>
#include <linux/types.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "events_abi.h"

namespace {
int64_t Now(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}


void Put16(uint8_t* p, uint16_t v) { memcpy(p, &v, 2); }  // x86_64: little-endian
void Put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
void Put64(uint8_t* p, int64_t v) { memcpy(p, &v, 8); }

// Records in a ring buffer record: the kernel outputs a CPU's staged records
// together (bpf/common/stage.h), each starting with its u32 size, a multiple
// of 8.
uint32_t CountRecords(const uint8_t* data, size_t size) {
  uint32_t n = 0;
  for (size_t at = 0; at + sizeof(uint32_t) <= size; n++) {
    uint32_t len;
    memcpy(&len, data + at, sizeof len);
    if (len < TR_CONTEXT_SIZE) return n + 1;  // malformed: the decoder reports it
    at += len;
  }
  return n;
}
}  // namespace

Batch* Batch::New(size_t cap) {
  Batch* b = new Batch();
  b->data = static_cast<uint8_t*>(malloc(cap));
  if (!b->data) {
    delete b;
    return nullptr;
  }
  b->cap = cap;
  b->len = TR_BATCH_HEADER_SIZE;
  return b;
}

void Batch::Free(Batch* b) {
  if (!b) return;
  free(b->data);
  delete b;
}

Failure Batcher::Start() {
  if (thread_.joinable()) return Failure::None();
  rb_ = ring_buffer__new(ring_fd_, OnRecord, this, nullptr);
  if (!rb_) {
    int err = errno;
    return Failure::Make("TRC_ERR_RINGBUF", "start", err,
                         std::string("capture: opening the ring buffer: ") + strerror(err));
  }
  clock_offset_ns_ = Now(CLOCK_REALTIME) - Now(CLOCK_BOOTTIME);
  stop_ = false;
  thread_ = std::thread(&Batcher::Run, this);
  return Failure::None();
}

void Batcher::Stop() {
  if (thread_.joinable()) {
    stop_ = true;
    thread_.join();
  }
  if (rb_) ring_buffer__free(rb_);
  rb_ = nullptr;
  Batch::Free(batch_);
  batch_ = nullptr;
}

void Batcher::Run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    // The kernel wakes us only when a batch worth of data waits
    // (tr_config.wakeup_bytes), so also read every flush interval.
    int timeout = flush_ms_;
    if (batch_ && batch_->count) {
      int64_t waited_ms = (Now(CLOCK_MONOTONIC) - batch_started_ns_) / 1000000;
      if (waited_ms >= flush_ms_) {
        Flush();
      } else {
        timeout = flush_ms_ - static_cast<int>(waited_ms);
      }
    }
    int n = ring_buffer__poll(rb_, timeout);
    // poll() only reads after a wakeup; records written without one are
    // read here.
    if (n >= 0) n = ring_buffer__consume(rb_);
    if (n < 0 && n != -EINTR) {
      poll_error_ = -n;
      break;
    }
  }
  // Drain what is left, then hand off the last partial batch.
  ring_buffer__consume(rb_);
  Flush();
}

int Batcher::OnRecord(void* self, void* data, size_t size) {
  return static_cast<Batcher*>(self)->Append(data, size);
}

void Batcher::DeliverStaged(const std::vector<std::vector<uint8_t>>& chunks) {
  for (const auto& c : chunks) Append(c.data(), c.size());
  Flush();
}

int Batcher::Append(const void* data, size_t size) {
  uint32_t records = CountRecords(static_cast<const uint8_t*>(data), size);
  received_.fetch_add(records, std::memory_order_relaxed);
  if (batch_ && batch_->len + size > batch_->cap) Flush();
  if (!batch_) {
    // A ring buffer record larger than a batch (up to ~28 KiB of staged records) gets a batch of its own.
    size_t cap = batch_bytes_ < TR_BATCH_HEADER_SIZE + size ? TR_BATCH_HEADER_SIZE + size : batch_bytes_;
    batch_ = Batch::New(cap);
    if (!batch_) {  // out of memory: as good as a full queue for the caller
      lost_queue_full_.fetch_add(records, std::memory_order_relaxed);
      return 0;
    }
  }
  if (batch_->count == 0) batch_started_ns_ = Now(CLOCK_MONOTONIC);
  memcpy(batch_->data + batch_->len, data, size);  // records are 8-byte multiples
  batch_->len += size;
  batch_->count += records;
  return 0;
}

void Batcher::Flush() {
  Batch* b = batch_;
  if (!b || b->count == 0) return;
  batch_ = nullptr;
  uint8_t* h = b->data;
  Put32(h + 0, TR_BATCH_MAGIC);
  Put16(h + 4, TR_FLAT_VERSION);
  Put16(h + 6, TR_BATCH_HEADER_SIZE);
  Put32(h + 8, b->count);
  Put32(h + 12, static_cast<uint32_t>(b->len));
  Put64(h + 16, clock_offset_ns_);
  uint32_t count = b->count;
  if (!sink_(b)) {
    lost_queue_full_.fetch_add(count, std::memory_order_relaxed);
    Batch::Free(b);
  }
}
