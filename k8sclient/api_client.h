// ApiServerClient: the Client interface (client.h) over HTTP to a real API server.
//
// Every request goes through the client-side rate limiter, carries the current bearer token
// (re-read from the token file every minute and at once after a 401, then retried once), and is
// retried on 429, 5xx and transport failures (Retry-After honoured, bounded attempts, capped
// backoff; writes that may have been applied are not retried). Errors come back as typed
// Status values decoded from the server's metav1.Status.
//
// Thread-safety: all methods may be called from any number of threads at once. The members
// are constant after construction or thread-safe themselves (limiter, token provider,
// transport, metrics).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/config.h"
#include "k8sclient/curl_transport.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/rate_limiter.h"
#include "k8sclient/request_metrics.h"
#include "k8sclient/retry.h"
#include "k8sclient/token_provider.h"

namespace stepline::k8s {

struct ApiClientOptions {
  RetryPolicy retry;
  RequestMetrics* metrics = nullptr;  // optional; must outlive the client
  Sleeper* sleeper = nullptr;         // waits for the limiter and retries; default: on the clock
  std::string field_manager;          // default: the user agent's product name ("stepline")
};

class ApiServerClient final : public Client {
 public:
  // transport and clock must outlive the client.
  ApiServerClient(RestConfig config, HttpTransport& transport, const Clock& clock,
                  ApiClientOptions options = {});
  // A client with its own CurlTransport (TLS material from config; transport options from
  // `transport`, or HTTP/2 defaults).
  static std::unique_ptr<ApiServerClient> New(
      const RestConfig& config, const Clock& clock, ApiClientOptions options = {},
      std::optional<CurlTransportOptions> transport = std::nullopt);
  ~ApiServerClient() override;

  Result<Object> Get(const Resource& res, const std::string& ns, const std::string& name) override;
  Result<ObjectList> List(const Resource& res, const std::string& ns,
                          const ListOptions& opts) override;
  Result<Object> Create(const Resource& res, const std::string& ns, const Object& obj,
                        const WriteOptions& opts = {}) override;
  Result<Object> Update(const Resource& res, const std::string& ns, const Object& obj,
                        const WriteOptions& opts = {}) override;
  Result<Object> UpdateStatus(const Resource& res, const std::string& ns, const Object& obj,
                              const WriteOptions& opts = {}) override;
  Result<Object> Patch(const Resource& res, const std::string& ns, const std::string& name,
                       PatchType type, const std::string& body, const WriteOptions& opts = {},
                       const std::string& subresource = {}) override;
  Status Delete(const Resource& res, const std::string& ns, const std::string& name,
                const DeleteOptions& opts = {}) override;
  Status Watch(const Resource& res, const std::string& ns, const WatchOptions& opts,
               const std::function<bool(WatchEvent&&)>& on_event,
               const std::atomic<bool>* stop) override;

  // GET of a subresource that answers with bytes, not an object (pods/log): the body goes to
  // on_chunk as it arrives. query is without '?'. Errors are typed as for Get (403 names the
  // verb and resource); not retried, since the caller may have seen data already.
  Status GetStream(const Resource& res, const std::string& ns, const std::string& name,
                   const std::string& subresource, const std::string& query,
                   const std::function<bool(std::string_view)>& on_chunk,
                   const std::atomic<bool>* stop);

  const RestConfig& config() const { return config_; }

  struct Call;  // one logical request (see the .cc)

 private:
  ApiServerClient(RestConfig config, HttpTransport* transport,
                  std::unique_ptr<HttpTransport> owned_transport, const Clock& clock,
                  ApiClientOptions options);
  Result<HttpResponse> Execute(const Call& call);
  Result<HttpResponse> SendOnce(const Call& call);
  Result<Object> Put(const Resource& res, const std::string& ns, const Object& obj,
                     const WriteOptions& opts, const std::string& subresource);
  std::string WriteQuery(const WriteOptions& opts, bool apply) const;

  // Constant after construction.
  const RestConfig config_;
  std::unique_ptr<HttpTransport> owned_transport_;  // set by New()
  HttpTransport& transport_;
  const Clock& clock_;
  const ApiClientOptions options_;
  std::unique_ptr<Sleeper> owned_sleeper_;
  Sleeper& sleeper_;
  // Thread-safe themselves.
  TokenBucketRateLimiter limiter_;
  TokenProvider tokens_;
};

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string QueryEscape(std::string_view text);

}  // namespace stepline::k8s
