#include "reconcilers/cleanup.h"

#include <algorithm>

namespace stepline::reconcilers {

std::optional<k8s::WallTime> JobsDeletionDue(const PipelineExecution& ex) {
  const auto& ttl = ex.spec.ttl_seconds_after_finished;
  const auto& phase = ex.status.pipeline_execution_status;
  bool finished = phase == ExecutionStatus::kSucceeded || phase == ExecutionStatus::kFailed ||
                  phase == ExecutionStatus::kStopped;
  if (!ttl || !finished || !ex.status.completion_time) return std::nullopt;
  if (ex.status.extra.contains(kJobsDeletedTimeField)) return std::nullopt;
  return *ex.status.completion_time + std::chrono::seconds(std::max<int64_t>(0, *ttl));
}

}  // namespace stepline::reconcilers
