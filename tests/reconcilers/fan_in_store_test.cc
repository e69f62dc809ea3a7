#include "reconcilers/fan_in_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "reconcilers/labels.h"

namespace stepline::reconcilers {
namespace {

const FanInOwner kOwner{"run", "ml", "run-uid"};

std::string ListOf(int n, size_t value_bytes) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < n; ++i) list.push_back(std::to_string(i) + std::string(value_bytes, 'x'));
  return list.dump();
}

TEST(FanInStoreTest, TheChunksAreListsOfWholeItemsThatJoinToTheFanIn) {
  const std::string list = ListOf(5000, 300);  // about 1.5 MB
  k8s::Result<FanInStore> store = StoreFanIn(kOwner, "f", FanInKind::kOutput, "v", list);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_EQ(store->config_maps.size(), 2u);
  EXPECT_EQ(store->stored.config_maps,
            (std::vector<std::string>{"run-f-outputs-v-00", "run-f-outputs-v-01"}));
  EXPECT_EQ(store->stored.items, 5000);
  EXPECT_EQ(store->stored.bytes, static_cast<int64_t>(list.size()));
  nlohmann::json joined = nlohmann::json::array();
  for (const FanInConfigMap& cm : store->config_maps) {
    const std::string values = cm.object["data"][kFanInDataKey];
    EXPECT_LE(values.size(), kFanInChunkBytes);
    for (const auto& v : nlohmann::json::parse(values)) joined.push_back(v);
  }
  EXPECT_EQ(joined.dump(), list);
  const size_t in_first =
      nlohmann::json::parse(store->config_maps[0].object["data"][kFanInDataKey].get<std::string>())
          .size();
  EXPECT_EQ(store->config_maps[0].object["metadata"]["annotations"][kAnnotationFanInPart],
            "1/2 from 0");
  EXPECT_EQ(store->config_maps[1].object["metadata"]["annotations"][kAnnotationFanInPart],
            "2/2 from " + std::to_string(in_first));
}

TEST(FanInStoreTest, NamesAreValidAndDistinctForNamesThatDifferOnlyInCase) {
  const std::string list = ListOf(3, 1);
  auto upper = StoreFanIn(kOwner, "Train_Model", FanInKind::kOutput, "Score", list);
  auto lower = StoreFanIn(kOwner, "Train_Model", FanInKind::kOutput, "score", list);
  ASSERT_TRUE(upper.ok() && lower.ok());
  const std::string a = upper->stored.config_maps[0], b = lower->stored.config_maps[0];
  EXPECT_NE(a, b);
  EXPECT_EQ(b, "run-train-model-outputs-score-00");
  EXPECT_THAT(a, ::testing::MatchesRegex("run-train-model-outputs-score-[0-9a-z]+-00"));
  EXPECT_EQ(upper->config_maps[0].object["metadata"]["labels"][kLabelFanIn], "outputs.Score");
  EXPECT_EQ(upper->config_maps[0].key, "Train_Model/outputs.Score");

  const FanInOwner long_owner{std::string(250, 'r'), "ml", "u"};
  auto long_name = StoreFanIn(long_owner, "f", FanInKind::kArtifact, std::string(63, 'm'), list);
  ASSERT_TRUE(long_name.ok());
  EXPECT_LE(long_name->stored.config_maps[0].size(), 253u);
  EXPECT_LE(
      long_name->config_maps[0].object["metadata"]["labels"][kLabelFanIn].get<std::string>().size(),
      63u);
}

TEST(FanInStoreTest, AnEmptyListIsOneEmptyChunkAndTextThatIsNoListIsRefused) {
  auto empty = StoreFanIn(kOwner, "f", FanInKind::kOutput, "v", "[]");
  ASSERT_TRUE(empty.ok());
  ASSERT_EQ(empty->config_maps.size(), 1u);
  EXPECT_EQ(empty->config_maps[0].object["data"][kFanInDataKey], "[]");
  EXPECT_FALSE(StoreFanIn(kOwner, "f", FanInKind::kOutput, "v", "{\"a\":1}").ok());
}

TEST(FanInStoreTest, TheKubectlCommandSelectsTheFanInsConfigMaps) {
  EXPECT_EQ(FanInKubectl(kOwner, "f", FanInKind::kArtifact, "m"),
            "kubectl get configmap -n ml -l stepline.dev/execution=run,stepline.dev/step=f,"
            "stepline.dev/fan-in=artifacts.m -o jsonpath='{range "
            ".items[*]}{.data.values\\.json}{\"\\n\"}{end}'");
}

}  // namespace
}  // namespace stepline::reconcilers
