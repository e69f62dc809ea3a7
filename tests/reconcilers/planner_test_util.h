// A small in-memory stand-in for the Jobs of one execution, for planner unit tests: it applies
// the planner's actions (create, delete, merge patch) to Job objects and lets a test finish,
// fail or block attempts the way the Job controller and kubelet would report them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reconcilers/planner.h"

namespace stepline::reconcilers::testing {

using k8s::Object;

inline k8s::WallTime T0() {
  k8s::WallTime t;
  k8s::ParseRfc3339("2026-11-22T12:00:00Z", &t);
  return t;
}

// Expects two plans of the same inputs to be the same (status, requeue, actions).
void ExpectSameResult(const PlanResult& with_records, const PlanResult& without);

class FakeRun {
 public:
  // pipeline_spec: the Pipeline's spec as JSON; execution_spec: the execution's (pipelineName
  // is filled in when absent).
  FakeRun(const Object& pipeline_spec, Object execution_spec = Object::object());

  PlanResult Plan();  // plans, applies the actions, keeps the new status
  void Advance(std::chrono::seconds d) { now_ += d; }

  Object* Job(const std::string& name);
  std::vector<std::string> JobNames() const;
  // The newest Job of a step (and fan-out index).
  std::string LatestJob(const std::string& step, int index = -1) const;
  void Run(const std::string& job);
  void Succeed(const std::string& job, const std::string& termination_message = "");
  void Fail(const std::string& job, int exit_code, const std::string& reason = "Error",
            const std::string& message = "");
  void FailJobCondition(const std::string& job, const std::string& reason);  // e.g. deadline
  void Disrupt(const std::string& job);
  void DeletePodWhileRunning(const std::string& job);  // SIGTERM (143), deletionTimestamp set
  void Unschedulable(const std::string& job, const std::string& message);
  void QuotaRefused(const std::string& job, const std::string& message);
  void DropPods(const std::string& job);
  // An artifact container (init or sidecar) of the job's pod ended with exit code 1 and this
  // termination message. The step's container: main_exit 0 succeeded (then an upload failed),
  // -1 never ran (a download failed), else failed with that exit code.
  void FailArtifact(const std::string& job, const std::string& container, int main_exit,
                    const std::string& message);
  // The pod as the Job controller saw it before it stopped the sidecars: the step's container
  // terminated with 0, the pod Running, this artifact sidecar still running.
  void UploadRunning(const std::string& job, const std::string& container);
  std::optional<ArtifactRepository> artifact_repository;  // the namespace's, if any

  PipelineExecution& execution() { return execution_; }
  Pipeline* pipeline() { return has_pipeline_ ? &pipeline_ : nullptr; }
  void RemovePipeline() { has_pipeline_ = false; }
  std::string invalid_message;
  std::string pipeline_lookup_problem;
  const StepStatus* StepOf(const std::string& name) const;
  k8s::WallTime now() const { return now_; }
  std::vector<Action> last_events;
  int quota_grants = 0;  // PlanInputs::quota_grants of the next Plan only
  std::map<std::string, std::string> fan_in_store_refusals;  // PlanInputs', every Plan
  const PipelineExecution* rerun_source = nullptr;           // PlanInputs::rerun_source
  // The namespace's step cache, shared by the runs of a test: given to a plan that asks for it
  // (step_cache_needed, as the reconciler does), and the plan's writes are added to it. Null: an
  // empty index, and writes are dropped.
  StepCacheIndex* step_cache = nullptr;

 private:
  void Apply(const PlanResult& result);
  void SetCondition(Object& job, const std::string& type, const std::string& reason,
                    const std::string& message = "");
  Object& PodOf(const std::string& job);

  Pipeline pipeline_;
  bool has_pipeline_ = true;
  PipelineExecution execution_;
  std::vector<Object> jobs_;
  std::map<std::string, std::vector<Object>> pods_;
  std::map<std::string, std::vector<Object>> events_;
  k8s::WallTime now_ = T0();
  int uid_ = 0;
};

// Names of the events (reasons) in a result, in order.
std::vector<std::string> EventReasons(const PlanResult& r);
// Names of the Jobs a result creates, in order.
std::vector<std::string> Created(const PlanResult& r);
std::vector<std::string> Deleted(const PlanResult& r);
std::string Phase(const StepStatus* s);
std::string Condition(const PipelineExecutionStatus& s, const char* type);

// The execution's status ("Executing", ...; "" when unset).
std::string StatusOf(const FakeRun& run);
// An artifact repository: bucket "arts", prefix "runs", path-style at http://127.0.0.1:4568,
// credentials from the Secret "s3-creds".
ArtifactRepository TestArtifactRepository();

// A Pipeline spec: stepDefaults {image: busybox}, these steps, and the fields of `extra`.
Object Steps(Object steps, Object extra = Object::object());
// The list [0, 1, ..., n-1]: a forEach of n items (as a string: Items(n).dump()).
Object Items(int n);
// The first attempt's Job of fan-out child `index` of `step` in the execution "run".
std::string ChildJob(const std::string& step, int index);
// A step named `name` with the fields of `more`; it runs `true` unless `more` gives a command or
// makes it a Fail or Notebook step.
Object S(const std::string& name, Object more = Object::object());

}  // namespace stepline::reconcilers::testing
