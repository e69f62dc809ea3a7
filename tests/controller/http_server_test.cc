#include "controller/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace stepline::controller {
namespace {

std::string Fetch(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  ::send(fd, request.data(), request.size(), 0);
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  ::close(fd);
  return out;
}

TEST(HttpServerTest, ServesHandlersAnd404) {
  HttpServer server("127.0.0.1:0");
  server.Handle("/healthz", [] { return HttpResponse{200, "text/plain", "ok\n"}; });
  server.Handle("/readyz", [] { return HttpResponse{503, "text/plain", "caches not synced\n"}; });
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  std::string ok = Fetch(server.port(), "GET /healthz?verbose HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 3), "ok\n");
  EXPECT_EQ(Fetch(server.port(), "GET /readyz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 503", 0), 0u);
  EXPECT_EQ(Fetch(server.port(), "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Fetch(server.port(), "POST /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  server.Stop();
}

TEST(HttpServerTest, BindErrorsAreReported) {
  HttpServer first("127.0.0.1:0");
  ASSERT_TRUE(first.Start().ok());
  HttpServer second("127.0.0.1:" + std::to_string(first.port()));
  EXPECT_FALSE(second.Start().ok());
  EXPECT_FALSE(HttpServer("nonsense:port").Start().ok());
}

TEST(HttpServerTest, ParsesBindAddresses) {
  struct Case {
    std::string in;
    bool ok;
    std::string host;
    int port;
  };
  std::vector<Case> cases = {
      {":8080", true, "", 8080},         {"127.0.0.1:8081", true, "127.0.0.1", 8081},
      {"[::1]:9090", true, "::1", 9090}, {"8080", true, "", 8080},
      {":http", false, "", 0},           {":99999", false, "", 0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::string host;
    int port = 0;
    ASSERT_EQ(ParseBindAddress(c.in, &host, &port), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(host, c.host);
    EXPECT_EQ(port, c.port);
  }
}

}  // namespace
}  // namespace stepline::controller
