#include <gtest/gtest.h>

#include "localagent/node_spec.h"
#include "localagent/quota.h"
#include "localagent/resources.h"
#include "localagent/scheduler_fit.h"

namespace stepline::localagent {
namespace {

using k8s::Object;

ResourceList Res(const Object& json) { return *ParseResourceList(json); }

NodeUsage Node(const std::string& spec, const Object& requested = Object::object(),
               int64_t pods = 0) {
  return {*ParseNodeSpec(spec), Res(requested), pods};
}

Object PodWith(const Object& containers) {
  return {{"metadata", {{"name", "p"}}}, {"spec", {{"containers", containers}}}};
}

TEST(NodeSpecTest, ParsesNameResourcesAndDefaults) {
  auto node = ParseNodeSpec("name=n1,cpu=4,memory=8Gi,nvidia.com/gpu=1");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(node->name, "n1");
  EXPECT_EQ(FormatNodeSpec(*node), "name=n1,cpu=4,memory=8Gi,nvidia.com/gpu=1,pods=110");
  EXPECT_EQ(node->labels.at("kubernetes.io/hostname"), "n1");
  EXPECT_FALSE(ParseNodeSpec("cpu=4").ok());
  EXPECT_FALSE(ParseNodeSpec("name=n1,cpu=four").ok());
  auto lines = ParseNodeSpecLines("# nodes\nname=a,cpu=1\n\nname=b,cpu=2 # big\n");
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[1].name, "b");
}

TEST(PodResourcesTest, SumsContainersDefaultsRequestsFromLimitsAndTakesInitMax) {
  Object pod = PodWith(Object::array(
      {{{"name", "a"}, {"resources", {{"requests", {{"cpu", "500m"}}}}}},
       {{"name", "b"}, {"resources", {{"limits", {{"cpu", "1"}, {"memory", "64Mi"}}}}}}}));
  pod["spec"]["initContainers"] =
      Object::array({{{"name", "i"}, {"resources", {{"requests", {{"memory", "1Gi"}}}}}}});
  auto res = PodResourcesOf(pod);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(FormatResourceList(res->requests), "cpu=1500m,memory=1Gi");
  EXPECT_EQ(FormatResourceList(res->limits), "cpu=1,memory=64Mi");
}

TEST(SchedulePodTest, Table) {
  struct Case {
    std::string name;
    Object requests;
    std::map<std::string, std::string> selector;
    std::vector<NodeUsage> nodes;
    std::string want_node;
    std::string want_message;
  };
  const std::vector<Case> cases = {
      {"fits the least allocated node",
       {{"cpu", "1"}},
       {},
       {Node("name=a,cpu=4,memory=8Gi", {{"cpu", "3"}}), Node("name=b,cpu=4,memory=8Gi")},
       "b",
       ""},
      {"too much memory everywhere",
       {{"memory", "100Gi"}},
       {},
       {Node("name=a,cpu=4,memory=8Gi"), Node("name=b,cpu=4,memory=8Gi")},
       "",
       "0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: "
       "2 No preemption victims found for incoming pod."},
      {"mixed reasons are counted and sorted as strings",
       {{"cpu", "3"}, {"memory", "4Gi"}, {"nvidia.com/gpu", "1"}},
       {},
       {Node("name=a,cpu=2,memory=8Gi,nvidia.com/gpu=1"), Node("name=b,cpu=4,memory=2Gi"),
        Node("name=c,cpu=8,memory=8Gi,pods=1", {}, 1)},
       "",
       "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods, "
       "2 Insufficient nvidia.com/gpu. "
       "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."},
      {"node selector",
       {{"cpu", "1"}},
       {{"kubernetes.io/hostname", "b"}},
       {Node("name=a,cpu=4,memory=8Gi"), Node("name=b,cpu=1,memory=8Gi", {{"cpu", "1"}})},
       "",
       "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node "
       "affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims found "
       "for incoming pod, 1 Preemption is not helpful for scheduling."},
      {"no nodes", {{"cpu", "1"}}, {}, {}, "", "no nodes available to schedule pods"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = SchedulePod(Res(c.requests), c.selector, c.nodes);
    EXPECT_EQ(got.node, c.want_node);
    EXPECT_EQ(got.message, c.want_message);
  }
}

TEST(QuotaTest, UsageOfAPod) {
  auto res = PodResourcesOf(
      PodWith(Object::array({{{"name", "a"},
                              {"resources",
                               {{"requests", {{"cpu", "250m"}, {"nvidia.com/gpu", "1"}}},
                                {"limits", {{"memory", "64Mi"}}}}}}})));
  EXPECT_EQ(FormatResourceList(PodQuotaUsage(*res)),
            "count/pods=1,cpu=250m,limits.memory=64Mi,memory=64Mi,pods=1,requests.cpu=250m,"
            "requests.memory=64Mi,requests.nvidia.com/gpu=1");
}

TEST(QuotaTest, AdmitPodTable) {
  auto small = *PodResourcesOf(PodWith(Object::array(
      {{{"name", "main"}, {"resources", {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}})));
  auto bare = *PodResourcesOf(PodWith(Object::array({{{"name", "main"}}})));
  struct Case {
    std::string name;
    PodResources pod;
    std::vector<QuotaState> quotas;
    std::string want;  // "" = admitted
  };
  const std::vector<Case> cases = {
      {"fits", small, {{"q", Res({{"pods", "2"}}), Res({{"pods", "1"}})}}, ""},
      {"one pod too many",
       small,
       {{"q1", Res({{"pods", "1"}}), Res({{"pods", "1"}})}},
       "pods \"p-1\" is forbidden: exceeded quota: q1, requested: pods=1, used: pods=1, "
       "limited: pods=1"},
      {"only the exceeded resources are listed",
       small,
       {{"compute", Res({{"requests.cpu", "4"}, {"requests.memory", "1536Mi"}}),
         Res({{"requests.cpu", "1"}, {"requests.memory", "1Gi"}})}},
       "pods \"p-1\" is forbidden: exceeded quota: compute, requested: requests.memory=1Gi, "
       "used: requests.memory=1Gi, limited: requests.memory=1536Mi"},
      {"used defaults to 0",
       small,
       {{"q", Res({{"requests.cpu", "500m"}}), {}}},
       "pods \"p-1\" is forbidden: exceeded quota: q, requested: requests.cpu=1, used: "
       "requests.cpu=0, limited: requests.cpu=500m"},
      {"must specify",
       bare,
       {{"q", Res({{"limits.cpu", "4"}, {"requests.memory", "4Gi"}}), {}}},
       "pods \"p-1\" is forbidden: failed quota: q: must specify limits.cpu for: main; "
       "requests.memory for: main"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto status = AdmitPod("p-1", c.pod, c.quotas);
    if (c.want.empty()) {
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else {
      EXPECT_TRUE(status.IsForbidden());
      EXPECT_EQ(status.message(), c.want);
    }
  }
}

}  // namespace
}  // namespace stepline::localagent
