#include <gtest/gtest.h>

#include "cli/logs.h"
#include "cli/user_errors.h"
#include "fixtures.h"

namespace stepline::cli {
namespace {

TEST(ExplainTest, Table) {
  const CallTarget run{"patch", "pipelineexecutions.stepline.dev", "ml", "run", "r1"};
  struct Case {
    k8s::Status status;
    CallTarget target;
    std::string want;
  };
  const std::vector<Case> cases = {
      {k8s::Status::NotFound("x"), run, "run \"r1\" not found in namespace \"ml\""},
      {k8s::Status::Forbidden("User \"bob\" cannot patch"), run,
       "you may not patch pipelineexecutions.stepline.dev in namespace \"ml\" (your credentials "
       "lack the RBAC permission: verb \"patch\" on \"pipelineexecutions.stepline.dev\"): User "
       "\"bob\" cannot patch"},
      {k8s::Status::Forbidden("no"),
       {"list", "pods", "", "", ""},
       "you may not list pods in any namespace (your credentials lack the RBAC permission: verb "
       "\"list\" on \"pods\"): no"},
      {k8s::Status::AlreadyExists("x"), run, "run \"r1\" already exists in namespace \"ml\""},
      {k8s::Status(k8s::StatusCode::kUnauthorized, "u", 401), run,
       "the cluster did not accept your credentials (401 Unauthorized): check your kubeconfig's "
       "user"},
      {k8s::Status::Transport("connection refused"), run,
       "cannot reach the API server: connection refused"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(Explain(c.status, c.target), c.want);
  }
}

TEST(StepErrorsTest, Table) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  EXPECT_EQ(UnknownStep(v, "nope"),
            "step \"nope\" not found in run \"forecast-1\"; its steps: prepare, train, quota-hog, "
            "evaluate, approve, register");
  EXPECT_EQ(NotWaitingForApproval(v, *v.Find("approve")),
            "step \"approve\" of run \"forecast-1\" is not waiting for approval (phase Pending)");
  EXPECT_NE(NotWaitingForApproval(v, *v.Find("train")).find("not an Approval step"),
            std::string::npos);
  StepView waiting = *v.Find("approve");
  waiting.phase = "Waiting";
  EXPECT_EQ(NotWaitingForApproval(v, waiting), "");
}

TEST(LogTargetTest, Table) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  struct Case {
    std::string step;
    std::optional<int64_t> index;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"prepare", std::nullopt, ""},
      {"train", 3, ""},
      {"train", std::nullopt,
       "step \"train\" is a fan-out of 4 children: choose a child with --index (0..3)"},
      {"train", 4, "step \"train\" has children 0..3, not 4"},
      {"prepare", 0, "step \"prepare\" is not a fan-out: --index does not apply"},
      {"approve", std::nullopt,
       "step \"approve\" is an Approval step: it runs no pod, so it has no logs"},
      {"ghost", std::nullopt, UnknownStep(v, "ghost")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.step);
    EXPECT_EQ(CheckLogTarget(v, c.step, c.index), c.want);
  }
}

TEST(AttemptPodsTest, OrderAndChildren) {
  auto pod = [](const std::string& name, const std::string& attempt, const char* index) {
    k8s::Object p = {{"metadata",
                      {{"name", name},
                       {"labels", {{"stepline.dev/attempt", attempt}}},
                       {"creationTimestamp", "2026-09-21T14:00:00Z"}}},
                     {"status", {{"phase", "Succeeded"}}}};
    if (index) p["metadata"]["labels"]["stepline.dev/index"] = index;
    return p;
  };
  std::vector<k8s::Object> pods = {pod("s-10", "10", nullptr), pod("s-2", "2", nullptr),
                                   pod("s-1", "1", nullptr), pod("c-0-1", "1", "0")};
  auto plain = AttemptPods(pods, std::nullopt);
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_EQ(plain[0].pod, "s-1");
  EXPECT_EQ(plain[1].pod, "s-2");
  EXPECT_EQ(plain[2].pod, "s-10");
  EXPECT_EQ(AttemptPods(pods, 0).size(), 4u);  // the selector already chose the child
  EXPECT_EQ(PodSelector("r", "s", 2),
            "stepline.dev/execution=r,stepline.dev/step=s,stepline.dev/index=2");
}

}  // namespace
}  // namespace stepline::cli
