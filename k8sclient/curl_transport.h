// CurlTransport: HttpTransport over libcurl, with one event-loop thread driving one curl multi
// handle. All easy handles live and die on that thread; callers hand requests over through a
// command queue and wait for their answer (or for body chunks, for streams) on their own thread.
// Over HTTP/2 (ALPN) every request is a stream multiplexed on shared connections; the HTTP/1.1
// mode keeps up to N connections alive and reuses them.
//
// Thread-safety: Do() may be called from any number of threads at once. The commands queue is
// GUARDED_BY mu_; each exchange has its own mutex (see the .cc). Destroying the transport while
// calls are in flight makes them return kCancelled.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "k8sclient/config.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

struct CurlTransportOptions {
  enum class HttpVersion { kHttp2, kHttp11 };

  std::string ca_pem;  // "" = the system's CAs
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;  // only ever set from an explicitly allowed config
  std::string user_agent = "stepline/0.1.0";
  HttpVersion http_version = HttpVersion::kHttp2;
  // Connections per host: 0 lets HTTP/2 use as few as the streams need (one, up to the
  // server's stream limit); for HTTP/1.1 the number of parallel connections (default 16).
  int max_connections = 0;
  std::chrono::milliseconds connect_timeout{10'000};
  size_t max_response_bytes = size_t{64} << 20;  // larger answers fail (streams are not bounded)
  size_t max_buffered_stream_bytes = size_t{8} << 20;  // a stream pauses when its reader lags

  static CurlTransportOptions FromRestConfig(const RestConfig& config);
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> Do(const HttpRequest& request) override;

  // Connections opened so far (to check reuse and multiplexing).
  uint64_t connections_opened() const { return connections_opened_.load(); }

  class Exchange;  // one request in flight; defined in the .cc

 private:
  enum class CommandKind { kStart, kAbort, kResume };
  struct Command {
    CommandKind kind;
    std::shared_ptr<Exchange> exchange;
  };

  void Post(CommandKind kind, std::shared_ptr<Exchange> exchange) EXCLUDES(mu_);
  Result<HttpResponse> Await(const std::shared_ptr<Exchange>& ex, const HttpRequest& request);
  // Event loop (loop thread only).
  void Loop();
  bool RunCommands() EXCLUDES(mu_);  // false when shutting down
  void Start(const std::shared_ptr<Exchange>& ex);
  void Finish(Exchange* ex, Status status);
  void ReapFinished();
  void AbortAll() EXCLUDES(mu_);

  // Constant after construction.
  const CurlTransportOptions options_;
  void* multi_ = nullptr;  // CURLM*, used by the loop thread (curl_multi_wakeup: any thread)

  Mutex mu_;
  std::deque<Command> commands_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  // Loop thread only: exchanges whose easy handle is in the multi handle.
  std::unordered_map<Exchange*, std::shared_ptr<Exchange>> in_flight_;

  std::atomic<uint64_t> connections_opened_{0};
  std::thread loop_;  // last: starts after everything above is ready
};

}  // namespace stepline::k8s
