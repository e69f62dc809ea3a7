// HttpTransport: the seam between the API client and the network. CurlTransport
// (curl_transport.h) implements it over libcurl; unit tests use fakes.
//
// Implementations must be safe to call from many threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::k8s {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: "https://host:port/apis/..."
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // the whole exchange; 0 = no limit (watches)
  // When set, a 2xx response's body is handed over in chunks as they arrive, on the calling
  // thread, instead of being collected; returning false ends the exchange early (Do then returns
  // the response, without body). Other answers are collected as usual.
  std::function<bool(std::string_view chunk)> on_body;
  // When it turns true, the exchange is abandoned and Do returns kCancelled within ~200 ms.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;                              // HTTP status code
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // empty when streamed through on_body
  std::string protocol;                        // "HTTP/2" or "HTTP/1.1"

  // The header's value, or "" when absent. name in lower case.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Performs one exchange. Any HTTP answer is a response (check status); a Status means no
  // answer: kTransport (TLS, protocol; reason kReasonPermanentTransport when retrying cannot
  // help), kUnavailable (could not connect), kTimeout, kCancelled.
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;
};

}  // namespace stepline::k8s
