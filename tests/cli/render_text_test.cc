#include "cli/render_text.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace stepline::cli {
namespace {

TEST(FormatDurationTest, Table) {
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {-5, "0s"},   {0, "0s"},      {59, "59s"},   {60, "1m"},       {192, "3m12s"},
      {3600, "1h"}, {7500, "2h5m"}, {86400, "1d"}, {273600, "3d4h"},
  };
  for (const auto& [in, want] : cases) {
    SCOPED_TRACE(in);
    EXPECT_EQ(FormatDuration(in), want);
  }
}

TEST(SecondsBetweenTest, Table) {
  EXPECT_EQ(SecondsBetween("2026-09-21T14:13:20Z", "2026-09-21T14:13:32Z", testing::kNow), 12);
  EXPECT_EQ(SecondsBetween("2026-09-21T14:13:20Z", "", testing::kNow), 100);
  EXPECT_EQ(SecondsBetween("", "", testing::kNow), -1);
  EXPECT_EQ(SecondsBetween("yesterday", "", testing::kNow), -1);
}

TEST(ChildrenSummaryTest, Table) {
  struct Case {
    std::string name;
    ChildCounts counts;
    std::vector<ChildView> failed;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"the issue's example",
       {20, 17, 1, 2, 0},
       {{.index = 4, .item = "ch", .reason = "OOMKilled"}},
       "17/20 ✓, 1 failed [ch: OOMKilled], 2 running"},
      {"all done", {3, 3, 0, 0, 0}, {}, "3/3 ✓"},
      {"pending children; no item or an object item shown by index",
       {5, 0, 2, 0, 3},
       {{.index = 2, .item = "", .phase = "Failed"},
        {.index = 4, .item = R"({"region":"us"})", .reason = "Error"}},
       "0/5 ✓, 2 failed [#2: Failed, #4: Error], 3 pending"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    StepView s{.fan_out = true, .children = c.counts, .failed_children = c.failed};
    EXPECT_EQ(ChildrenSummary(s), c.want);
  }
}

TEST(StepDetailsTest, Table) {
  RunView run{.name = "r1"};
  struct Case {
    std::string name;
    StepView step;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"approval wait says how to answer",
       {.name = "gate", .type = "Approval", .phase = "Waiting"},
       "waiting for approval: kubectl stepline approve r1 gate"},
      {"quota wait shows the quota's message",
       {.phase = "WaitingForQuota", .message = "exceeded quota: q\nmore"},
       "exceeded quota: q"},
      {"unschedulable pending shows the scheduler",
       {.phase = "Pending", .message = "0/2 nodes are available: 2 Insufficient memory."},
       "0/2 nodes are available: 2 Insufficient memory."},
      {"succeeded after a retry names the last failure",
       {.phase = "Succeeded", .reason = "Error"},
       "last failure: Error"},
      {"failed shows the message",
       {.phase = "Failed", .reason = "Error", .message = "exit code 1"},
       "exit code 1"},
      {"plain pending says nothing", {.phase = "Pending"}, ""},
      {"a re-run's reused step names its run",
       {.phase = "Succeeded", .reused_from = "run-1"},
       "reused from run-1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(StepDetails(c.step, run), c.want);
  }
  RunView v = RunViewFromObject(testing::ForecastRun());
  EXPECT_EQ(StepDetails(*v.Find("evaluate"), v), "also after train");
}

TEST(RunTreeTest, PlainTree) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  const std::string want =
      "Name:        forecast-1\n"
      "Namespace:   ml\n"
      "Pipeline:    forecast\n"
      "Status:      Executing\n"
      "Progress:    4/9\n"
      "Duration:    1m40s\n"
      "\n"
      "STEP                 PHASE             ATTEMPTS   DURATION   DETAILS\n"
      "✓ prepare            Succeeded         2          12s        last failure: Error\n"
      "      outputs: rows=1200\n"
      "├─● train            Running                      1m28s      "
      "2/4 ✓, 1 failed [ch: OOMKilled], 1 running\n"
      "└─◔ quota-hog        WaitingForQuota                         exceeded quota: compute, "
      "requested: requests.cpu=4, used: requests.cpu=2, limited: requests.cpu=4\n"
      "  └─○ evaluate       Pending                                 also after train\n"
      "    └─○ approve      Pending\n"
      "      └─○ register   Pending\n";
  EXPECT_EQ(RunTree(v, testing::kNow, false), want);
}

TEST(RunTreeTest, ColourOnlyWhenAsked) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  EXPECT_EQ(RunTree(v, testing::kNow, false).find('\033'), std::string::npos);
  const std::string coloured = RunTree(v, testing::kNow, true);
  EXPECT_NE(coloured.find("\033[32m✓\033[0m prepare"), std::string::npos) << coloured;
}

TEST(ListTableTest, WithAndWithoutNamespace) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  EXPECT_EQ(ListTable({v}, false, testing::kNow),
            "NAME         PIPELINE   STATUS      PROGRESS   DURATION   AGE\n"
            "forecast-1   forecast   Executing   4/9        1m40s      1m40s\n");
  EXPECT_EQ(ListTable({v}, true, testing::kNow).substr(0, 15), "NAMESPACE   NAM");
}

TEST(ObjectYamlTest, QuotesWhatWouldReadAsAnotherType) {
  auto obj = k8s::Object::parse(
      R"({"a": "1", "b": 1, "c": "true", "d": "text", "e": [], "f": null, "g": "", "h": [{"i": {}}]})");
  EXPECT_EQ(ObjectYaml(obj),
            "a: \"1\"\nb: 1\nc: \"true\"\nd: text\ne: []\nf: ~\ng: \"\"\nh:\n  - i: {}\n");
}

}  // namespace
}  // namespace stepline::cli
