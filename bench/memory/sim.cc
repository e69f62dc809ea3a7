#include "bench/memory/sim.h"

#include <memory>

#include "localagent/conditions.h"
#include "localagent/job_pod.h"
#include "localagent/job_sync.h"
#include "localagent/pod_status.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/planner.h"

namespace stepline::bench {
namespace {

using k8s::Object;
using k8s::WallTime;
using reconcilers::ExecutionStatus;

constexpr const char* kNode = "node-1";
constexpr const char* kHostIp = "10.0.0.11";

// A Job and its one Pod as the cluster shows them, with made-up UIDs.
struct LiveJob {
  Object job;
  Object pod;
  SimulatedJob sim;
};

bool Terminal(const reconcilers::PipelineExecutionStatus& s) {
  const auto& p = s.pipeline_execution_status;
  return p == ExecutionStatus::kSucceeded || p == ExecutionStatus::kFailed ||
         p == ExecutionStatus::kStopped;
}

std::string FakeUid(uint64_t seed) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(seed >> 32),
                static_cast<unsigned long long>(seed & 0xffffffffffffULL));
  return buf;
}

// The termination message a step leaves: the evaluate step reports its metric, each child of
// the fan-out step `fan` (load.cc --fanout) a value of 200 bytes.
std::string TerminationMessageOf(const Object& job) {
  const std::string step = job["metadata"]["labels"].value(reconcilers::kLabelStep, "");
  if (step == "fan") return R"({"v": ")" + std::string(200, 'v') + R"("})";
  return step == "evaluate" ? R"({"accuracy": "0.91"})" : "";
}

void SetPodStatus(LiveJob& lj, WallTime created, bool finish, int step_seconds) {
  localagent::ContainerRun run;
  run.name = reconcilers::kContainerName;
  run.started_at = created + std::chrono::seconds(2);
  run.container_id = "containerd://" + FakeUid(std::hash<std::string>{}(k8s::NameOf(lj.pod)));
  WallTime now = run.started_at + std::chrono::seconds(1);
  run.state = localagent::ContainerRun::State::kRunning;
  if (finish) {
    run.state = localagent::ContainerRun::State::kTerminated;
    run.finished_at = created + std::chrono::seconds(step_seconds);
    run.reason = localagent::TerminatedReason(0, false);
    run.message = TerminationMessageOf(lj.job);
    now = run.finished_at;
  }
  lj.pod["status"] = localagent::BuildPodStatus(lj.pod, {run}, now, kHostIp);
}

// Runs the Job controller until the Job's status settles (Complete for a finished pod).
void SyncJobStatus(LiveJob& lj, WallTime now) {
  for (int round = 0; round < 6; ++round) {
    auto pod = std::make_shared<const Object>(lj.pod);
    localagent::JobSyncResult r = localagent::SyncJob(lj.job, {pod}, now);
    bool counted = !r.remove_finalizer.empty();
    if (counted) lj.pod["metadata"].erase("finalizers");
    if (r.status == lj.job.value("status", Object()) && !counted) break;
    lj.job["status"] = r.status;
  }
}

LiveJob StartJob(const Object& built, WallTime created, bool finish, int step_seconds) {
  LiveJob lj;
  lj.sim.job = built;
  lj.job = built;
  uint64_t seed = std::hash<std::string>{}(k8s::NameOf(built));
  lj.job["metadata"]["uid"] = FakeUid(seed);
  lj.job["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(created);
  lj.pod = PodFor(lj.job, seed, kNode);
  lj.pod["metadata"]["uid"] = FakeUid(seed + 1);
  lj.pod["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(created);
  SetPodStatus(lj, created, finish, step_seconds);
  SyncJobStatus(lj, created + std::chrono::seconds(finish ? step_seconds + 1 : 3));
  lj.sim.job_status = lj.job["status"];
  lj.sim.pod_status = lj.pod["status"];
  lj.sim.finished = finish;
  return lj;
}

reconcilers::PlanInputs InputsFor(const reconcilers::PipelineExecution& ex,
                                  const reconcilers::Pipeline& pipeline,
                                  const std::vector<LiveJob>& jobs, WallTime now) {
  reconcilers::PlanInputs in;
  in.execution = &ex;
  in.pipeline = &pipeline;
  in.now = now;
  for (const LiveJob& lj : jobs) in.jobs.push_back({&lj.job, {&lj.pod}, {}});
  return in;
}

}  // namespace

Object PodFor(const Object& job, uint64_t seed, const std::string& node) {
  Object pod = localagent::BuildJobPod(
      job, localagent::JobPodName(k8s::NameOf(job), localagent::NameSuffix(seed)));
  pod["spec"]["nodeName"] = node;
  return pod;
}

SimulatedExecution Simulate(const reconcilers::Pipeline& pipeline, const Object& execution,
                            WallTime start, bool finished, int running_steps, int step_seconds) {
  reconcilers::PipelineExecution ex = reconcilers::ParsePipelineExecution(execution).value();
  std::vector<LiveJob> jobs;
  jobs.reserve(64);
  WallTime now = start;
  int done = 0;
  for (int round = 0; round < 100; ++round) {
    reconcilers::PlanResult r = reconcilers::Plan(InputsFor(ex, pipeline, jobs, now));
    ex.status = r.status;
    if (Terminal(ex.status)) break;
    bool created = false;
    for (const reconcilers::Action& a : r.actions) {
      if (a.kind != reconcilers::Action::Kind::kCreateJob) continue;
      bool finish = finished || done < running_steps;
      jobs.push_back(StartJob(a.job, now, finish, step_seconds));
      done += finish ? 1 : 0;
      created = true;
    }
    if (!created && round > 0) break;  // waiting on running Jobs (or on nothing it can do)
    now += std::chrono::seconds(step_seconds + 5);
  }
  SimulatedExecution out;
  out.status = reconcilers::ToJson(ex.status);
  for (LiveJob& lj : jobs) out.jobs.push_back(std::move(lj.sim));
  return out;
}

}  // namespace stepline::bench
