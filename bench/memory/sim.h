// In-memory run of one PipelineExecution through the real planner and the local agent's Job
// controller and kubelet status builders, so that the bench loads objects in the shapes the
// controller and the cluster would leave them: the execution's status as Plan() writes it, each
// step's Job as BuildStepJob() builds it with the status the Job controller reports, and each
// Job's Pod with the kubelet's status.
//
// Pure: no I/O; time is an argument.
#pragma once

#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"

namespace stepline::bench {

struct SimulatedJob {
  k8s::Object job;         // as created (metadata, spec); no status
  k8s::Object job_status;  // what the Job controller reports
  k8s::Object pod_status;  // what the kubelet reports for its one pod
  bool finished = false;
};

struct SimulatedExecution {
  k8s::Object status;  // the execution's status as the controller writes it
  std::vector<SimulatedJob> jobs;
};

// Runs `execution` (as created on the server: its uid is used for owner references) against
// `pipeline` from `start`. finished: until it succeeds (every step's pod exits 0 after
// step_seconds). Otherwise until `running_steps` steps have finished and the next ones are
// running (their pods Running, their Jobs active).
SimulatedExecution Simulate(const reconcilers::Pipeline& pipeline, const k8s::Object& execution,
                            k8s::WallTime start, bool finished, int running_steps = 1,
                            int step_seconds = 60);

// The Pod the Job controller creates for `job` (as stored on the server, with its uid), named
// after it with a random suffix derived from `seed`, scheduled to `node`.
k8s::Object PodFor(const k8s::Object& job, uint64_t seed, const std::string& node);

}  // namespace stepline::bench
