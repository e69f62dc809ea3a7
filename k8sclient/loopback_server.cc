#include "k8sclient/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace stepline::k8s {

namespace {

const char* ReasonPhrase(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return code < 400 ? "OK" : "Error";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' is a space in query components only.
std::string Decode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

}  // namespace

bool ParseRequestLine(const std::string& line, ServerRequest* req) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) return false;
  req->method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target[0] != '/') return false;
  const size_t q = target.find('?');
  req->path = Decode(std::string_view(target).substr(0, q), false);
  req->query.clear();
  if (q == std::string::npos) return true;
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    std::string key = Decode(pair.substr(0, eq), true);
    if (!key.empty()) {
      req->query[key] = eq == std::string_view::npos ? "" : Decode(pair.substr(eq + 1), true);
    }
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return true;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool ServerResponse::SendRaw(std::string_view data) {
  size_t off = 0;
  while (!broken_ && off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      if (stopping_.load()) broken_ = true;
      continue;
    }
    if (n <= 0) broken_ = true;
    if (n > 0) off += static_cast<size_t>(n);
  }
  return !broken_;
}

void ServerResponse::Send(int code, const std::string& content_type, const std::string& body) {
  if (started_) return;
  started_ = ended_ = true;
  std::string head = "HTTP/1.1 " + std::to_string(code) + " " + ReasonPhrase(code) +
                     "\r\nContent-Type: " + content_type +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (SendRaw(head) && !head_) SendRaw(body);
}

bool ServerResponse::Begin(int code, const std::string& content_type) {
  if (started_) return !broken_;
  started_ = chunked_ = true;
  return SendRaw("HTTP/1.1 " + std::to_string(code) + " " + ReasonPhrase(code) +
                 "\r\nContent-Type: " + content_type +
                 "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-store\r\n"
                 "Connection: close\r\n\r\n");
}

bool ServerResponse::Write(std::string_view data) {
  if (!chunked_ || ended_ || stopping_.load()) return false;
  if (data.empty() || head_) return Alive();
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return SendRaw(size) && SendRaw(data) && SendRaw("\r\n");
}

bool ServerResponse::Alive() const {
  if (broken_ || stopping_.load()) return false;
  pollfd pfd{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) <= 0) return true;
  char c;
  // Readable with nothing to read (or an error) means the peer closed its side.
  return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0 &&
         ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void ServerResponse::End() {
  if (!started_) Send(500, "text/plain", "no answer\n");
  if (chunked_ && !ended_ && !head_) SendRaw("0\r\n\r\n");
  ended_ = true;
}

LoopbackServer::LoopbackServer(std::string host, int port, ServerHandler handler,
                               int max_connections)
    : host_(std::move(host)),
      requested_port_(port),
      handler_(std::move(handler)),
      max_connections_(max_connections) {}

LoopbackServer::~LoopbackServer() { Stop(); }

Status LoopbackServer::Start() {
  const std::string where = host_ + ":" + std::to_string(requested_port_);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(requested_port_));
  if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument(where + ": not an IPv4 address");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 64) != 0) {
    const std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return Status::InvalidArgument(where + ": " + err);
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  accept_thread_ = std::thread([this] { Accept(); });
  return Status::Ok();
}

void LoopbackServer::Stop() {
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::list<Worker> workers;
  {
    MutexLock lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [thread, done] : workers) thread.join();
}

void LoopbackServer::Reap() {
  MutexLock lock(mu_);
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second->load()) {
      it->first.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void LoopbackServer::Accept() {
  while (!stopping_.load()) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    Reap();
    if (::poll(&pfd, 1, 200) <= 0) continue;
    int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    timeval timeout{5, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (active_.load() >= max_connections_) {
      ServerResponse(conn, false, stopping_).Send(503, "text/plain", "too many connections\n");
      ::close(conn);
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    ++active_;
    MutexLock lock(mu_);
    workers_.emplace_back(std::thread([this, conn, done] {
                            Serve(conn);
                            ::close(conn);
                            --active_;
                            *done = true;
                          }),
                          done);
  }
}

void LoopbackServer::Serve(int fd) {
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  ServerRequest req;
  const bool parsed = ParseRequestLine(request.substr(0, request.find("\r\n")), &req);
  ServerResponse resp(fd, req.method == "HEAD", stopping_);
  if (!parsed) {
    resp.Send(400, "text/plain", "malformed request line\n");
  } else if (req.method != "GET" && req.method != "HEAD") {
    resp.Send(405, "text/plain", "only GET and HEAD\n");
  } else {
    handler_(req, resp);
  }
  resp.End();
}

}  // namespace stepline::k8s
