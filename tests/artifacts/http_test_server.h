// A small HTTP server on a loopback port for the tests of the artifacts binary's HTTP clients
// (the batch transform's model server, a Lambda step's function): one connection at a time,
// HTTP/1.1 with Connection: close, which is enough for libcurl. The handler answers each request.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace stepline::artifacts {

struct Request {
  std::string method, path, body, content_type, accept;
};
struct Response {
  int code = 200;
  std::string body;
};

class HttpTestServer {
 public:
  explicit HttpTestServer(std::function<Response(const Request&)> handler)
      : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HttpTestServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Every request but GET /ping, in order.
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  static std::string Header(const std::string& head, const std::string& name) {
    std::istringstream lines(head);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0 &&
          line[name.size()] == ':') {
        std::string v = line.substr(name.size() + 1);
        v.erase(0, v.find_first_not_of(' '));
        while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
        return v;
      }
    }
    return "";
  }

  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string data;
      char buf[65536];
      size_t end = std::string::npos;
      while ((end = data.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
      }
      if (end == std::string::npos) {
        ::close(c);
        continue;
      }
      std::string head = data.substr(0, end);
      Request r;
      std::istringstream first(head);
      first >> r.method >> r.path;
      r.content_type = Header(head, "Content-Type");
      r.accept = Header(head, "Accept");
      size_t length = std::strtoull(Header(head, "Content-Length").c_str(), nullptr, 10);
      r.body = data.substr(end + 4);
      while (r.body.size() < length) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        r.body.append(buf, static_cast<size_t>(n));
      }
      if (r.path != "/ping") {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(r);
      }
      Response out = handler_(r);
      std::string answer =
          "HTTP/1.1 " + std::to_string(out.code) +
          " X\r\nConnection: close\r\nContent-Length: " + std::to_string(out.body.size()) +
          "\r\n\r\n" + out.body;
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::function<Response(const Request&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace stepline::artifacts
