// The API client's RequestMetrics hook onto the metrics registry:
// stepline_api_requests_total{verb,resource,code} and
// stepline_api_request_duration_seconds{verb,resource}. Thread-safe (the families are).
#pragma once

#include <string>

#include "controller/metrics.h"
#include "k8sclient/request_metrics.h"

namespace stepline::controller {

class RegistryRequestMetrics final : public k8s::RequestMetrics {
 public:
  explicit RegistryRequestMetrics(metrics::Registry& registry)
      : requests_(registry.Counter("stepline_api_requests_total",
                                   "HTTP requests to the API server by verb, resource and status "
                                   "code (0: no answer).",
                                   {"verb", "resource", "code"})),
        duration_(registry.Histogram("stepline_api_request_duration_seconds",
                                     "Latency of API server requests (watches: until they end).",
                                     {"verb", "resource"},
                                     // 0.5 ms to 16 s, doubling: a create's tail is visible
                                     metrics::ExponentialBuckets(0.0005, 2, 16))) {}

  void OnRequest(std::string_view verb, std::string_view resource, int code,
                 std::chrono::nanoseconds duration) override {
    requests_.Inc({std::string(verb), std::string(resource), std::to_string(code)});
    duration_.Observe({std::string(verb), std::string(resource)},
                      std::chrono::duration<double>(duration).count());
  }

 private:
  metrics::ScalarFamily& requests_;
  metrics::HistogramFamily& duration_;
};

}  // namespace stepline::controller
