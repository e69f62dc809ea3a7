#include "controller/event_recorder.h"

#include <algorithm>
#include <cstdio>

#include "controller/log.h"
#include "k8sclient/object_fields.h"

namespace stepline::controller {

namespace {

using k8s::StringField;

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = NamedLogger("events");
  return logger;
}

k8s::Object InvolvedObject(const k8s::Object& regarding) {
  k8s::Object ref = {{"apiVersion", StringField(regarding, "apiVersion")},
                     {"kind", StringField(regarding, "kind")},
                     {"name", k8s::NameOf(regarding)}};
  if (!k8s::NamespaceOf(regarding).empty()) ref["namespace"] = k8s::NamespaceOf(regarding);
  if (!k8s::UidOf(regarding).empty()) ref["uid"] = k8s::UidOf(regarding);
  if (!k8s::ResourceVersionOf(regarding).empty()) {
    ref["resourceVersion"] = k8s::ResourceVersionOf(regarding);
  }
  return ref;
}

// The dedup key: the object (by uid when known), the type, the reason and the message.
std::string DedupKey(const k8s::Object& involved, const std::string& type,
                     const std::string& reason, const std::string& message) {
  return StringField(involved, "kind") + "\x1f" + StringField(involved, "namespace") + "\x1f" +
         StringField(involved, "name") + "\x1f" + StringField(involved, "uid") + "\x1f" + type +
         "\x1f" + reason + "\x1f" + message;
}

}  // namespace

ApiEventRecorder::ApiEventRecorder(k8s::ObjectWriter& writer, const k8s::Clock& clock,
                                   metrics::Registry& registry, EventRecorderOptions options)
    : writer_(writer),
      clock_(clock),
      options_(std::move(options)),
      events_total_(registry.Counter("stepline_events_total",
                                     "Kubernetes Events recorded, by result "
                                     "(created, patched, dropped, failed).",
                                     {"result"})) {}

ApiEventRecorder::~ApiEventRecorder() { Stop(std::chrono::milliseconds(0)); }

void ApiEventRecorder::Record(const k8s::Object& regarding, EventType type,
                              const std::string& reason, const std::string& message) {
  Pending p;
  p.involved = InvolvedObject(regarding);
  p.ns = k8s::NamespaceOf(regarding).empty() ? "default" : k8s::NamespaceOf(regarding);
  p.type = type == EventType::kWarning ? "Warning" : "Normal";
  p.reason = reason;
  p.message = message;
  p.at = clock_.Now();
  {
    k8s::MutexLock lock(mu_);
    if (!stopping_ && queue_.size() < options_.queue_capacity) {
      queue_.push_back(std::move(p));
      cond_.Signal();
      return;
    }
  }
  ++dropped_;
  events_total_.Inc({"dropped"});
}

void ApiEventRecorder::Start() {
  if (!writer_thread_.joinable()) writer_thread_ = std::thread([this] { WriteLoop(); });
}

void ApiEventRecorder::Stop(std::chrono::milliseconds flush_deadline) {
  const k8s::MonoTime give_up = clock_.MonotonicNow() + flush_deadline;
  {
    k8s::MutexLock lock(mu_);
    stopping_ = true;
    cond_.SignalAll();
  }
  if (writer_thread_.joinable()) writer_thread_.join();
  // What the writer left (it stops taking new work once stopping) is flushed here.
  while (clock_.MonotonicNow() < give_up) {
    std::optional<Pending> p = TakeFront();
    if (!p) break;
    Write(*p);
  }
  k8s::MutexLock lock(mu_);
  queue_.clear();
}

std::optional<ApiEventRecorder::Pending> ApiEventRecorder::Pop() {
  k8s::MutexLock lock(mu_);
  while (!stopping_ && queue_.empty()) cond_.Wait(mu_);
  if (stopping_) return std::nullopt;
  Pending p = std::move(queue_.front());
  queue_.pop_front();
  return p;
}

std::optional<ApiEventRecorder::Pending> ApiEventRecorder::TakeFront() {
  k8s::MutexLock lock(mu_);
  if (queue_.empty()) return std::nullopt;
  Pending p = std::move(queue_.front());
  queue_.pop_front();
  return p;
}

void ApiEventRecorder::WriteLoop() {
  while (auto p = Pop()) Write(*p);
}

size_t ApiEventRecorder::Drain() {
  size_t n = 0;
  while (auto p = TakeFront()) {
    Write(*p);
    ++n;
  }
  return n;
}

void ApiEventRecorder::Write(const Pending& p) {
  const std::string key = DedupKey(p.involved, p.type, p.reason, p.message);
  auto it = seen_.find(key);
  if (it != seen_.end() && clock_.MonotonicNow() - it->second.last < options_.dedup_window &&
      PatchRepeat(p, it->second)) {
    return;
  }
  CreateNew(p, key);
}

bool ApiEventRecorder::PatchRepeat(const Pending& p, Seen& seen) {
  const k8s::Object patch = {{"count", seen.count + 1},
                             {"lastTimestamp", k8s::FormatRfc3339(p.at)}};
  auto patched = writer_.Patch(k8s::resources::kEvents, p.ns, seen.event_name,
                               k8s::PatchType::kMerge, patch.dump());
  if (!patched.ok()) {
    // Gone (expired by the server's TTL) or unreachable: start a new Event instead.
    Log()->debug("patching event failed event={}/{} err={}", p.ns, seen.event_name,
                 patched.status().ToString());
    return false;
  }
  ++seen.count;
  seen.last = clock_.MonotonicNow();
  events_total_.Inc({"patched"});
  return true;
}

void ApiEventRecorder::CreateNew(const Pending& p, const std::string& key) {
  // client-go's name: "<object>.<hex unix nanoseconds>"; kept strictly increasing so two events
  // stamped in the same instant never collide.
  int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(p.at.time_since_epoch()).count();
  nanos = std::max(nanos, last_name_nanos_ + 1);
  last_name_nanos_ = nanos;
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(nanos));
  const std::string name = StringField(p.involved, "name") + suffix;
  const std::string ts = k8s::FormatRfc3339(p.at);
  k8s::Object event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name}, {"namespace", p.ns}}},
      {"involvedObject", p.involved},
      {"reason", p.reason},
      {"message", p.message},
      {"type", p.type},
      {"source", {{"component", options_.component}}},
      {"firstTimestamp", ts},
      {"lastTimestamp", ts},
      {"count", 1},
      {"reportingComponent", options_.component},
      {"reportingInstance", options_.instance},
  };
  auto created = writer_.Create(k8s::resources::kEvents, p.ns, event);
  if (!created.ok()) {
    events_total_.Inc({"failed"});
    Log()->warn("creating event failed object={}/{} reason={} err={}", p.ns,
                StringField(p.involved, "name"), p.reason, created.status().ToString());
    return;
  }
  events_total_.Inc({"created"});
  seen_[key] = Seen{name, 1, clock_.MonotonicNow()};
  EvictOldest();
}

void ApiEventRecorder::EvictOldest() {
  if (seen_.size() <= options_.max_cached) return;
  auto oldest = seen_.begin();
  for (auto it = seen_.begin(); it != seen_.end(); ++it) {
    if (it->second.last < oldest->second.last) oldest = it;
  }
  seen_.erase(oldest);
}

}  // namespace stepline::controller
