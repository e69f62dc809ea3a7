// RequestMetrics: a hook told about every HTTP request the client makes, so the controller can
// export rest_client_requests_total / durations to Prometheus.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

// Implementations must be thread-safe and fast: OnRequest is called on the requesting thread,
// once per HTTP attempt (retries count separately).
class RequestMetrics {
 public:
  virtual ~RequestMetrics() = default;
  // verb: get, list, watch, create, update, patch, delete. group_resource: "jobs.batch".
  // code: the HTTP status, or 0 when no answer came (transport error, cancelled).
  virtual void OnRequest(std::string_view verb, std::string_view group_resource, int code,
                         std::chrono::nanoseconds duration) = 0;
};

// Forwards to a callback (which must itself be thread-safe).
class CallbackRequestMetrics final : public RequestMetrics {
 public:
  using Callback = std::function<void(std::string_view verb, std::string_view group_resource,
                                      int code, std::chrono::nanoseconds duration)>;
  explicit CallbackRequestMetrics(Callback callback) : callback_(std::move(callback)) {}
  void OnRequest(std::string_view verb, std::string_view group_resource, int code,
                 std::chrono::nanoseconds duration) override {
    callback_(verb, group_resource, code, duration);
  }

 private:
  const Callback callback_;
};

// Counts requests by (verb, group_resource, code) with their total duration.
// Thread-safe: counts_ is GUARDED_BY mu_.
class CountingRequestMetrics final : public RequestMetrics {
 public:
  using Key = std::tuple<std::string, std::string, int>;  // verb, group_resource, code
  struct Value {
    uint64_t count = 0;
    std::chrono::nanoseconds total_duration{0};
  };

  void OnRequest(std::string_view verb, std::string_view group_resource, int code,
                 std::chrono::nanoseconds duration) override {
    MutexLock lock(mu_);
    Value& v = counts_[Key(std::string(verb), std::string(group_resource), code)];
    ++v.count;
    v.total_duration += duration;
  }
  uint64_t Count(const std::string& verb, const std::string& group_resource, int code) const {
    MutexLock lock(mu_);
    auto it = counts_.find(Key(verb, group_resource, code));
    return it == counts_.end() ? 0 : it->second.count;
  }
  std::map<Key, Value> Snapshot() const {
    MutexLock lock(mu_);
    return counts_;
  }

 private:
  mutable Mutex mu_;
  std::map<Key, Value> counts_ GUARDED_BY(mu_);
};

}  // namespace stepline::k8s
