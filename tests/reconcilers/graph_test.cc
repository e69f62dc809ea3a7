#include "reconcilers/graph.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stepline::reconcilers {
namespace {

using S = StepState;

std::vector<StepDependencies> Forecast() {
  return {{"prepare", {}},
          {"train", {"prepare"}},
          {"evaluate", {"train"}},
          {"report", {"prepare"}},
          {"approve", {"evaluate", "report"}},
          {"register", {"approve"}}};
}

std::vector<std::string> Names(const Graph& g, const std::vector<size_t>& steps) {
  std::vector<std::string> names;
  for (size_t s : steps) names.push_back(g.Name(s));
  return names;
}

TEST(GraphTest, IndexesDependenciesBothWays) {
  auto g = BuildGraph(Forecast());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->size(), 6u);
  EXPECT_EQ(g->IndexOf("evaluate"), 2u);
  EXPECT_EQ(g->IndexOf("nope"), std::nullopt);
  EXPECT_EQ(Names(*g, g->Dependencies(4)), (std::vector<std::string>{"evaluate", "report"}));
  EXPECT_EQ(Names(*g, g->Dependents(0)), (std::vector<std::string>{"train", "report"}));
  EXPECT_TRUE(g->Dependents(5).empty());
  EXPECT_EQ(
      Names(*g, g->TopologicalOrder()),
      (std::vector<std::string>{"prepare", "train", "evaluate", "report", "approve", "register"}));
}

TEST(GraphTest, OrderPrefersDeclarationOrderAndDropsRepeats) {
  auto g = BuildGraph({{"c", {"a"}}, {"a", {}}, {"b", {}}, {"d", {"b", "a", "b"}}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Names(*g, g->TopologicalOrder()), (std::vector<std::string>{"a", "c", "b", "d"}));
  EXPECT_EQ(Names(*g, g->Dependencies(3)), (std::vector<std::string>{"b", "a"}));
  auto empty = BuildGraph({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(GraphTest, RejectsInvalidGraphsNamingTheProblem) {
  struct Case {
    std::string name;
    std::vector<StepDependencies> steps;
    std::string want;
  };
  std::vector<Case> cases = {
      {"duplicate", {{"a", {}}, {"b", {}}, {"a", {}}}, "duplicate step name \"a\""},
      {"unknown dependency",
       {{"prepare", {}}, {"train", {"prep"}}},
       "step \"train\" depends on unknown step \"prep\""},
      {"cycle of length 1 (self)", {{"a", {}}, {"b", {"a", "b"}}}, "step \"b\" depends on itself"},
      {"cycle of length 2", {{"a", {"b"}}, {"b", {"a"}}}, "dependency cycle: a -> b -> a"},
      {"cycle of length 3",
       {{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}},
       "dependency cycle: a -> b -> c -> a"},
      {"cycle reached through a path, named from its first declared step",
       {{"entry", {"y"}}, {"x", {"z"}}, {"y", {"x"}}, {"z", {"y"}}, {"ok", {}}},
       "dependency cycle: x -> z -> y -> x"},
      {"cycle beside a valid part",
       {{"root", {}}, {"p", {"root", "q"}}, {"q", {"p"}}},
       "dependency cycle: p -> q -> p"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto g = BuildGraph(c.steps);
    ASSERT_FALSE(g.ok());
    EXPECT_TRUE(g.status().IsInvalid());
    EXPECT_EQ(g.status().message(), c.want);
  }
}

TEST(GraphTest, ReadyStepsFollowStatesInDeclarationOrder) {
  struct Case {
    std::string name;
    std::vector<StepState> states;  // prepare train evaluate report approve register
    std::vector<std::string> ready;
    std::vector<std::string> blocked;
  };
  const S N = S::kNotStarted, R = S::kRunning, P = S::kDonePassable, B = S::kDoneBlocking;
  std::vector<Case> cases = {
      {"nothing started", {N, N, N, N, N, N}, {"prepare"}, {}},
      {"root running", {R, N, N, N, N, N}, {}, {}},
      {"root done fans out", {P, N, N, N, N, N}, {"train", "report"}, {}},
      {"one branch running", {P, R, N, P, N, N}, {}, {}},
      {"join waits for both", {P, P, P, R, N, N}, {}, {}},
      {"join ready", {P, P, P, P, N, N}, {"approve"}, {}},
      {"blocking failure", {P, B, N, P, N, N}, {}, {"evaluate", "approve", "register"}},
      {"failure at the root",
       {B, N, N, N, N, N},
       {},
       {"train", "evaluate", "report", "approve", "register"}},
      {"all done", {P, P, P, P, P, P}, {}, {}},
  };
  auto g = BuildGraph(Forecast());
  ASSERT_TRUE(g.ok());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto state_of = [&](size_t i) { return c.states[i]; };
    EXPECT_EQ(Names(*g, ReadySteps(*g, state_of)), c.ready);
    EXPECT_EQ(Names(*g, BlockedSteps(*g, state_of)), c.blocked);
  }
}

std::string StepName(int i) { return "s" + std::to_string(i); }

TEST(GraphTest, TenThousandStepChainDeclaredBackwards) {
  constexpr int kSteps = 10000;
  std::vector<StepDependencies> steps;
  for (int i = 0; i < kSteps; ++i) {  // s0 depends on s1, ..., the last is the root
    steps.push_back(
        {StepName(i), i + 1 < kSteps ? std::vector{StepName(i + 1)} : std::vector<std::string>{}});
  }
  auto g = BuildGraph(steps);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const std::vector<size_t>& order = g->TopologicalOrder();
  ASSERT_EQ(order.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(order.front(), static_cast<size_t>(kSteps - 1));
  EXPECT_EQ(order.back(), 0u);
  std::vector<StepState> states(kSteps, S::kDonePassable);
  states[0] = S::kNotStarted;
  EXPECT_EQ(ReadySteps(*g, [&](size_t i) { return states[i]; }), std::vector<size_t>{0});
  states.assign(kSteps, S::kNotStarted);
  states[kSteps - 1] = S::kDoneBlocking;
  EXPECT_EQ(BlockedSteps(*g, [&](size_t i) { return states[i]; }).size(),
            static_cast<size_t>(kSteps - 1));
}

TEST(GraphTest, TenThousandStepCycleIsNamedWithoutRecursion) {
  constexpr int kSteps = 10000;
  std::vector<StepDependencies> steps;
  for (int i = 0; i < kSteps; ++i) steps.push_back({StepName(i), {StepName((i + 1) % kSteps)}});
  auto g = BuildGraph(steps);
  ASSERT_FALSE(g.ok());
  const std::string& message = g.status().message();
  EXPECT_EQ(message.rfind("dependency cycle: s0 -> s1 -> s2 -> ", 0), 0u);
  EXPECT_TRUE(message.ends_with(" -> s9998 -> s9999 -> s0")) << message.substr(0, 100);
}

TEST(GraphTest, WideFanOutAndFanIn) {
  constexpr int kWidth = 10000;
  std::vector<StepDependencies> steps = {{"root", {}}};
  StepDependencies sink{"sink", {}};
  for (int i = 0; i < kWidth; ++i) {
    steps.push_back({StepName(i), {"root"}});
    sink.depends_on.push_back(StepName(i));
  }
  steps.push_back(sink);
  auto g = BuildGraph(steps);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->Dependents(0).size(), static_cast<size_t>(kWidth));
  EXPECT_EQ(g->Dependencies(kWidth + 1).size(), static_cast<size_t>(kWidth));
  std::vector<StepState> states(kWidth + 2, S::kNotStarted);
  states[0] = S::kDonePassable;
  std::vector<size_t> ready = ReadySteps(*g, [&](size_t i) { return states[i]; });
  ASSERT_EQ(ready.size(), static_cast<size_t>(kWidth));
  EXPECT_EQ(ready.front(), 1u);
  EXPECT_EQ(ready.back(), static_cast<size_t>(kWidth));
  states.assign(kWidth + 2, S::kDonePassable);
  states[kWidth + 1] = S::kNotStarted;
  states[kWidth / 2] = S::kRunning;
  EXPECT_TRUE(ReadySteps(*g, [&](size_t i) { return states[i]; }).empty());
}

}  // namespace
}  // namespace stepline::reconcilers
