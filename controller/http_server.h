// A minimal HTTP/1.1 server for the probe and metrics endpoints: GET/HEAD only, one request per
// connection (Connection: close), requests handled one at a time on the server's thread.
// Enough for /healthz, /readyz and /metrics; not a general web server.
//
// Thread-safety: Start/Stop from one owning thread. Handlers run on the server's thread and
// must be thread-safe with respect to the rest of the program.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "k8sclient/status.h"

namespace stepline::controller {

struct HttpResponse {
  int code = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;

class HttpServer {
 public:
  // address: "host:port", ":port" (all interfaces) or "port"; port 0 picks a free one.
  explicit HttpServer(std::string address) : address_(std::move(address)) {}
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register before Start. path is matched exactly, without the query string.
  void Handle(const std::string& path, HttpHandler handler) {
    handlers_[path] = std::move(handler);
  }
  // Binds and listens (errors come back here, e.g. address in use), then serves on a thread.
  k8s::Status Start();
  void Stop();
  // The bound port (useful with port 0).
  int port() const { return port_; }

 private:
  void Serve();
  void HandleConnection(int fd);
  HttpResponse Dispatch(const std::string& method, const std::string& path);

  const std::string address_;
  std::map<std::string, HttpHandler> handlers_;  // constant after Start
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Splits "host:port" / ":port" / "port" into host ("" = any) and port. False when malformed.
bool ParseBindAddress(const std::string& address, std::string* host, int* port);

}  // namespace stepline::controller
