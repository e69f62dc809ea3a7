// ApiEventRecorder: EventRecorder writing core/v1 Events, as client-go's event
// recorder does, without ever blocking a reconcile.
//
// Record() builds the event and puts it on a bounded queue; when the queue is full the event is
// dropped and counted. A background thread (Start) writes the queue: the first occurrence of an
// (object, type, reason, message) creates an Event named "<object>.<hex nanoseconds>" with
// count 1; the same again within the dedup window patches that Event (count + 1,
// lastTimestamp). Stop() writes what is queued, up to a deadline, then joins the thread.
//
// Thread-safety: Record from any thread. Start/Stop/Drain from one owning thread. Queue state is
// GUARDED_BY mu_; the dedup cache is touched only by the writing thread (or by Drain, when the
// writer is not started).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "controller/metrics.h"
#include "controller/reconciler.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::controller {

struct EventRecorderOptions {
  std::string component = "stepline-controller";  // source.component, reportingComponent
  std::string instance;                           // reportingInstance: the replica's identity
  size_t queue_capacity = 1000;
  std::chrono::minutes dedup_window{10};
  size_t max_cached = 4096;  // dedup entries kept; the oldest go first
};

class ApiEventRecorder final : public EventRecorder {
 public:
  // writer, clock and registry must outlive the recorder.
  ApiEventRecorder(k8s::ObjectWriter& writer, const k8s::Clock& clock, metrics::Registry& registry,
                   EventRecorderOptions options = {});
  ~ApiEventRecorder() override;

  void Record(const k8s::Object& regarding, EventType type, const std::string& reason,
              const std::string& message) override EXCLUDES(mu_);

  void Start();
  // Writes what is queued until the deadline passes, then stops the writer.
  void Stop(std::chrono::milliseconds flush_deadline = std::chrono::milliseconds(3000))
      EXCLUDES(mu_);
  // Writes everything queued on the calling thread (tests; or without Start). Returns how many.
  size_t Drain() EXCLUDES(mu_);
  uint64_t dropped() const { return dropped_.load(); }

 private:
  struct Pending {
    k8s::Object involved;  // involvedObject
    std::string ns;        // where the Event lives
    std::string type, reason, message;
    k8s::WallTime at;
  };
  struct Seen {
    std::string event_name;
    int64_t count = 0;
    k8s::MonoTime last{};
  };

  void WriteLoop();
  void Write(const Pending& p);
  bool PatchRepeat(const Pending& p, Seen& seen);
  void CreateNew(const Pending& p, const std::string& key);
  void EvictOldest();
  // Waits for the next queued event; nullopt once stopping.
  std::optional<Pending> Pop() EXCLUDES(mu_);
  // The oldest queued event, if any, without waiting.
  std::optional<Pending> TakeFront() EXCLUDES(mu_);

  // Constant after construction.
  k8s::ObjectWriter& writer_;
  const k8s::Clock& clock_;
  const EventRecorderOptions options_;
  metrics::ScalarFamily& events_total_;

  k8s::Mutex mu_;
  k8s::CondVar cond_;
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_thread_;

  std::map<std::string, Seen> seen_;  // the writing thread only
  int64_t last_name_nanos_ = 0;       // the writing thread only
};

}  // namespace stepline::controller
