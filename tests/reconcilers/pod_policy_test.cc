// Pod policy (issue #16): service accounts, tolerations and nodeSelector a cluster admin allows.
#include "reconcilers/pod_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stepline::reconcilers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Pipeline Make(const std::string& sa, Json tolerations, StringMap node_selector = {}) {
  Pipeline p;
  p.metadata.name = "p";
  p.metadata.namespace_ = "ml";
  p.spec.service_account_name = sa;
  Step s;
  s.name = "train";
  s.tolerations = std::move(tolerations);
  s.node_selector = std::move(node_selector);
  p.spec.steps.push_back(s);
  return p;
}

TEST(PodPolicyTest, ServiceAccountsAreRefusedUnlessListed) {
  struct Case {
    std::string name;
    std::vector<std::string> allowed;
    bool ok;
  };
  std::vector<Case> cases = {{"default policy", {}, false},
                             {"listed", {"ml/trainer"}, true},
                             {"any namespace", {"*/trainer"}, true},
                             {"namespace wide", {"ml/*"}, true},
                             {"everything", {"*"}, true},
                             {"another namespace", {"dev/trainer"}, false},
                             {"another name", {"ml/admin"}, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = PodPolicyProblems(Make("trainer", nullptr), PodPolicy{c.allowed, {}});
    EXPECT_EQ(got.empty(), c.ok);
    if (!c.ok) {
      EXPECT_THAT(got, ElementsAre(HasSubstr("spec.serviceAccountName: \"trainer\" is not allowed "
                                             "in namespace \"ml\"")));
    }
  }
  EXPECT_TRUE(PodPolicyProblems(Make("", nullptr), PodPolicy{}).empty()) << "no account named";
}

TEST(PodPolicyTest, TolerationsAndNodeSelectors) {
  PodPolicy open;
  auto all = PodPolicyProblems(Make("", Json::parse(R"([{"operator": "Exists"}])")), open);
  EXPECT_THAT(all, ElementsAre("spec.steps[0] (train).tolerations[0]: tolerating every taint is "
                               "not allowed; name the taint's key"));
  auto cp = PodPolicyProblems(
      Make("", Json::parse(R"([{"key": "node-role.kubernetes.io/control-plane"}])")), open);
  EXPECT_THAT(cp, ElementsAre(HasSubstr("the control-plane taint is not allowed")));
  auto gpu = Json::parse(R"([{"key": "nvidia.com/gpu", "operator": "Exists"}])");
  EXPECT_TRUE(PodPolicyProblems(Make("", gpu), open).empty());
  EXPECT_TRUE(PodPolicyProblems(Make("", gpu), PodPolicy{{}, {"nvidia.com/gpu"}}).empty());
  EXPECT_THAT(PodPolicyProblems(Make("", gpu), PodPolicy{{}, {"spot"}}),
              ElementsAre(HasSubstr("\"nvidia.com/gpu\" is not allowed")));
  auto sel = PodPolicyProblems(Make("", nullptr, {{"node-role.kubernetes.io/master", ""}}), open);
  EXPECT_THAT(sel, ElementsAre(HasSubstr("selecting control-plane nodes is not allowed")));
}

TEST(PodPolicyTest, SplitList) {
  EXPECT_THAT(SplitList(" a, b ,,c "), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace stepline::reconcilers
