#include "cli/render_html.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace stepline::cli {
namespace {

TEST(RunPageTest, Table) {
  RunView running = RunViewFromObject(testing::ForecastRun());
  RunView done = running;
  done.status = "Succeeded";
  done.name = "<b>x</b>";
  struct Case {
    std::string name;
    RunPageInput in;
    std::vector<std::string> want, not_want;
  };
  const std::vector<Case> cases = {
      {"a running run reloads itself and inlines the graph",
       {.run = &running, .svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg id=g></svg>"},
       {"<meta http-equiv=\"refresh\" content=\"3\">", "<svg id=g></svg>",
        "<a href=\"/run?ns=ml&amp;name=forecast-1&amp;step=train\">train</a>",
        "2/4 ✓, 1 failed [ch: OOMKilled], 1 running", "rows=1200"},
       {"<?xml", "<!DOCTYPE svg", "id=\"log\""}},
      {"a finished run does not reload; names are escaped",
       {.run = &done},
       {"&lt;b&gt;x&lt;/b&gt;"},
       {"http-equiv=\"refresh\"", "<b>x</b>"}},
      {"the selected step shows its details and log",
       {.run = &running, .selected = "prepare", .logs = "line <1>\n", .logs_pod = "p-1"},
       {"<h2 id=\"step\">step prepare</h2>", "<pre id=\"log\">line &lt;1&gt;\n</pre>", "(pod p-1)",
        "<b>prepare</b>"},
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string page = RunPage(c.in, testing::kNow);
    for (const auto& w : c.want) EXPECT_NE(page.find(w), std::string::npos) << w << "\n" << page;
    for (const auto& w : c.not_want) EXPECT_EQ(page.find(w), std::string::npos) << w;
  }
}

TEST(ListPageTest, LinksEveryRun) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  const std::string page = ListPage({v}, "ml", testing::kNow, 6);
  EXPECT_NE(page.find("<a href=\"/run?ns=ml&amp;name=forecast-1\">forecast-1</a>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("Executions in namespace ml"), std::string::npos);
  EXPECT_NE(ListPage({}, "ml", testing::kNow, 6).find("No executions."), std::string::npos);
}

TEST(RunLinkTest, EscapesQuery) {
  EXPECT_EQ(RunLink("a b", "r&1", "s/x"), "/run?ns=a%20b&name=r%261&step=s%2Fx");
  EXPECT_EQ(RunLink("ns", "r"), "/run?ns=ns&name=r");
}

}  // namespace
}  // namespace stepline::cli
