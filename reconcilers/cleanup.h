// Cleanup of a finished execution's Jobs (issue #19): with spec.ttlSecondsAfterFinished, the
// Jobs (and through them their pods) are deleted that long after the run finished, while the
// execution keeps its whole record (steps, attempts, reasons, outputs, conditions). Done once:
// status.jobsDeletedTime says when.
//
// Pure; plain values.
#pragma once

#include <optional>

#include "k8sclient/clock.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

inline constexpr const char* kJobsDeletedTimeField = "jobsDeletedTime";

// When ex's Jobs are due for deletion; nullopt when never: no TTL, not finished (or no
// completionTime), or done already.
std::optional<k8s::WallTime> JobsDeletionDue(const PipelineExecution& ex);

}  // namespace stepline::reconcilers
