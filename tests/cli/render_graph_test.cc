#include "cli/render_graph.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace stepline::cli {
namespace {

TEST(GraphDotTest, StepsEdgesAndFanOut) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  const std::string dot = GraphDot(v.steps, {.title = "forecast-1"});
  struct Case {
    std::string name, want;
  };
  const std::vector<Case> cases = {
      {"every step is a node", "\"register\" [id=\"step-register\""},
      {"edges follow dependsOn", "\"prepare\" -> \"train\";"},
      {"a join has both edges", "\"quota-hog\" -> \"evaluate\";"},
      {"the fan-out is one stacked node with its counts",
       "shape=box3d, label=\"train ×4\\n● Running\\n2/4 ✓, 1 failed, 1 running\""},
      {"an approval has its shape", "shape=hexagon"},
      {"retries are counted", "✓ Succeeded · 2 attempts"},
      {"phase colours", "fillcolor=\"#d8f0dc\", color=\"#2e8540\""},
      {"the title", "label=\"forecast-1\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_NE(dot.find(c.want), std::string::npos) << dot;
  }
  EXPECT_EQ(dot.find("URL="), std::string::npos);
}

TEST(GraphDotTest, EscapesAndLinks) {
  std::vector<StepView> steps(2);
  steps[0].name = "a\"b";
  steps[1].name = "c";
  steps[1].depends_on = {"a\"b", "ghost"};
  const std::string dot = GraphDot(steps, {.link_prefix = "/run?s=", .show_phase = false});
  EXPECT_NE(dot.find("\"a\\\"b\" -> \"c\";"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("ghost"), std::string::npos) << dot;
  EXPECT_NE(dot.find("URL=\"/run?s=c\""), std::string::npos) << dot;
  EXPECT_EQ(dot.find("Pending"), std::string::npos) << "a pipeline has no phases: " << dot;
}

TEST(RenderDotTest, SvgHasEveryStep) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  auto svg = RenderDot(GraphDot(v.steps, {}), "svg");
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_NE(svg->find("<svg"), std::string::npos);
  for (const auto& s : v.steps) {
    std::string title = s.name;  // Graphviz writes '-' as a character reference
    for (size_t at; (at = title.find('-')) != std::string::npos;) title.replace(at, 1, "&#45;");
    EXPECT_NE(svg->find("<title>" + title + "</title>"), std::string::npos) << s.name;
  }
}

TEST(RenderDotTest, PngAndErrors) {
  auto png = RenderDot("digraph { a -> b }", "png");
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(png->substr(1, 3), "PNG");
  EXPECT_FALSE(RenderDot("digraph { a -> ", "svg").ok());
  auto bad = RenderDot("digraph { a }", "gif");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("want dot, svg or png"), std::string::npos);
}

}  // namespace
}  // namespace stepline::cli
