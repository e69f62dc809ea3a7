#include "localagent/container_logs.h"

#include <gtest/gtest.h>

namespace stepline::localagent {
namespace {

TEST(ParseContainerLogsPathTest, Table) {
  struct Case {
    std::string path;
    bool ok;
    ContainerLogTarget want;
  };
  const std::vector<Case> cases = {
      {"/containerLogs/ns/pod-1/step", true, {"ns", "pod-1", "step"}},
      {"/containerLogs/ns/pod-1", false, {}},
      {"/containerLogs/ns/pod-1/step/extra", false, {}},
      {"/containerLogs/ns//step", false, {}},
      {"/containerLogs/../pod/step", false, {}},
      {"/logs/ns/pod/step", false, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    ContainerLogTarget got;
    ASSERT_EQ(ParseContainerLogsPath(c.path, &got), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(got.ns, c.want.ns);
    EXPECT_EQ(got.pod, c.want.pod);
    EXPECT_EQ(got.container, c.want.container);
  }
}

TEST(TailOffsetTest, Table) {
  struct Case {
    std::string text;
    int64_t lines;
    std::string want_tail;
  };
  const std::vector<Case> cases = {
      {"a\nb\nc\n", 2, "b\nc\n"},
      {"a\nb\nc\n", 5, "a\nb\nc\n"},
      {"a\nb\nc", 1, "c"},
      {"a\nb\nc\n", 0, ""},
      {"", 3, ""},
      {"one\n", 1, "one\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text + "/" + std::to_string(c.lines));
    EXPECT_EQ(c.text.substr(TailOffset(c.text, c.lines)), c.want_tail);
  }
}

TEST(NodeObjectTest, PublishesTheKubeletEndpoint) {
  auto node = ParseNodeSpec("name=gpu,cpu=8,memory=32Gi,nvidia.com/gpu=1");
  ASSERT_TRUE(node.ok());
  k8s::Object obj = NodeObject(*node, "127.0.0.1", 10250, k8s::WallTime{});
  EXPECT_EQ(obj["metadata"]["name"], "gpu");
  EXPECT_EQ(obj["metadata"]["labels"][kAgentNodeLabel], "true");
  EXPECT_EQ(obj["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"], 10250);
  EXPECT_EQ(obj["status"]["addresses"][0]["type"], "InternalIP");
  EXPECT_EQ(obj["status"]["addresses"][0]["address"], "127.0.0.1");
  EXPECT_EQ(obj["status"]["capacity"]["nvidia.com/gpu"], "1");
  EXPECT_EQ(obj["status"]["conditions"][0]["type"], "Ready");
}

}  // namespace
}  // namespace stepline::localagent
