// JSON conversion of PipelineExecution, its spec and status (api_types.h).
#include <algorithm>
#include <utility>

#include "reconcilers/api_object.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {
namespace {

k8s::Result<PipelineParameter> ParsePipelineParameter(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  PipelineParameter p;
  r.Require("name");
  r.String("name", &p.name);
  r.String("value", &p.value);
  if (!r.ok()) return r.status();
  p.extra = r.Unknown();
  return p;
}

Json PipelineParameterToJson(const PipelineParameter& p) {
  FieldWriter w(p.extra);
  w.String("name", p.name);
  w.String("value", p.value);
  return w.Take();
}

k8s::Result<Signal> ParseSignal(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Signal s;
  r.Require("step");
  r.String("step", &s.step);
  r.Require("outcome");
  r.Enum("outcome", kSignalOutcomeNames, &s.outcome);
  r.String("message", &s.message);
  r.StringMapField("outputs", &s.outputs);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json SignalToJson(const Signal& s) {
  FieldWriter w(s.extra);
  w.String("step", s.step);
  w.Enum("outcome", kSignalOutcomeNames, s.outcome);
  w.String("message", s.message);
  w.StringMapField("outputs", s.outputs);
  return w.Take();
}

k8s::Result<SelectedStep> ParseSelectedStep(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  SelectedStep s;
  r.Require("stepName");
  r.String("stepName", &s.step_name);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json SelectedStepToJson(const SelectedStep& s) {
  FieldWriter w(s.extra);
  w.String("stepName", s.step_name);
  return w.Take();
}

k8s::Result<SelectiveExecutionConfig> ParseSelective(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  SelectiveExecutionConfig c;
  r.String("sourcePipelineExecutionName", &c.source_pipeline_execution_name);
  r.String("sourcePipelineExecutionARN", &c.source_pipeline_execution_arn);
  r.List("selectedSteps", ParseSelectedStep, &c.selected_steps);
  if (!r.ok()) return r.status();
  c.extra = r.Unknown();
  return c;
}

Json SelectiveToJson(const SelectiveExecutionConfig& c) {
  FieldWriter w(c.extra);
  w.String("sourcePipelineExecutionName", c.source_pipeline_execution_name);
  w.String("sourcePipelineExecutionARN", c.source_pipeline_execution_arn);
  w.List("selectedSteps", c.selected_steps, SelectedStepToJson);
  return w.Take();
}

k8s::Result<ChildCounts> ParseChildCounts(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  ChildCounts c;
  r.Int("total", &c.total);
  r.Int("succeeded", &c.succeeded);
  r.Int("failed", &c.failed);
  r.Int("running", &c.running);
  r.Int("pending", &c.pending);
  if (!r.ok()) return r.status();
  c.extra = r.Unknown();
  return c;
}

Json ChildCountsToJson(const ChildCounts& c) {
  FieldWriter w(c.extra);
  w.Int("total", c.total);
  w.Int("succeeded", c.succeeded);
  w.Int("failed", c.failed);
  w.Int("running", c.running);
  w.Int("pending", c.pending);
  return w.Take();
}

k8s::Result<ChildStatus> ParseChildStatus(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  ChildStatus c;
  r.Require("index");
  r.Int("index", &c.index);
  r.String("item", &c.item);
  r.Enum("phase", kStepPhaseNames, &c.phase);
  r.Int("attempts", &c.attempts);
  r.String("jobName", &c.job_name);
  r.String("reason", &c.reason);
  r.String("message", &c.message);
  r.Time("nextAttemptTime", &c.next_attempt_time);
  if (!r.ok()) return r.status();
  c.extra = r.Unknown();
  return c;
}

Json ChildStatusToJson(const ChildStatus& c) {
  FieldWriter w(c.extra);
  w.Int("index", c.index);
  w.String("item", c.item);
  w.Enum("phase", kStepPhaseNames, c.phase);
  w.Int("attempts", c.attempts != 0 ? std::optional<int64_t>(c.attempts) : std::nullopt);
  w.String("jobName", c.job_name);
  w.String("reason", c.reason);
  w.String("message", c.message);
  w.Time("nextAttemptTime", c.next_attempt_time);
  return w.Take();
}

// The first kMaxChildDetails entries: the bound the CRD schema enforces.
std::vector<ChildStatus> Bounded(const std::vector<ChildStatus>& children) {
  size_t n = std::min(children.size(), kMaxChildDetails);
  return {children.begin(), children.begin() + static_cast<std::ptrdiff_t>(n)};
}

k8s::Result<StoredFanIn> ParseStoredFanIn(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  StoredFanIn s;
  r.Require("name");
  r.String("name", &s.name);
  r.Int("bytes", &s.bytes);
  r.Int("items", &s.items);
  r.StringList("configMaps", &s.config_maps);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json StoredFanInToJson(const StoredFanIn& s) {
  FieldWriter w(s.extra);
  w.String("name", s.name);
  w.Int("bytes", s.bytes);
  w.Int("items", s.items);
  w.StringList("configMaps", s.config_maps);
  return w.Take();
}

k8s::Result<StepStatus> ParseStepStatus(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  StepStatus s;
  r.Require("name");
  r.String("name", &s.name);
  r.Enum("phase", kStepPhaseNames, &s.phase);
  r.Int("attempts", &s.attempts);
  r.String("jobName", &s.job_name);
  r.String("reason", &s.reason);
  r.String("message", &s.message);
  r.Time("nextAttemptTime", &s.next_attempt_time);
  r.Time("startTime", &s.start_time);
  r.Time("completionTime", &s.completion_time);
  r.StringMapField("outputs", &s.outputs);
  r.StringMapField("artifacts", &s.artifacts);
  r.List("storedOutputs", ParseStoredFanIn, &s.stored_outputs);
  r.List("storedArtifacts", ParseStoredFanIn, &s.stored_artifacts);
  r.Object("children", ParseChildCounts, &s.children);
  r.List("failedChildren", ParseChildStatus, &s.failed_children);
  r.List("runningChildren", ParseChildStatus, &s.running_children);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json StepStatusToJson(const StepStatus& s) {
  FieldWriter w(s.extra);
  w.String("name", s.name);
  w.Enum("phase", kStepPhaseNames, s.phase);
  w.Int("attempts", s.attempts != 0 ? std::optional<int64_t>(s.attempts) : std::nullopt);
  w.String("jobName", s.job_name);
  w.String("reason", s.reason);
  w.String("message", s.message);
  w.Time("nextAttemptTime", s.next_attempt_time);
  w.Time("startTime", s.start_time);
  w.Time("completionTime", s.completion_time);
  w.StringMapField("outputs", s.outputs);
  w.StringMapField("artifacts", s.artifacts);
  w.List("storedOutputs", s.stored_outputs, StoredFanInToJson);
  w.List("storedArtifacts", s.stored_artifacts, StoredFanInToJson);
  if (s.children) w.Raw("children", ChildCountsToJson(*s.children));
  w.List("failedChildren", Bounded(s.failed_children), ChildStatusToJson);
  w.List("runningChildren", Bounded(s.running_children), ChildStatusToJson);
  return w.Take();
}

k8s::Result<RerunOf> ParseRerunOf(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  RerunOf o;
  r.Require("execution");
  r.String("execution", &o.execution);
  r.StringList("steps", &o.steps);
  r.Bool("allowPipelineChange", &o.allow_pipeline_change);
  if (!r.ok()) return r.status();
  o.extra = r.Unknown();
  return o;
}

Json RerunOfToJson(const RerunOf& o) {
  FieldWriter w(o.extra);
  w.String("execution", o.execution);
  w.StringList("steps", o.steps);
  w.Bool("allowPipelineChange", o.allow_pipeline_change);
  return w.Take();
}

}  // namespace

k8s::Result<PipelineExecutionSpec> ParsePipelineExecutionSpec(const Json& json,
                                                              const std::string& path) {
  FieldReader r(json, path);
  PipelineExecutionSpec s;
  r.String("pipelineName", &s.pipeline_name);
  r.String("pipelineExecutionDisplayName", &s.pipeline_execution_display_name);
  r.String("pipelineExecutionDescription", &s.pipeline_execution_description);
  r.List("pipelineParameters", ParsePipelineParameter, &s.pipeline_parameters);
  r.Object("parallelismConfiguration", ParseParallelismConfiguration, &s.parallelism_configuration);
  r.Int("timeoutSeconds", &s.timeout_seconds);
  r.Bool("stop", &s.stop);
  r.List("signals", ParseSignal, &s.signals);
  r.Object("selectiveExecutionConfig", ParseSelective, &s.selective_execution_config);
  r.Object("rerunOf", ParseRerunOf, &s.rerun_of);
  r.Int("ttlSecondsAfterFinished", &s.ttl_seconds_after_finished);
  r.String("queueName", &s.queue_name);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json ToJson(const PipelineExecutionSpec& s) {
  FieldWriter w(s.extra);
  w.String("pipelineName", s.pipeline_name);
  w.String("pipelineExecutionDisplayName", s.pipeline_execution_display_name);
  w.String("pipelineExecutionDescription", s.pipeline_execution_description);
  w.List("pipelineParameters", s.pipeline_parameters, PipelineParameterToJson);
  if (s.parallelism_configuration) {
    w.Raw("parallelismConfiguration", ToJson(*s.parallelism_configuration));
  }
  w.Int("timeoutSeconds", s.timeout_seconds);
  w.Bool("stop", s.stop);
  w.List("signals", s.signals, SignalToJson);
  if (s.selective_execution_config) {
    w.Raw("selectiveExecutionConfig", SelectiveToJson(*s.selective_execution_config));
  }
  if (s.rerun_of) w.Raw("rerunOf", RerunOfToJson(*s.rerun_of));
  w.Int("ttlSecondsAfterFinished", s.ttl_seconds_after_finished);
  w.String("queueName", s.queue_name);
  return w.Take();
}

k8s::Result<PipelineExecutionStatus> ParsePipelineExecutionStatus(const Json& json,
                                                                  const std::string& path) {
  FieldReader r(json, path);
  PipelineExecutionStatus s;
  r.Int("observedGeneration", &s.observed_generation);
  r.Enum("pipelineExecutionStatus", kExecutionStatusNames, &s.pipeline_execution_status);
  r.String("failureReason", &s.failure_reason);
  r.String("progress", &s.progress);
  r.Time("startTime", &s.start_time);
  r.Time("completionTime", &s.completion_time);
  r.Time("lastModifiedTime", &s.last_modified_time);
  r.Int("pipelineGeneration", &s.pipeline_generation);
  r.Raw("pipelineSnapshot", &s.pipeline_snapshot);
  r.List("steps", ParseStepStatus, &s.steps);
  r.List("conditions", ParseCondition, &s.conditions);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json ToJson(const PipelineExecutionStatus& s) {
  FieldWriter w(s.extra);
  w.Int("observedGeneration", s.observed_generation);
  w.Enum("pipelineExecutionStatus", kExecutionStatusNames, s.pipeline_execution_status);
  w.String("failureReason", s.failure_reason);
  w.String("progress", s.progress);
  w.Time("startTime", s.start_time);
  w.Time("completionTime", s.completion_time);
  w.Time("lastModifiedTime", s.last_modified_time);
  w.Int("pipelineGeneration", s.pipeline_generation);
  w.Raw("pipelineSnapshot", s.pipeline_snapshot);
  w.List("steps", s.steps, StepStatusToJson);
  w.List("conditions", s.conditions, [](const Condition& c) { return ToJson(c); });
  return w.Take();
}

k8s::Result<PipelineExecution> ParsePipelineExecution(const Json& json) {
  return ParseTopLevel<PipelineExecution>(json, ParsePipelineExecutionSpec,
                                          ParsePipelineExecutionStatus);
}

Json ToJson(const PipelineExecution& object) {
  return TopLevelToJson(object, kPipelineExecutionKind);
}

}  // namespace stepline::reconcilers
