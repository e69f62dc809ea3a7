// The Job controller's decision for one Job (batch/v1, Kubernetes 1.31+ behaviour), from the
// Job, the Pods it controls and the time:
//   - pods are counted through the batch.kubernetes.io/job-tracking finalizer: a finished or
//     terminating pod goes into status.uncountedTerminatedPods, loses its finalizer once it is
//     terminal, then moves to status.succeeded / status.failed;
//   - backoffLimit and activeDeadlineSeconds add FailureTarget (BackoffLimitExceeded /
//     DeadlineExceeded), reaching completions adds SuccessCriteriaMet (CompletionsReached);
//     active pods are then deleted, and Failed / Complete is added only once no pod is left
//     running or terminating;
//   - replacement pods wait 10s, 20s, 40s ... (at most 6 minutes) after failures;
//   - suspend deletes active pods and adds Suspended; resuming resets startTime.
// Pure: no I/O, no clock; tested with tables.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::localagent {

struct JobEventRecord {
  bool warning = false;
  std::string reason;
  std::string message;
};

struct JobSyncResult {
  k8s::Object status;                    // the Job's new .status; write it (first) when it differs
  int create = 0;                        // pods to create now
  std::vector<std::string> delete_pods;  // active pods to terminate
  std::vector<std::string> remove_finalizer;  // pods whose job-tracking finalizer can go
  std::vector<JobEventRecord> events;
  std::optional<std::chrono::milliseconds> requeue_after;
};

// pods: those whose controller ownerReference is the Job's UID.
JobSyncResult SyncJob(const k8s::Object& job, const std::vector<k8s::ObjectPtr>& pods,
                      k8s::WallTime now);

// The delay before the next replacement pod after `failures` consecutive failures.
std::chrono::milliseconds PodReplacementBackoff(int64_t failures);

// The Job has Complete or Failed with status True.
bool IsJobFinished(const k8s::Object& job);

}  // namespace stepline::localagent
