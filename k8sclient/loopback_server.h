// LoopbackServer: a small HTTP/1.1 server for endpoints on this machine that stream: the local
// agent's kubelet log endpoint (containerLogs, with follow) and the kubectl plugin's read-only
// `ui` page. GET/HEAD only, one request per connection (Connection: close), one thread per
// connection (at most max_connections at once; more are answered 503). Responses are either
// whole (Content-Length) or chunked, written as the handler produces them.
//
// Not a general web server: no TLS, no keep-alive, no request bodies.
//
// Thread-safety: Start/Stop from one owning thread. The handler runs on connection threads, several
// at once, and must be thread-safe. A ServerResponse belongs to its connection's thread.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "k8sclient/status.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

struct ServerRequest {
  std::string method;                        // "GET" or "HEAD"
  std::string path;                          // percent-decoded, without the query
  std::map<std::string, std::string> query;  // decoded; the last value of a repeated key wins

  // The query value, or fallback when absent.
  std::string Query(const std::string& key, const std::string& fallback = "") const {
    auto it = query.find(key);
    return it == query.end() ? fallback : it->second;
  }
};

class ServerResponse {
 public:
  ServerResponse(int fd, bool head, const std::atomic<bool>& stopping)
      : fd_(fd), head_(head), stopping_(stopping) {}
  // A whole answer. Only once, and not after Begin.
  void Send(int code, const std::string& content_type, const std::string& body);
  // Starts a chunked answer; Write sends each piece at once. False when the client has gone or
  // the server is stopping: the handler should return.
  bool Begin(int code, const std::string& content_type);
  bool Write(std::string_view data);
  // True while the client is connected and the server runs (for handlers that wait).
  bool Alive() const;
  bool started() const { return started_; }
  void End();  // the last chunk; called for the handler if it did not

 private:
  bool SendRaw(std::string_view data);
  const int fd_;
  const bool head_;
  const std::atomic<bool>& stopping_;
  bool started_ = false;
  bool chunked_ = false;
  bool ended_ = false;
  bool broken_ = false;
};

using ServerHandler = std::function<void(const ServerRequest&, ServerResponse&)>;

class LoopbackServer {
 public:
  // host: "127.0.0.1" (the default for everything here); port 0 picks a free one.
  LoopbackServer(std::string host, int port, ServerHandler handler, int max_connections = 64);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  // Binds and listens (errors come back here: "127.0.0.1:8080: Address already in use").
  Status Start();
  // Stops accepting, tells handlers to end (Alive() turns false) and joins every thread.
  void Stop() EXCLUDES(mu_);
  int port() const { return port_; }

 private:
  void Accept() EXCLUDES(mu_);
  void Serve(int fd);
  void Reap() EXCLUDES(mu_);

  const std::string host_;
  const int requested_port_;
  const ServerHandler handler_;
  const int max_connections_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::thread accept_thread_;
  Mutex mu_;
  using Worker = std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>;  // thread, done
  std::list<Worker> workers_ GUARDED_BY(mu_);
};

// Parses "GET /a%20b?x=1&y=2 HTTP/1.1" into req. False when malformed.
bool ParseRequestLine(const std::string& line, ServerRequest* req);
// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace stepline::k8s
