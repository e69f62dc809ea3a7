#include "reconcilers/rerun.h"

#include <algorithm>
#include <map>
#include <set>

#include "reconcilers/snapshot.h"

namespace stepline::reconcilers {
namespace {

using k8s::Status;

// The last path segment of an ARN (…:pipeline/NAME/execution/ID names execution ID).
std::string LastSegment(const std::string& arn) {
  auto slash = arn.find_last_of('/');
  return slash == std::string::npos ? arn : arn.substr(slash + 1);
}

RerunRequest FromSelective(const SelectiveExecutionConfig& c) {
  RerunRequest r;
  const std::string base = "spec.selectiveExecutionConfig.";
  if (!c.source_pipeline_execution_name.empty()) {
    r.source = c.source_pipeline_execution_name;
    r.source_field = base + "sourcePipelineExecutionName";
  } else {
    r.source = LastSegment(c.source_pipeline_execution_arn);
    r.source_field = base + "sourcePipelineExecutionARN";
  }
  for (const SelectedStep& s : c.selected_steps) r.steps.push_back(s.step_name);
  r.steps_field = base + "selectedSteps";
  return r;
}

// A recorded result the re-run may keep: it succeeded, its `when` was false, or it failed and
// was caught (onFailure: Continue).
bool Reusable(const StepStatus* s, const Step& step) {
  if (s == nullptr || !s->phase) return false;
  switch (*s->phase) {
    case StepPhase::kSucceeded:
      return true;
    case StepPhase::kSkipped:
      return s->reason == "ConditionFalse";
    case StepPhase::kFailed:
      return step.on_failure.value_or(OnFailure::kFail) == OnFailure::kContinue;
    default:
      return false;
  }
}

Status Refuse(const std::string& field, const std::string& why) {
  return Status::Invalid(field + ": " + why);
}

// The source's problems that no step selection can fix; "" when there are none.
std::string SourceProblem(const RerunRequest& r, const PipelineExecution* source) {
  const std::string quoted = "execution \"" + r.source + "\"";
  if (source == nullptr) return quoted + " not found in this namespace";
  if (!IsFinishedPhase(source->status.pipeline_execution_status)) {
    auto phase = source->status.pipeline_execution_status;
    return quoted + " has not finished (" +
           std::string(phase ? EnumToString(kExecutionStatusNames, *phase) : "Pending") +
           "); re-run it once it has";
  }
  if (!source->status.pipeline_snapshot.is_object()) {
    return quoted + " never started: it has no results to reuse";
  }
  return "";
}

// Why the re-run may not run the source's snapshot: the Pipeline changed since; "" when fine.
std::string PipelineChange(const RerunRequest& r, const Snapshot& snap, const Pipeline* pipeline) {
  if (r.allow_pipeline_change) return "";
  const std::string hint =
      ": a re-run runs the snapshot \"" + r.source +
      "\" ran; set spec.rerunOf.allowPipelineChange: true to re-run it anyway, or start a new "
      "execution to run the Pipeline as it is now";
  if (pipeline == nullptr) return "Pipeline \"" + snap.pipeline + "\" was deleted" + hint;
  const int64_t now = pipeline->metadata.generation.value_or(0);
  if (pipeline->metadata.uid != snap.pipeline_uid || now != snap.pipeline_generation) {
    return "Pipeline \"" + snap.pipeline + "\" changed since \"" + r.source +
           "\" ran (generation " + std::to_string(snap.pipeline_generation) + ", now " +
           std::to_string(now) + ")" + hint;
  }
  return "";
}

bool SameParameters(const std::vector<PipelineParameter>& a,
                    const std::vector<PipelineParameter>& b) {
  auto pairs = [](const std::vector<PipelineParameter>& v) {
    std::map<std::string, std::string> m;
    for (const auto& p : v) m[p.name] = p.value;
    return m;
  };
  return pairs(a) == pairs(b);
}

// The steps that run again: the selected ones (or those that did not succeed), those whose
// result cannot be reused, and every step downstream of one of these. In declaration order.
std::set<std::string> StepsToRun(const std::vector<std::string>& selected, const Snapshot& snap,
                                 const std::map<std::string, const StepStatus*>& recorded) {
  std::set<std::string> run(selected.begin(), selected.end());
  for (const Step& step : snap.steps) {
    auto it = recorded.find(step.name);
    const StepStatus* s = it == recorded.end() ? nullptr : it->second;
    bool succeeded = s != nullptr && s->phase &&
                     (*s->phase == StepPhase::kSucceeded ||
                      (*s->phase == StepPhase::kSkipped && s->reason == "ConditionFalse"));
    if (!Reusable(s, step) || (selected.empty() && !succeeded)) run.insert(step.name);
  }
  for (bool grew = true; grew;) {  // downstream closure; the snapshot's graph is acyclic
    grew = false;
    for (const Step& step : snap.steps) {
      if (run.count(step.name) > 0) continue;
      for (const auto& dep : step.depends_on) {
        if (run.count(dep) == 0) continue;
        run.insert(step.name);
        grew = true;
        break;
      }
    }
  }
  return run;
}

StepStatus Reused(const StepStatus& recorded, const std::string& source) {
  StepStatus s = recorded;
  s.next_attempt_time.reset();
  s.running_children.clear();
  if (!s.extra.contains(kReusedFromField)) s.extra[kReusedFromField] = source;
  return s;
}

}  // namespace

k8s::Result<std::optional<RerunRequest>> RerunRequestOf(const PipelineExecutionSpec& spec) {
  if (spec.rerun_of && spec.selective_execution_config) {
    return Status::Invalid(
        "spec.rerunOf and spec.selectiveExecutionConfig: give one of them, not both");
  }
  if (spec.selective_execution_config) {
    return std::optional<RerunRequest>(FromSelective(*spec.selective_execution_config));
  }
  if (!spec.rerun_of) return std::optional<RerunRequest>();
  RerunRequest r;
  r.source = spec.rerun_of->execution;
  r.steps = spec.rerun_of->steps;
  r.allow_pipeline_change = spec.rerun_of->allow_pipeline_change.value_or(false);
  r.source_field = "spec.rerunOf.execution";
  r.steps_field = "spec.rerunOf.steps";
  return std::optional<RerunRequest>(std::move(r));
}

k8s::Result<RerunStart> StartRerun(const RerunRequest& r, const PipelineExecution& execution,
                                   const PipelineExecution* source, const Pipeline* pipeline) {
  if (auto problem = SourceProblem(r, source); !problem.empty()) {
    return Refuse(r.source_field, problem);
  }
  if (source->spec.pipeline_name != execution.spec.pipeline_name) {
    return Refuse("spec.pipelineName", "\"" + execution.spec.pipeline_name + "\" is not \"" +
                                           source->spec.pipeline_name + "\", the Pipeline of \"" +
                                           r.source + "\"");
  }
  k8s::Result<Snapshot> snap = ParseSnapshot(source->status.pipeline_snapshot, source->spec);
  if (!snap.ok()) return Refuse(r.source_field, "its snapshot: " + snap.status().message());
  if (auto change = PipelineChange(r, *snap, pipeline); !change.empty()) {
    return Refuse(r.source_field, change);
  }
  if (!execution.spec.pipeline_parameters.empty() &&
      !SameParameters(execution.spec.pipeline_parameters, source->spec.pipeline_parameters)) {
    return Refuse("spec.pipelineParameters",
                  "a re-run runs with the parameters of \"" + r.source +
                      "\"; leave spec.pipelineParameters out (or give the same values)");
  }
  std::map<std::string, const StepStatus*> recorded;
  for (const StepStatus& s : source->status.steps) recorded[s.name] = &s;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    bool known = std::any_of(snap->steps.begin(), snap->steps.end(),
                             [&](const Step& s) { return s.name == r.steps[i]; });
    if (!known) {
      return Refuse(
          r.steps_field + "[" + std::to_string(i) + "]",
          "\"" + r.steps[i] + "\" is not a step of the pipeline \"" + r.source + "\" ran");
    }
  }
  std::set<std::string> run = StepsToRun(r.steps, *snap, recorded);
  if (run.empty()) {
    return Refuse(r.source_field, "nothing to re-run: every step of \"" + r.source +
                                      "\" succeeded; select steps to run again");
  }
  RerunStart start;
  start.snapshot = source->status.pipeline_snapshot;
  start.pipeline_generation = snap->pipeline_generation;
  for (const Step& step : snap->steps) {
    if (run.count(step.name) > 0) {
      start.run.push_back(step.name);
    } else {
      start.reused.push_back(Reused(*recorded.at(step.name), r.source));
    }
  }
  return start;
}

}  // namespace stepline::reconcilers
