#include "k8sclient/object_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stepline::k8s {
namespace {

// TimeField reads the API server's "...T..Z" form without sscanf: it must agree with
// ParseRfc3339 on that form and on every other spelling it hands over to it.
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
    WallTime want;
    bool ok = ParseRfc3339(text, &want);
    std::optional<WallTime> got = TimeField(Object{{"t", text}}, "t");
    ASSERT_EQ(got.has_value(), ok);
    if (ok) {
      EXPECT_EQ(*got, want);
    }
    Object job = {{"metadata", {{"annotations", {{"a", text}}}}}};
    std::optional<WallTime> annotated = AnnotationTime(job, "a");
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

TEST(ObjectFieldsTest, TypedReadersFallBackOnAnyOtherType) {
  Object obj = {{"o", {{"k", "v"}}}, {"a", {1, 2}}, {"i", -3}, {"f", 1.5}, {"b", true}};
  EXPECT_EQ(ObjectField(obj, "o").size(), 1u);
  EXPECT_TRUE(ObjectField(obj, "a").is_object());
  EXPECT_TRUE(ObjectField(obj, "a").empty());
  EXPECT_EQ(ArrayField(obj, "a").size(), 2u);
  EXPECT_TRUE(ArrayField(obj, "o").is_array());
  EXPECT_TRUE(ArrayField(obj, "o").empty());
  EXPECT_EQ(IntField(obj, "i"), -3);
  EXPECT_FALSE(IntField(obj, "f").has_value());
  EXPECT_FALSE(IntField(obj, "missing").has_value());
  EXPECT_TRUE(BoolField(obj, "b", false));
  EXPECT_TRUE(BoolField(obj, "i", true));
  EXPECT_FALSE(BoolField(Object::array(), "b", false));
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

TEST(ObjectFieldsTest, BeingDeletedMeansADeletionTimestamp) {
  EXPECT_TRUE(IsBeingDeleted({{"metadata", {{"deletionTimestamp", "2026-12-07T10:00:00Z"}}}}));
  EXPECT_FALSE(IsBeingDeleted({{"metadata", {{"name", "a"}}}}));
  EXPECT_FALSE(IsBeingDeleted({{"metadata", {{"deletionTimestamp", nullptr}}}}));
  EXPECT_FALSE(IsBeingDeleted(Object::object()));
}

}  // namespace
}  // namespace stepline::k8s
