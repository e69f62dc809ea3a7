// stepline-artifacts join: a fan-in stored in ConfigMaps back into the one list it was split from.
#include "artifacts/fan_in_join.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace stepline::artifacts {
namespace {

namespace fs = std::filesystem;

class FanInJoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fan-in-join-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A part as the kubelet mounts it: DIR/<ConfigMap>/values.json.
  std::string Part(const std::string& config_map, const std::string& text) {
    fs::create_directories(dir_ / config_map);
    const fs::path path = dir_ / config_map / "values.json";
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::string Dest() { return (dir_ / "out" / "sub" / "v.json").string(); }

  fs::path dir_;
};

TEST_F(FanInJoinTest, ThePartsItemsInOrderAsTheyAreSpelled) {
  std::vector<std::string> parts = {Part("run-f-outputs-v-00", R"(["a","b\"c",null])"),
                                    Part("run-f-outputs-v-01", "[\"\\u00e9\",\"1.50\"]\n"),
                                    Part("run-f-outputs-v-02", R"(["{\"k\": [1, 2]}"])")};
  auto joined = JoinFanIn(parts, 6, Dest());
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  const std::string expected = R"(["a","b\"c",null,"\u00e9","1.50","{\"k\": [1, 2]}"])";
  EXPECT_EQ(Read(Dest()), expected);  // directories made, text kept byte for byte
  EXPECT_EQ(joined->items, 6);
  EXPECT_EQ(joined->bytes, expected.size());
}

TEST_F(FanInJoinTest, EmptyPartsAndAnEmptyFanIn) {
  auto joined = JoinFanIn({Part("a", "[]"), Part("b", " [ \"x\" ] "), Part("c", "[ ]")}, 1, Dest());
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  EXPECT_EQ(Read(Dest()), R"(["x"])");
  joined = JoinFanIn({}, 0, Dest());
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  EXPECT_EQ(Read(Dest()), "[]");
}

TEST_F(FanInJoinTest, AMissingPartNamesItsConfigMap) {
  std::vector<std::string> parts = {Part("run-f-outputs-v-00", R"(["a"])"),
                                    (dir_ / "run-f-outputs-v-01" / "values.json").string()};
  auto joined = JoinFanIn(parts, 2, Dest());
  ASSERT_FALSE(joined.ok());
  EXPECT_EQ(joined.status().message(),
            "join: fan-in part 2 of 2 (" + parts[1] +
                ", ConfigMap run-f-outputs-v-01) is missing: the ConfigMap was deleted (with the "
                "execution that stored it?) or not made");
  EXPECT_FALSE(fs::exists(Dest()));
}

TEST_F(FanInJoinTest, APartThatIsNoListOrAWrongCountIsRefused) {
  auto joined = JoinFanIn({Part("a", R"(["a"])"), Part("b", R"({"x": 1})")}, 2, Dest());
  ASSERT_FALSE(joined.ok());
  EXPECT_NE(joined.status().message().find("part 2 of 2"), std::string::npos);
  EXPECT_NE(joined.status().message().find("is not a JSON list"), std::string::npos);
  joined = JoinFanIn({Part("c", R"(["a", "b")")}, 2, Dest());
  ASSERT_FALSE(joined.ok());
  EXPECT_NE(joined.status().message().find("is not a JSON list"), std::string::npos);
  joined = JoinFanIn({Part("d", R"(["a","b"])"), Part("e", R"(["c"])")}, 4, Dest());
  ASSERT_FALSE(joined.ok());
  EXPECT_EQ(joined.status().message(),
            "join: the fan-in's 2 part(s) hold 3 items, the step stored 4: a ConfigMap was "
            "changed since");
  EXPECT_FALSE(fs::exists(Dest()));
}

}  // namespace
}  // namespace stepline::artifacts
