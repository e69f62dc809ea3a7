#include "reconcilers/job_name.h"

#include <gtest/gtest.h>

#include <set>

namespace stepline::reconcilers {
namespace {

bool IsDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

TEST(JobNameTest, ShortNamesAreTheDesignsForm) {
  struct Case {
    std::string name, execution, step;
    std::optional<int> index;
    int attempt;
    std::string want;
  };
  std::vector<Case> cases = {
      {"plain", "forecast-weekly-42", "prepare", std::nullopt, 1, "forecast-weekly-42-prepare-1"},
      {"fan-out child", "forecast-weekly-42", "train", 0, 2, "forecast-weekly-42-train-0-2"},
      {"exactly 63", std::string(53, 'a'), "bb", std::nullopt, 10, std::string(53, 'a') + "-bb-10"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(JobName(c.execution, c.step, c.index, c.attempt), c.want);
  }
}

TEST(JobNameTest, LongNamesAreCutWithAHashAndStayDistinct) {
  std::string execution(60, 'e');
  std::set<std::string> seen;
  for (int index = 0; index < 1000; ++index) {
    for (int attempt = 1; attempt <= 3; ++attempt) {
      std::string name =
          JobName(execution, "a-forty-character-step-name-for-testing", index, attempt);
      SCOPED_TRACE(name);
      EXPECT_LE(name.size(), kMaxJobNameLength);
      EXPECT_TRUE(IsDnsLabel(name));
      seen.insert(name);
    }
  }
  EXPECT_EQ(seen.size(), 3000u);
  // Deterministic: the same inputs give the same name.
  EXPECT_EQ(JobName(execution, "s", 7, 1), JobName(execution, "s", 7, 1));
}

TEST(JobNameTest, CutNeverEndsInADash) {
  // The cut point falls right after a dash: it must be dropped before the hash.
  std::string name = std::string(51, 'a') + "-" + std::string(40, 'b');
  std::string cut = ShortenName(name);
  EXPECT_TRUE(IsDnsLabel(cut)) << cut;
  EXPECT_EQ(cut.find("--"), std::string::npos) << cut;
}

TEST(JobNameTest, StepNamesAreLowerCasedWithUnderscoresAsDashes) {
  EXPECT_EQ(StepJobPart("AbaloneTrain"), "abalonetrain");
  EXPECT_EQ(StepJobPart("Report_1"), "report-1");
  EXPECT_EQ(StepJobPart("prepare"), "prepare");
  EXPECT_EQ(JobName("run-1", "Abalone_Train", std::nullopt, 2), "run-1-abalone-train-2");
  EXPECT_EQ(JobName("run-1", "prepare", 3, 1), "run-1-prepare-3-1");
}

}  // namespace
}  // namespace stepline::reconcilers
