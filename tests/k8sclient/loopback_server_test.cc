#include "k8sclient/loopback_server.h"

#include <gtest/gtest.h>

namespace stepline::k8s {
namespace {

TEST(ParseRequestLineTest, Table) {
  struct Case {
    std::string line;
    bool ok;
    std::string method, path;
    std::map<std::string, std::string> query;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1", true, "GET", "/", {}},
      {"GET /run?ns=ml&name=a%20b&step=x+y HTTP/1.1",
       true,
       "GET",
       "/run",
       {{"ns", "ml"}, {"name", "a b"}, {"step", "x y"}}},
      {"HEAD /a%2Fb?flag&k=1&k=2 HTTP/1.0", true, "HEAD", "/a/b", {{"flag", ""}, {"k", "2"}}},
      {"GET /bad%zz HTTP/1.1", true, "GET", "/bad%zz", {}},
      {"GET relative HTTP/1.1", false, "", "", {}},
      {"GET /", false, "", "", {}},
      {"", false, "", "", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    ServerRequest req;
    ASSERT_EQ(ParseRequestLine(c.line, &req), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(req.method, c.method);
    EXPECT_EQ(req.path, c.path);
    EXPECT_EQ(req.query, c.query);
  }
}

TEST(HtmlEscapeTest, Table) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain ✓"), "plain ✓");
}

}  // namespace
}  // namespace stepline::k8s
