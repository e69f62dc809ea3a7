#include "reconcilers/object_fields.h"

#include <gtest/gtest.h>

#include "reconcilers/planner_internal.h"

#include <string>
#include <vector>

namespace stepline::reconcilers {
namespace {

using k8s::Object;

// TimeField reads the API server's "...T..Z" form without sscanf: it must agree with
// k8s::ParseRfc3339 on that form and on every other spelling it hands over to it.
TEST(ObjectFieldsTest, TimeFieldAgreesWithParseRfc3339) {
  std::vector<std::string> cases = {
      "2026-11-22T18:03:48Z",
      "1970-01-01T00:00:00Z",
      "2000-02-29T23:59:59Z",
      "1999-12-31T23:59:60Z",
      "2024-02-31T00:00:00Z",
      "2100-03-01T12:00:00Z",
      "1969-07-20T20:17:40Z",
      "2026-11-22T18:03:48.250Z",
      "2026-11-22T18:03:48+02:00",
      "2026-13-01T00:00:00Z",
      "2026-11-22 18:03:48Z",
      "2026-11-22T18:03:48",
      "",
      "not a time",
      "2026-1a-22T18:03:48Z",
  };
  for (const auto& text : cases) {
    SCOPED_TRACE(text);
    k8s::WallTime want;
    bool ok = k8s::ParseRfc3339(text, &want);
    std::optional<k8s::WallTime> got = TimeField(Object{{"t", text}}, "t");
    ASSERT_EQ(got.has_value(), ok);
    if (ok) {
      EXPECT_EQ(*got, want);
    }
    Object job = {{"metadata", {{"annotations", {{"a", text}}}}}};
    std::optional<k8s::WallTime> annotated = AnnotationTime(job, "a");
    ASSERT_EQ(annotated.has_value(), ok);
    if (ok) {
      EXPECT_EQ(*annotated, want);
    }
  }
}

TEST(ObjectFieldsTest, AbsentOrMistypedFieldsReadAsEmpty) {
  Object obj = {{"s", "x"}, {"n", 1}, {"o", {{"k", "v"}}}};
  EXPECT_EQ(StringField(obj, "s"), "x");
  EXPECT_EQ(StringField(obj, "n"), "");
  EXPECT_EQ(StringField(obj, "missing"), "");
  EXPECT_EQ(StringField(Object("not an object"), "s"), "");
  EXPECT_EQ(StringField(Child(obj, "o"), "k"), "v");
  EXPECT_TRUE(Child(obj, "missing").is_null());
  EXPECT_FALSE(TimeField(obj, "n").has_value());
}

TEST(ObjectFieldsTest, TrueConditionNeedsStatusTrue) {
  Object job = {{"status",
                 {{"conditions",
                   {{{"type", "Failed"}, {"status", "False"}},
                    {{"type", "Complete"}, {"status", "True"}}}}}}};
  EXPECT_NE(TrueCondition(job, "Complete"), nullptr);
  EXPECT_EQ(TrueCondition(job, "Failed"), nullptr);
  EXPECT_NE(ConditionOf(job, "Failed"), nullptr);
}

// The planner's one pass over a Job's conditions: any True outcome condition, or the
// controller's abandoned annotation, ends the attempt; False ones do not.
TEST(ObjectFieldsTest, JobFinishedOnAnyTrueOutcome) {
  auto with = [](const char* type, const char* status) {
    return Object{{"status", {{"conditions", {{{"type", type}, {"status", status}}}}}}};
  };
  for (const char* type : {"Complete", "Failed", "FailureTarget", "SuccessCriteriaMet"}) {
    SCOPED_TRACE(type);
    EXPECT_TRUE(planner_internal::JobFinished(with(type, "True")));
    EXPECT_FALSE(planner_internal::JobFinished(with(type, "False")));
  }
  EXPECT_FALSE(planner_internal::JobFinished(with("Suspended", "True")));
  EXPECT_FALSE(planner_internal::JobFinished(Object{{"status", {{"active", 1}}}}));
  Object abandoned = {{"metadata", {{"annotations", {{kAnnotationAbandoned, "Unschedulable"}}}}}};
  EXPECT_TRUE(planner_internal::JobFinished(abandoned));
}

}  // namespace
}  // namespace stepline::reconcilers
