#include <gtest/gtest.h>

#include "reconcilers/labels.h"
#include "reconcilers/planner_internal.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;

// The planner's one pass over a Job's conditions: any True outcome condition, or the
// controller's abandoned annotation, ends the attempt; False ones do not.
TEST(JobFinishedTest, OnAnyTrueOutcome) {
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
