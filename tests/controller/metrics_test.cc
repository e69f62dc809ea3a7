#include "controller/metrics.h"

#include <gtest/gtest.h>

namespace stepline::controller::metrics {
namespace {

TEST(MetricsTest, RendersPrometheusTextFormat) {
  Registry registry;
  auto& reconciles = registry.Counter("stepline_reconcile_total", "Reconciles by result.",
                                      {"controller", "result"});
  auto& depth = registry.Gauge("stepline_workqueue_depth", "Keys waiting.", {"name"});
  auto& up = registry.Gauge("stepline_up", "Always 1.");
  auto& duration = registry.Histogram("stepline_reconcile_duration_seconds", "Time per reconcile.",
                                      {"controller"}, {0.1, 0.5, 1});
  reconciles.Inc({"pipelineexecution", "success"});
  reconciles.Inc({"pipelineexecution", "success"});
  reconciles.Inc({"pipeline", "error"});
  depth.Set({"pipeline"}, 3);
  up.Set({}, 1);
  duration.Observe({"pipeline"}, 0.05);
  duration.Observe({"pipeline"}, 0.5);
  duration.Observe({"pipeline"}, 2.25);

  const std::string want =
      "# HELP stepline_reconcile_total Reconciles by result.\n"
      "# TYPE stepline_reconcile_total counter\n"
      "stepline_reconcile_total{controller=\"pipeline\",result=\"error\"} 1\n"
      "stepline_reconcile_total{controller=\"pipelineexecution\",result=\"success\"} 2\n"
      "# HELP stepline_workqueue_depth Keys waiting.\n"
      "# TYPE stepline_workqueue_depth gauge\n"
      "stepline_workqueue_depth{name=\"pipeline\"} 3\n"
      "# HELP stepline_up Always 1.\n"
      "# TYPE stepline_up gauge\n"
      "stepline_up 1\n"
      "# HELP stepline_reconcile_duration_seconds Time per reconcile.\n"
      "# TYPE stepline_reconcile_duration_seconds histogram\n"
      "stepline_reconcile_duration_seconds_bucket{controller=\"pipeline\",le=\"0.1\"} 1\n"
      "stepline_reconcile_duration_seconds_bucket{controller=\"pipeline\",le=\"0.5\"} 2\n"
      "stepline_reconcile_duration_seconds_bucket{controller=\"pipeline\",le=\"1\"} 2\n"
      "stepline_reconcile_duration_seconds_bucket{controller=\"pipeline\",le=\"+Inf\"} 3\n"
      "stepline_reconcile_duration_seconds_sum{controller=\"pipeline\"} 2.8\n"
      "stepline_reconcile_duration_seconds_count{controller=\"pipeline\"} 3\n";
  EXPECT_EQ(registry.Render(), want);
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  auto& c = registry.Counter("x_total", "Line one\\two\nthree", {"path"});
  c.Inc({"a\"b\\c\nd"});
  EXPECT_EQ(registry.Render(),
            "# HELP x_total Line one\\\\two\\nthree\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, UnlabelledCounterShowsZeroBeforeFirstIncrement) {
  Registry registry;
  registry.Counter("stepline_events_dropped_total", "Dropped.");
  EXPECT_NE(registry.Render().find("\nstepline_events_dropped_total 0\n"), std::string::npos);
}

TEST(MetricsTest, FormatsValues) {
  struct Case {
    double v;
    std::string want;
  };
  std::vector<Case> cases = {{0, "0"},
                             {1, "1"},
                             {0.005, "0.005"},
                             {1e21, "1e+21"},
                             {-2.5, "-2.5"},
                             {1.0 / 0.0, "+Inf"},
                             {-1.0 / 0.0, "-Inf"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(FormatValue(c.v), c.want);
  }
}

TEST(MetricsTest, SameNameReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.Counter("adds_total", "Adds.", {"name"});
  auto& b = registry.Counter("adds_total", "Adds.", {"name"});
  EXPECT_EQ(&a, &b);
  a.Inc({"q1"});
  b.Inc({"q1"});
  EXPECT_EQ(a.Value({"q1"}), 2);
}

}  // namespace
}  // namespace stepline::controller::metrics
