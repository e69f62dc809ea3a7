#include "k8sclient/job_state.h"

namespace stepline::k8s {

namespace {

bool IsTrue(const Object& condition) {
  auto status = condition.find("status");
  return status != condition.end() && status->is_string() && *status == "True";
}

}  // namespace

bool IsJobOutcomeCondition(const std::string& type) {
  return type == "Complete" || type == "Failed" || type == "SuccessCriteriaMet" ||
         type == "FailureTarget";
}

JobState ClassifyJob(const Object& job) {
  auto status = job.find("status");
  if (status == job.end() || !status->is_object()) return JobState::kActive;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return JobState::kActive;
  bool complete = false, criteria_met = false, failure_target = false;
  for (const Object& c : *conditions) {
    if (!c.is_object() || !IsTrue(c)) continue;
    auto type = c.find("type");
    if (type == c.end() || !type->is_string()) continue;
    if (*type == "Failed") return JobState::kFailed;
    complete = complete || *type == "Complete";
    criteria_met = criteria_met || *type == "SuccessCriteriaMet";
    failure_target = failure_target || *type == "FailureTarget";
  }
  if (failure_target) return JobState::kFailing;
  if (complete) return JobState::kSucceeded;
  if (criteria_met) return JobState::kSucceeding;
  return JobState::kActive;
}

}  // namespace stepline::k8s
