// The Pod status the kubelet reports, from what it knows of each container: phase,
// initContainerStatuses and containerStatuses (waiting / running / terminated with exitCode, reason
// Completed / Error / OOMKilled / StartError, message, startedAt, finishedAt), the conditions it
// owns (PodReadyToStartContainers, Initialized, ContainersReady, Ready), hostIP/podIP, startTime
// and qosClass. Conditions it does not own (PodScheduled, DisruptionTarget) are kept as they are.
// And the termination message, read as the kubelet reads it. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::localagent {

struct ContainerRun {
  enum class State { kWaiting, kRunning, kTerminated };
  std::string name;
  State state = State::kWaiting;
  std::string waiting_reason = "ContainerCreating";
  std::string waiting_message;
  k8s::WallTime started_at{};
  k8s::WallTime finished_at{};
  int exit_code = 0;
  std::string reason;   // for kTerminated: Completed, Error, OOMKilled, StartError
  std::string message;  // for kTerminated: the termination message
  std::string container_id;
};

// Where a pod's init containers are. Init containers run one after the other; a native sidecar
// (an init container with restartPolicy Always) counts as done once it has started, and keeps
// running beside the regular containers. A regular init container that ended with a non-zero
// code fails the pod (the agent restarts nothing, whatever the restartPolicy), and so does a
// sidecar that could not start (StartError).
struct InitProgress {
  bool done = false;    // every init container is complete: regular containers may start
  bool failed = false;  // the pod cannot initialize
  std::vector<std::string> incomplete;  // names, in spec order
};
InitProgress InitProgressOf(const k8s::Object& pod, const std::vector<ContainerRun>& runs);
bool IsSidecar(const k8s::Object& init_container);

// pod: the current object (its status is the starting point). runs: one per spec container
// (init containers too, names are unique in a pod), in any order; containers without a run are
// reported waiting. The phase is decided by the regular containers once the pod has
// initialized (a sidecar's exit code does not count) and is terminal only when nothing runs: a
// pod whose regular containers ended is Running while its sidecars are being stopped; a pod
// whose init failed is Pending until its sidecars have stopped, then Failed.
k8s::Object BuildPodStatus(const k8s::Object& pod, const std::vector<ContainerRun>& runs,
                           k8s::WallTime now, const std::string& host_ip);

// "Guaranteed", "Burstable" or "BestEffort".
std::string QosClassOf(const k8s::Object& pod);

// The reason of a terminated container: OOMKilled, Completed (0) or Error.
std::string TerminatedReason(int exit_code, bool oom_killed);

// The termination message as the kubelet builds it: the termination-message file (at most
// limit bytes, from its start); when that is empty, the policy is FallbackToLogsOnError and the
// container failed, the last 80 lines of its log, at most the last 2048 bytes.
std::string TerminationMessage(const std::string& file_text, const std::string& policy,
                               int exit_code, const std::string& log_tail, size_t limit = 4096);
// 4096 bytes each, unless the pod has more containers than 12 KiB allows for.
size_t TerminationMessageLimit(size_t containers);
// The last `lines` lines of text, then at most its last `bytes` bytes.
std::string LogTail(const std::string& text, size_t lines = 80, size_t bytes = 2048);

}  // namespace stepline::localagent
