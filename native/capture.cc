// N-API surface of the capture addon (the typed wrapper is host/capture/addon.ts):
//
//   new Capture(options)   open + configure + load + attach (throws with code/step/errno)
//   capture.start(onBatch) start the poll thread; onBatch(Buffer) gets whole batches
//   capture.stats()        {eventsReceived, batchesDelivered, lostRingBuffer, lostQueueFull}
//   capture.stop()         detach, destroy, join; idempotent
//   probeKernel()          [{feature, ok, detail}]
//
// Batches cross to the JS thread through one ThreadSafeFunction with a
// bounded queue; a batch that finds the queue full is dropped and counted,
// the poll thread never blocks on JS.
#include <napi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "batcher.h"
#include "loader.h"
#include "probe.h"
#include "programs.h"

namespace {

Napi::Error MakeError(Napi::Env env, const Failure& f) {
  Napi::Error e = Napi::Error::New(env, f.message);
  e.Set("code", Napi::String::New(env, f.code));
  e.Set("step", Napi::String::New(env, f.step));
  if (f.err) e.Set("errno", Napi::Number::New(env, f.err));
  return e;
}

[[noreturn]] void ThrowInvalid(Napi::Env env, const std::string& message) {
  throw MakeError(env, Failure::Make("TRC_ERR_INVALID_ARG", "options", EINVAL, "capture: " + message));
}

// Reads an optional integer option in [min, max].
uint64_t IntOption(Napi::Object o, const char* name, uint64_t def, uint64_t min, uint64_t max) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return def;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != static_cast<uint64_t>(d))
    ThrowInvalid(o.Env(), std::string("option ") + name + " must be an integer in [" + std::to_string(min) + ", " +
                              std::to_string(max) + "], got " + v.ToString().Utf8Value());
  return static_cast<uint64_t>(d);
}

// Counters the JS-thread callbacks update; shared so that batches still
// queued when the Capture is collected do not touch freed memory.
struct Delivered {
  std::atomic<uint64_t> batches{0};
};

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture",
                       {InstanceMethod<&Capture::Start>("start"), InstanceMethod<&Capture::Stats>("stats"),
                        InstanceMethod<&Capture::Stop>("stop"), InstanceMethod<&Capture::Programs>("programs")});
  }

  explicit Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) ThrowInvalid(env, "options object required");
    Napi::Object o = info[0].As<Napi::Object>();

    LoadOptions load;
    if (!o.Get("objectPath").IsString()) ThrowInvalid(env, "option objectPath must be a string");
    load.object_path = o.Get("objectPath").As<Napi::String>().Utf8Value();
    if (!o.Get("eventIds").IsArray()) ThrowInvalid(env, "option eventIds must be an array of event ids");
    Napi::Array ids = o.Get("eventIds").As<Napi::Array>();
    for (uint32_t i = 0; i < ids.Length(); i++) {
      Napi::Value v = ids.Get(i);
      double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (d < 0 || d != static_cast<uint32_t>(d) || !IsKernelEvent(static_cast<uint32_t>(d)))
        ThrowInvalid(env, "event id " + v.ToString().Utf8Value() + " has no kernel program");
      load.event_ids.push_back(static_cast<uint32_t>(d));
    }
    uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    load.ring_buffer_bytes = IntOption(o, "ringBufferBytes", 8u << 20, page, 1u << 30);
    if (load.ring_buffer_bytes & (load.ring_buffer_bytes - 1))
      ThrowInvalid(env, "option ringBufferBytes must be a power of two (and at least a page), got " +
                            std::to_string(load.ring_buffer_bytes));
    load.ignore_tgid = IntOption(o, "ignorePid", 0, 0, 0x7fffffff);
    batch_bytes_ = IntOption(o, "batchBytes", 256u << 10, 4096, 64u << 20);
    flush_ms_ = IntOption(o, "flushMs", 10, 1, 10000);
    queue_batches_ = IntOption(o, "queueBatches", 64, 1, 1u << 16);
    // Wake the poll thread when about a batch is waiting (at most a quarter
    // of the ring, so there is room left while it wakes); else it reads
    // every flushMs on its own.
    load.wakeup_bytes = std::min<uint64_t>(batch_bytes_, load.ring_buffer_bytes / 4);

    Failure f = loader_.Open(load);
    if (f.failed()) throw MakeError(env, f);
  }

  ~Capture() override { Shutdown(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (stopped_) throw MakeError(env, Failure::Make("TRC_ERR_STATE", "start", 0, "capture: start after stop"));
    if (batcher_) throw MakeError(env, Failure::Make("TRC_ERR_STATE", "start", 0, "capture: already started"));
    if (!info[0].IsFunction()) ThrowInvalid(env, "start(onBatch) needs a function");

    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "tracee-capture", queue_batches_, 1);
    Napi::ThreadSafeFunction tsfn = tsfn_;
    std::shared_ptr<Delivered> delivered = delivered_;
    auto sink = [tsfn, delivered](Batch* batch) {
      napi_status s = tsfn.NonBlockingCall(batch, [delivered](Napi::Env env, Napi::Function fn, Batch* b) {
        if (env == nullptr || fn.IsEmpty()) {  // the function is being torn down
          Batch::Free(b);
          return;
        }
        // A copy: V8 then accounts the memory and the batch is freed at once
        // (~15 us per 256 KiB, small next to decoding the batch in JS).
        Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(env, b->data, b->len);
        Batch::Free(b);
        delivered->batches.fetch_add(1, std::memory_order_relaxed);
        fn.Call({buf});
      });
      return s == napi_ok;
    };
    batcher_ = std::make_unique<Batcher>(loader_.RingBufferFd(), batch_bytes_, flush_ms_, sink);
    Failure f = batcher_->Start();
    if (f.failed()) {
      batcher_.reset();
      tsfn_.Release();
      tsfn_ = Napi::ThreadSafeFunction();
      throw MakeError(env, f);
    }
    // process.exit() without stop(): join the poll thread before Node tears
    // down the thread-safe function it calls.
    env_ = env;
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    cleanup_hook_ = true;
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (batcher_) {
      received_ = batcher_->received();
      lost_queue_full_ = batcher_->lost_queue_full();
    }
    if (!stopped_) lost_ring_ = loader_.LostRecords();
    Napi::Object s = Napi::Object::New(env);
    s.Set("eventsReceived", Napi::Number::New(env, static_cast<double>(received_)));
    s.Set("batchesDelivered", Napi::Number::New(env, static_cast<double>(delivered_->batches.load())));
    s.Set("lostRingBuffer", Napi::Number::New(env, static_cast<double>(lost_ring_)));
    s.Set("lostQueueFull", Napi::Number::New(env, static_cast<double>(lost_queue_full_)));
    return s;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  // Names of the attached programs (diagnostics, tests).
  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& names = loader_.Attached();
    Napi::Array out = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); i++) out.Set(i, Napi::String::New(env, names[i]));
    return out;
  }

  static void OnEnvCleanup(void* self) {
    Capture* c = static_cast<Capture*>(self);
    c->cleanup_hook_ = false;  // being run: must not be removed
    c->Shutdown();
  }

  // Detach first (no new records), then drain and join the poll thread,
  // then release the JS function (queued batches are still delivered).
  void Shutdown() {
    if (cleanup_hook_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      cleanup_hook_ = false;
    }
    if (stopped_) return;
    stopped_ = true;
    lost_ring_ = loader_.LostRecords();
    // Programs stop firing before the last drain; the ring buffer map stays
    // alive until the object is closed below.
    loader_.Detach();
    if (batcher_) {
      batcher_->Stop();
      received_ = batcher_->received();
      lost_queue_full_ = batcher_->lost_queue_full();
      batcher_.reset();
    }
    if (tsfn_) {
      tsfn_.Release();
      tsfn_ = Napi::ThreadSafeFunction();
    }
    loader_.Close();
  }

  Loader loader_;
  std::unique_ptr<Batcher> batcher_;
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<Delivered> delivered_ = std::make_shared<Delivered>();
  size_t batch_bytes_ = 0;
  int flush_ms_ = 0;
  size_t queue_batches_ = 0;
  bool stopped_ = false;
  napi_env env_ = nullptr;
  bool cleanup_hook_ = false;
  uint64_t received_ = 0, lost_queue_full_ = 0, lost_ring_ = 0;
};

Napi::Value ProbeKernelJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<ProbeResult> results = ProbeKernel();
  Napi::Array out = Napi::Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); i++) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("feature", results[i].feature);
    r.Set("ok", results[i].ok);
    r.Set("detail", results[i].detail);
    out.Set(i, r);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Define(env));
  exports.Set("probeKernel", Napi::Function::New(env, ProbeKernelJs, "probeKernel"));
  exports.Set("flatVersion", Napi::Number::New(env, 1));  // docs/abi/flat-encoding.md
  return exports;
}

}  // namespace

NODE_API_MODULE(tracee_capture, Init)
