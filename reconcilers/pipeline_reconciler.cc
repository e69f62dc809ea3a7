#include "reconcilers/pipeline_reconciler.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/object_fields.h"
#include "reconcilers/cleanup.h"
#include "reconcilers/log.h"
#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

std::optional<int64_t> GenerationOf(const Object& obj) {
  const Object& meta = obj.value("metadata", Object::object());
  auto it = meta.find("generation");
  if (it == meta.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// The status as stored; an unreadable one (the schema should prevent it) counts as empty.
PipelineStatus StoredStatus(const Object& obj) {
  k8s::Result<PipelineStatus> status =
      ParsePipelineStatus(obj.value("status", Object::object()), "status");
  return status.ok() ? std::move(status).value() : PipelineStatus{};
}

// "" when the Pipeline is valid, else why not.
std::string ProblemOf(const Object& obj, const PodPolicy& policy) {
  k8s::Result<Pipeline> pipeline = ParsePipeline(obj);
  if (!pipeline.ok()) return pipeline.status().message();  // the schema should prevent it
  k8s::Status valid = ValidatePipeline(*pipeline, policy);
  return valid.ok() ? "" : valid.message();
}

// The steps it runs (spec.steps, or those a SageMaker pipelineDefinition compiles to) and the
// compiler's warnings.
struct StepSummary {
  int64_t steps = 0;
  std::vector<std::string> warnings;
};

StepSummary SummaryOf(const Object& obj) {
  const Object& spec = obj.value("spec", Object::object());
  auto it = spec.find("steps");
  if (it != spec.end() && it->is_array() && !it->empty()) {
    return {static_cast<int64_t>(it->size()), {}};
  }
  auto definition = spec.find("pipelineDefinition");
  if (definition == spec.end()) return {};
  k8s::Result<CompiledDefinition> compiled =
      CompileSageMakerDefinition(*definition, CompileOptionsFor(spec));
  if (!compiled.ok()) return {};
  return {static_cast<int64_t>(compiled->steps.size()), std::move(compiled->warnings)};
}

// "valid: 3 steps", and the warnings, bounded: "valid: 1 steps; 2 warnings: a; b".
std::string ValidMessage(const StepSummary& summary) {
  std::string message = "valid: " + std::to_string(summary.steps) + " steps";
  if (summary.warnings.empty()) return message;
  return message + "; " + std::to_string(summary.warnings.size()) +
         (summary.warnings.size() == 1 ? " warning: " : " warnings: ") +
         JoinBounded(summary.warnings);
}

// The status this reconciler wants: `status` with the validation verdict applied.
PipelineStatus DesiredStatus(const Object& obj, PipelineStatus status, k8s::WallTime now,
                             const PodPolicy& policy, const StepSummary& summary) {
  const std::optional<int64_t> generation = GenerationOf(obj);
  const std::string problem = ProblemOf(obj, policy);
  status.observed_generation = generation;
  status.step_count = summary.steps;
  Condition ready;
  ready.type = kConditionReady;
  ready.status = problem.empty() ? kConditionTrue : kConditionFalse;
  ready.reason = problem.empty() ? kReasonValid : kReasonInvalidDefinition;
  ready.message = problem.empty() ? ValidMessage(summary) : problem;
  ready.observed_generation = generation;
  SetKstatusConditions(&status.conditions, ready.status, ready.reason, ready.message, generation,
                       now);
  SetCondition(&status.conditions, std::move(ready), now);
  return status;
}

// How long a status write the cache does not show yet is believed (read_your_writes.h).
constexpr std::chrono::milliseconds kWriteMemory = std::chrono::seconds(30);

}  // namespace

PipelineReconciler::PipelineReconciler(const k8s::CacheReader& pipelines, k8s::ObjectWriter& writer,
                                       EventRecorder& events, const k8s::Clock& clock,
                                       std::string field_manager, PodPolicy policy,
                                       k8s::ObjectReader* reader)
    : writer_(writer),
      events_(events),
      clock_(clock),
      field_manager_(std::move(field_manager)),
      policy_(std::move(policy)),
      reader_(reader),
      pipelines_(pipelines, clock, kWriteMemory),
      statuses_(k8s::resources::kPipelines, writer, pipelines_, clock, {field_manager_}) {}

// Events only when the Ready condition changed: once per distinct problem or set of warnings,
// and when fixed.
void PipelineReconciler::RecordTransition(const Object& pipeline, const Condition* before,
                                          const Condition& after, bool warnings) {
  bool changed =
      before == nullptr || before->status != after.status || before->message != after.message;
  if (!changed) return;
  const std::string key = k8s::KeyOf(pipeline);
  if (after.status == kConditionFalse) {
    Log()->info("pipeline invalid key={} message={}", key, after.message);
    events_.Record(pipeline, EventType::kWarning, kReasonInvalidDefinition, after.message);
    return;
  }
  if (warnings) {
    Log()->info("pipeline valid with warnings key={} message={}", key, after.message);
    events_.Record(pipeline, EventType::kWarning, kReasonDefinitionWarnings, after.message);
  } else if (before != nullptr && before->status == kConditionFalse) {
    Log()->info("pipeline valid again key={}", key);
    events_.Record(pipeline, EventType::kNormal, kReasonValid, "the pipeline is valid again");
  }
}

ReconcileOutcome PipelineReconciler::Reconcile(const std::string& key) {
  auto [ns, name] = k8s::SplitKey(key);
  ObjectPtr current = pipelines_.Get(ns, name);
  if (!current) {
    pipelines_.Forget(ns, name);
    return ReconcileOutcome::Done();
  }
  if (k8s::IsBeingDeleted(*current)) {
    return ReconcileOutcome::Done();
  }
  const PipelineStatus before = StoredStatus(*current);
  const StepSummary summary = SummaryOf(*current);  // compiled once for status and events
  const PipelineStatus after = DesiredStatus(*current, before, clock_.Now(), policy_, summary);
  StatusWriter::Settled settled =
      statuses_.Settle(*current, ToJson(before), ToJson(after), StatusWriter::Change::kProgress);
  if (!settled.status.ok()) {
    Log()->warn("status write failed key={} error={}", key, settled.status.ToString());
    return ReconcileOutcome::Retry(settled.status);
  }
  if (settled.written) {
    RecordTransition(*current, FindCondition(before.conditions, kConditionReady),
                     *FindCondition(after.conditions, kConditionReady), !summary.warnings.empty());
  }
  return CleanUp(*current);
}

k8s::Result<std::vector<Object>> PipelineReconciler::ExecutionsOf(const Object& pipeline) {
  std::vector<std::string> names = {k8s::NameOf(pipeline)};
  const std::string alias = pipeline.value("/spec/pipelineName"_json_pointer, "");
  if (!alias.empty() && alias != names[0]) names.push_back(alias);
  std::vector<Object> runs;
  for (const std::string& name : names) {
    k8s::ListOptions opts;
    opts.field_selector = "spec.pipelineName=" + name;
    k8s::Result<k8s::ObjectList> list = k8s::ListAll(*reader_, k8s::resources::kPipelineExecutions,
                                                     k8s::NamespaceOf(pipeline), opts);
    if (!list.ok()) return list.status();
    for (Object& item : list->items) runs.push_back(std::move(item));
  }
  return runs;
}

ReconcileOutcome PipelineReconciler::CleanUp(const Object& pipeline) {
  k8s::Result<PipelineCleanupPolicy> policy =
      ParsePipelineCleanupPolicy(pipeline.value("spec", Object::object()));
  if (reader_ == nullptr || !policy.ok() || !policy->Any()) return ReconcileOutcome::Done();
  k8s::Result<std::vector<Object>> runs = ExecutionsOf(pipeline);
  if (!runs.ok()) return ReconcileOutcome::Retry(runs.status());
  std::vector<CleanupRun> read;
  std::map<std::string, std::string> uids;
  for (const Object& r : *runs) {
    if (r.contains("/metadata/deletionTimestamp"_json_pointer)) continue;
    read.push_back(CleanupRunOf(r));
    uids[k8s::NameOf(r)] = k8s::UidOf(r);
  }
  const k8s::WallTime now = clock_.Now();
  PipelineCleanupPlan plan = PlanPipelineCleanup(*policy, read, now);
  const std::string& ns = k8s::NamespaceOf(pipeline);
  k8s::DeleteOptions del;
  del.propagation_policy = "Background";
  struct Deletion {
    const std::vector<std::string>& names;
    const char* reason;  // of the Pipeline's Event
    const char* why;
  };
  const Deletion deletions[] = {
      {plan.delete_runs, "HistoryDeleted", "history limit"},
      {plan.expired_runs, "ExecutionExpired", "executionDefaults.ttlSecondsAfterFinished"}};
  for (const Deletion& d : deletions) {
    for (const std::string& name : d.names) {
      k8s::Status s = writer_.Delete(k8s::resources::kPipelineExecutions, ns, name, del);
      if (!s.ok() && !s.IsNotFound()) return ReconcileOutcome::Retry(s);
      events_.Record(pipeline, EventType::kNormal, d.reason,
                     "deleted execution " + name + " (" + d.why + ")");
    }
  }
  for (const std::string& name : plan.delete_jobs) {
    k8s::Status s = DeleteJobsOf(*reader_, writer_, ns, name, uids[name]);
    if (s.ok()) {
      s = RecordJobsDeleted(*reader_, writer_, events_, ns, name, now, field_manager_,
                            "the Pipeline's executionDefaults.jobsTTLSecondsAfterFinished");
    }
    if (!s.ok()) return ReconcileOutcome::Retry(s);
  }
  if (plan.requeue_after.count() > 0) return ReconcileOutcome::After(plan.requeue_after);
  return ReconcileOutcome::Done();
}

}  // namespace stepline::reconcilers
