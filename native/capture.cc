// N-API surface of the capture addon (the typed wrapper is host/capture/addon.ts):
//
//   new Capture(options)   open + configure + load + attach + apply scope (throws with code/step/errno)
//   capture.start(onBatch) start the poll thread; onBatch(Buffer) gets whole batches
//   capture.applyScope(s)  replace the policy/scope maps at run time
//   capture.stats()        {eventsReceived, batchesDelivered, lostRingBuffer, lostQueueFull,
//                           lostRingBufferByCpu, lostRingBufferByEvent, truncated, noTaskStorage,
//                           kernelMissedRuns}
//   capture.stop()         detach, destroy, join; idempotent
//   probeKernel()          [{feature, ok, detail, events, degrades}]
//   scopeConfigSize        sizeof(struct tr_scope_cfg), checked by the host
//
// Batches cross to the JS thread through one ThreadSafeFunction with a
// bounded queue; a batch that finds the queue full is dropped and counted,
// the poll thread never blocks on JS.
#include <napi.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <linux/types.h>

#include "../bpf/common/config.h"
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
                        InstanceMethod<&Capture::Stop>("stop"), InstanceMethod<&Capture::Programs>("programs"),
                        InstanceMethod<&Capture::ApplyScopeJs>("applyScope")});
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
    // At least two of the largest ring buffer records, a CPU's whole stage
    // (bpf/common/config.h), or that record could never be written.
    load.ring_buffer_bytes = IntOption(o, "ringBufferBytes", 8u << 20, std::max<uint64_t>(page, 2 * TR_STAGE_SIZE), 1u << 30);
    if (load.ring_buffer_bytes & (load.ring_buffer_bytes - 1))
      ThrowInvalid(env, "option ringBufferBytes must be a power of two, got " + std::to_string(load.ring_buffer_bytes));
    load.ignore_tgid = IntOption(o, "ignorePid", 0, 0, 0x7fffffff);
    load.exec_env = o.Get("execEnv").ToBoolean();
    if (o.Get("scope").IsObject()) {
      load.scope = ParseScope(env, o.Get("scope").As<Napi::Object>());
    } else {
      // One policy (bit 0) with no scope filter, wanting every event.
      load.scope.config.assign(sizeof(struct tr_scope_cfg), 0);
      uint64_t one = 1;
      memcpy(load.scope.config.data(), &one, sizeof one);
      for (uint32_t id : load.event_ids) load.scope.event_policies.emplace_back(id, 1);
    }
    batch_bytes_ = IntOption(o, "batchBytes", 256u << 10, 4096, 64u << 20);
    flush_ms_ = IntOption(o, "flushMs", 10, 1, 10000);
    queue_batches_ = IntOption(o, "queueBatches", 64, 1, 1u << 16);
    // Wake the poll thread once per batch or eighth of the ring produced,
    // whichever is more (at most a quarter of the ring, so there is room
    // left while it wakes; a power of two for the kernel's test,
    // bpf/common/record.h); else it reads every flushMs on its own. Each
    // wakeup is a self-IPI in the traced task (~25 us on a VM), so fewer is
    // cheaper: an eighth of the default 8 MiB ring is 1 MiB, ~5000 records.
    uint64_t wakeup = std::min<uint64_t>(std::max<uint64_t>(batch_bytes_, load.ring_buffer_bytes / 8),
                                         load.ring_buffer_bytes / 4);
    while (wakeup & (wakeup - 1)) wakeup &= wakeup - 1;  // round down to a power of two
    load.wakeup_bytes = wakeup;

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
        // A batch at least half full becomes the Buffer's memory (freed when
        // the Buffer is collected): no copy, and V8 counts nearly all of
        // the allocation, so it collects in time. A smaller one (flushed
        // on time) is copied into a Buffer of its size and freed at once:
        // handing it over would hold its whole capacity while V8 counts
        // only the bytes used.
        Napi::Buffer<uint8_t> buf;
        if (b->len >= b->cap / 2) {
          buf = Napi::Buffer<uint8_t>::New(env, b->data, b->len, [](Napi::Env, uint8_t*, Batch* owned) { Batch::Free(owned); }, b);
        } else {
          buf = Napi::Buffer<uint8_t>::Copy(env, b->data, b->len);
          Batch::Free(b);
        }
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

  static uint64_t Big(Napi::Value v, const char* what) {
    bool lossless = true;
    if (v.IsBigInt()) return v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
    ThrowInvalid(v.Env(), std::string("scope: ") + what + " must be a bigint or a number");
  }

  // The image host/capture/kernel-scope.ts compiles (KernelScopeImage).
  static ScopeImage ParseScope(Napi::Env env, Napi::Object o) {
    ScopeImage s;
    Napi::Value config = o.Get("config");
    if (!config.IsTypedArray()) ThrowInvalid(env, "scope.config must be a Uint8Array");
    Napi::Uint8Array bytes = config.As<Napi::Uint8Array>();
    s.config.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
    if (!o.Get("eventPolicies").IsArray() || !o.Get("values").IsArray())
      ThrowInvalid(env, "scope.eventPolicies and scope.values must be arrays");
    Napi::Array evs = o.Get("eventPolicies").As<Napi::Array>();
    for (uint32_t i = 0; i < evs.Length(); i++) {
      Napi::Array pair = evs.Get(i).As<Napi::Array>();
      s.event_policies.emplace_back(static_cast<uint32_t>(pair.Get(0u).As<Napi::Number>().Uint32Value()),
                                    Big(pair.Get(1u), "event policies"));
    }
    Napi::Array vals = o.Get("values").As<Napi::Array>();
    for (uint32_t i = 0; i < vals.Length(); i++) {
      Napi::Object v = vals.Get(i).As<Napi::Object>();
      ScopeValue sv{};
      sv.field = v.Get("field").As<Napi::Number>().Uint32Value();
      Napi::Value value = v.Get("value");
      sv.is_text = value.IsString();
      if (sv.is_text) sv.text = value.As<Napi::String>().Utf8Value();
      else sv.value = Big(value, "value");
      sv.eq = Big(v.Get("eq"), "eq");
      sv.ne = Big(v.Get("ne"), "ne");
      sv.flags = v.Get("flags").IsUndefined() ? 0 : Big(v.Get("flags"), "flags");
      s.values.push_back(std::move(sv));
    }
    return s;
  }

  Napi::Value ApplyScopeJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (stopped_) throw MakeError(env, Failure::Make("TRC_ERR_STATE", "scope", 0, "capture: applyScope after stop"));
    if (!info[0].IsObject()) ThrowInvalid(env, "applyScope(image) needs an object");
    Failure f = loader_.ApplyScope(ParseScope(env, info[0].As<Napi::Object>()));
    if (f.failed()) throw MakeError(env, f);
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (batcher_) {
      received_ = batcher_->received();
      lost_queue_full_ = batcher_->lost_queue_full();
    }
    if (!stopped_) counters_ = loader_.ReadCounters();
    auto num = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
    Napi::Object s = Napi::Object::New(env);
    s.Set("eventsReceived", num(received_));
    s.Set("batchesDelivered", num(delivered_->batches.load()));
    s.Set("lostRingBuffer", num(counters_.lost_total));
    s.Set("lostQueueFull", num(lost_queue_full_));
    Napi::Array by_cpu = Napi::Array::New(env, counters_.lost_by_cpu.size());
    for (size_t i = 0; i < counters_.lost_by_cpu.size(); i++) by_cpu.Set(i, num(counters_.lost_by_cpu[i]));
    s.Set("lostRingBufferByCpu", by_cpu);
    Napi::Array by_event = Napi::Array::New(env, counters_.lost_by_event.size());
    for (size_t i = 0; i < counters_.lost_by_event.size(); i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, num(counters_.lost_by_event[i].first));
      pair.Set(1u, num(counters_.lost_by_event[i].second));
      by_event.Set(i, pair);
    }
    s.Set("lostRingBufferByEvent", by_event);
    s.Set("truncated", num(counters_.truncated));
    s.Set("noTaskStorage", num(counters_.no_storage));
    s.Set("kernelMissedRuns", num(counters_.recursion_misses));
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
    counters_ = loader_.ReadCounters();
    // Programs stop firing before the last drain; the ring buffer map stays
    // alive until the object is closed below.
    loader_.Detach();
    counters_ = loader_.ReadCounters();  // after detach: final
    if (batcher_) {
      batcher_->Stop();
      batcher_->DeliverStaged(loader_.TakeStaged());
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
  uint64_t received_ = 0, lost_queue_full_ = 0;
  Counters counters_;
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
    Napi::Array events = Napi::Array::New(env, results[i].events.size());
    for (size_t j = 0; j < results[i].events.size(); j++) events.Set(j, Napi::Number::New(env, results[i].events[j]));
    r.Set("events", events);
    r.Set("degrades", results[i].degrades);
    out.Set(i, r);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Define(env));
  exports.Set("probeKernel", Napi::Function::New(env, ProbeKernelJs, "probeKernel"));
  exports.Set("flatVersion", Napi::Number::New(env, 1));  // docs/abi/flat-encoding.md
  exports.Set("scopeConfigSize", Napi::Number::New(env, sizeof(struct tr_scope_cfg)));  // bpf/common/config.h
  return exports;
}

}  // namespace

NODE_API_MODULE(tracee_capture, Init)
