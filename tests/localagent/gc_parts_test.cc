#include <gtest/gtest.h>

#include "localagent/owner_resource.h"
#include "localagent/patches.h"

namespace stepline::localagent {
namespace {

using k8s::Object;

TEST(ResourceForKindTest, Table) {
  struct Case {
    std::string api_version, kind;
    std::string want;  // GroupResource, or "" for none
    bool namespaced;
  };
  const std::vector<Case> cases = {
      {"v1", "ConfigMap", "configmaps", true},
      {"v1", "Namespace", "namespaces", false},
      {"batch/v1", "Job", "jobs.batch", true},
      {"stepline.dev/v1alpha1", "PipelineExecution", "pipelineexecutions.stepline.dev", true},
      {"apps/v1", "ReplicaSet", "replicasets.apps", true},
      {"example.com/v1", "NetworkPolicy", "networkpolicies.example.com", true},
      {"example.com/v1", "StorageClass", "storageclasses.example.com", true},
      {"example.com/v1", "Gateway", "gateways.example.com", true},
      {"v1", "", "", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.kind);
    auto res = ResourceForKind(c.api_version, c.kind);
    ASSERT_EQ(res.has_value(), !c.want.empty());
    if (!res) continue;
    EXPECT_EQ(res->GroupResource(), c.want);
    EXPECT_EQ(res->namespaced, c.namespaced);
  }
}

TEST(PatchesTest, RemoveFinalizerTestsTheIndexItRemoves) {
  Object pod = {{"metadata", {{"finalizers", {"a", "batch.kubernetes.io/job-tracking"}}}}};
  auto patch = RemoveFinalizerPatch(pod, "batch.kubernetes.io/job-tracking");
  ASSERT_TRUE(patch.has_value());
  EXPECT_EQ(Object::parse(*patch), Object::parse(R"([{"op":"test","path":"/metadata/finalizers/1",
                              "value":"batch.kubernetes.io/job-tracking"},
                             {"op":"remove","path":"/metadata/finalizers/1"}])"));
  EXPECT_FALSE(RemoveFinalizerPatch(pod, "other").has_value());
}

TEST(PatchesTest, RemoveOwnerReferenceKeepsTheOthers) {
  Object obj = {{"metadata",
                 {{"resourceVersion", "7"},
                  {"ownerReferences", Object::array({{{"uid", "u1"}}, {{"uid", "u2"}}})}}}};
  auto patch = RemoveOwnerReferencePatch(obj, "u1");
  ASSERT_TRUE(patch.has_value());
  EXPECT_EQ(Object::parse(*patch),
            Object::parse(R"([{"op":"test","path":"/metadata/resourceVersion","value":"7"},
                             {"op":"replace","path":"/metadata/ownerReferences",
                              "value":[{"uid":"u2"}]}])"));
  obj["metadata"]["ownerReferences"] = Object::array({{{"uid", "u1"}}});
  EXPECT_EQ(Object::parse(*RemoveOwnerReferencePatch(obj, "u1"))[1]["op"], "remove");
  EXPECT_FALSE(RemoveOwnerReferencePatch(obj, "u9").has_value());
}

}  // namespace
}  // namespace stepline::localagent
