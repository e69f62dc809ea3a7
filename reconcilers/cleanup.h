// Cleanup of finished executions (issue #19).
//
// - Runs: with spec.ttlSecondsAfterFinished (or, when the execution has none, its Pipeline's
//   spec.executionDefaults.ttlSecondsAfterFinished), the execution itself is deleted that long
//   after it finished, and with it (owner references) its Jobs and their pods, as a Job's own
//   ttlSecondsAfterFinished does.
// - Jobs only: with the Pipeline's spec.executionDefaults.jobsTTLSecondsAfterFinished (opt-in),
//   the Jobs (and through them their pods) of its finished executions are deleted that long after
//   each finished, while the execution keeps its whole record (steps, attempts, reasons,
//   outputs, conditions). Done once: status.jobsDeletedTime says when.
// - History: a Pipeline's spec.successfulHistoryLimit / spec.failedHistoryLimit keep that many
//   of its newest Succeeded / Failed-or-Stopped executions; older ones are deleted whole.
//
// The planning functions are pure; DeleteJobsOf and RecordJobsDeleted do the I/O of the Pipeline
// reconciler (thread-safe as the client is).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "reconcilers/api_types.h"
#include "reconcilers/reconciler.h"

namespace stepline::reconcilers {

inline constexpr const char* kJobsDeletedTimeField = "jobsDeletedTime";
inline constexpr const char* kReasonJobsDeleted = "JobsDeleted";

// When ex is due for deletion by its own spec.ttlSecondsAfterFinished; nullopt when never: no
// TTL, or not finished (or no completionTime).
std::optional<k8s::WallTime> ExecutionDeletionDue(const PipelineExecution& ex);

// A Pipeline's cleanup fields; all unset when it has none.
struct PipelineCleanupPolicy {
  std::optional<int64_t> ttl_seconds_after_finished;       // spec.executionDefaults.
  std::optional<int64_t> jobs_ttl_seconds_after_finished;  // spec.executionDefaults.
  std::optional<int64_t> successful_history_limit;
  std::optional<int64_t> failed_history_limit;
  bool Any() const {
    return ttl_seconds_after_finished || jobs_ttl_seconds_after_finished ||
           successful_history_limit || failed_history_limit;
  }
};
// Invalid naming the field when one has the wrong type (the schema should prevent it).
k8s::Result<PipelineCleanupPolicy> ParsePipelineCleanupPolicy(const Json& pipeline_spec);

// An execution of the Pipeline as the cleanup reads it.
struct CleanupRun {
  std::string name;
  std::optional<ExecutionStatus> phase;
  std::optional<k8s::WallTime> completion_time;
  std::optional<k8s::WallTime> creation_time;
  bool own_ttl = false;       // spec.ttlSecondsAfterFinished set: its own reconciler deletes it
  bool jobs_deleted = false;  // status.jobsDeletedTime set
};
CleanupRun CleanupRunOf(const k8s::Object& execution);

struct PipelineCleanupPlan {
  std::vector<std::string> delete_runs;        // beyond the history limits, oldest first
  std::vector<std::string> expired_runs;       // the Pipeline's ttlSecondsAfterFinished came
  std::vector<std::string> delete_jobs;        // its jobsTTLSecondsAfterFinished came
  std::chrono::milliseconds requeue_after{0};  // the next TTL due; 0: none
};
PipelineCleanupPlan PlanPipelineCleanup(const PipelineCleanupPolicy& policy,
                                        const std::vector<CleanupRun>& runs, k8s::WallTime now);

// Deletes every Job the execution (uid) controls, listed from the server by its
// stepline.dev/execution label (the cache forgets the Jobs of finished executions), with their
// pods (background propagation). NotFound is success.
k8s::Status DeleteJobsOf(k8s::ObjectReader& reader, k8s::ObjectWriter& writer,
                         const std::string& ns, const std::string& name, const std::string& uid);
// Sets status.jobsDeletedTime on the execution, read afresh (a cached copy may be trimmed), and
// records a JobsDeleted Event saying why (`cause`). NotFound is success.
k8s::Status RecordJobsDeleted(k8s::ObjectReader& reader, k8s::ObjectWriter& writer,
                              EventRecorder& events, const std::string& ns, const std::string& name,
                              k8s::WallTime now, const std::string& field_manager,
                              const std::string& cause);

}  // namespace stepline::reconcilers
