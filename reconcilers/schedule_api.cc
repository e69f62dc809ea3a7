#include "reconcilers/schedule_api.h"

#include <map>
#include <utility>

namespace stepline::reconcilers {
namespace {

using Vars = std::map<std::string, std::string>;

// Replaces each {{schedule.X}} in text; Invalid naming `path` for an X not in vars.
k8s::Status SubstituteText(std::string* text, const Vars& vars, const std::string& path) {
  static const std::string kOpen = "{{schedule.";
  std::string out;
  size_t from = 0;
  for (size_t at; (at = text->find(kOpen, from)) != std::string::npos;) {
    const size_t close = text->find("}}", at);
    const std::string name = close == std::string::npos ? "" : text->substr(at + 2, close - at - 2);
    auto it = vars.find(name);
    if (it == vars.end()) {
      return FieldError(path, "unknown " +
                                  text->substr(at, close == std::string::npos ? std::string::npos
                                                                              : close + 2 - at) +
                                  "; known: {{schedule.time}}, {{schedule.date}}, "
                                  "{{schedule.name}}");
    }
    out += text->substr(from, at - from) + it->second;
    from = close + 2;
  }
  *text = out + text->substr(from);
  return k8s::Status::Ok();
}

// Every string of value, recursively.
k8s::Status Substitute(Json* value, const Vars& vars, const std::string& path) {
  if (value->is_string()) return SubstituteText(value->get_ptr<std::string*>(), vars, path);
  if (value->is_array()) {
    for (size_t i = 0; i < value->size(); ++i) {
      k8s::Status s = Substitute(&(*value)[i], vars, IndexPath(path, i));
      if (!s.ok()) return s;
    }
  } else if (value->is_object()) {
    for (auto& [key, item] : value->items()) {
      k8s::Status s = Substitute(&item, vars, JoinPath(path, key));
      if (!s.ok()) return s;
    }
  }
  return k8s::Status::Ok();
}

Vars VarsFor(const std::string& schedule, k8s::WallTime t, const std::string& local_date) {
  return {{"schedule.time", k8s::FormatRfc3339(t)},
          {"schedule.date", local_date},
          {"schedule.name", schedule}};
}

constexpr const char* kTemplateSpecPath = "spec.executionTemplate.spec";

k8s::Status ParseTemplate(const Json& tmpl, const std::string& path, PipelineScheduleSpec* s) {
  FieldReader t(tmpl, path);
  Json meta;
  t.Raw("metadata", &meta);
  t.Require("spec");
  t.Raw("spec", &s->template_spec);
  if (!t.ok()) return t.status();
  if (!s->template_spec.is_object()) return FieldError(JoinPath(path, "spec"), "must be an object");
  if (meta.is_null()) return k8s::Status::Ok();
  FieldReader m(meta, JoinPath(path, "metadata"));
  m.StringMapField("labels", &s->template_labels);
  m.StringMapField("annotations", &s->template_annotations);
  return m.status();
}

Json ActiveToJson(const ActiveRun& a) {
  FieldWriter w;
  w.String("name", a.name);
  w.Time("scheduledTime", a.scheduled_time);
  return w.Take();
}

k8s::Result<ActiveRun> ParseActive(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  ActiveRun a;
  r.String("name", &a.name);
  r.Time("scheduledTime", &a.scheduled_time);
  if (!r.ok()) return r.status();
  return a;
}

}  // namespace

k8s::Result<PipelineScheduleSpec> ParsePipelineScheduleSpec(const Json& json,
                                                            const std::string& path) {
  FieldReader r(json, path);
  PipelineScheduleSpec s;
  r.Require("schedule");
  r.String("schedule", &s.schedule);
  r.String("timeZone", &s.time_zone);
  r.Enum("concurrencyPolicy", kConcurrencyPolicyNames, &s.concurrency_policy);
  r.Int("startingDeadlineSeconds", &s.starting_deadline_seconds);
  r.Bool("suspend", &s.suspend);
  r.Int("successfulHistoryLimit", &s.successful_history_limit);
  r.Int("failedHistoryLimit", &s.failed_history_limit);
  r.Require("executionTemplate");
  Json tmpl;
  r.Raw("executionTemplate", &tmpl);
  if (!r.ok()) return r.status();
  k8s::Status t = ParseTemplate(tmpl, JoinPath(path, "executionTemplate"), &s);
  if (!t.ok()) return t;
  return s;
}

PipelineScheduleStatus ParsePipelineScheduleStatus(const Json& json) {
  FieldReader r(json, "status");
  PipelineScheduleStatus s;
  r.Int("observedGeneration", &s.observed_generation);
  r.Time("lastScheduleTime", &s.last_schedule_time);
  r.Time("lastSkippedTime", &s.last_skipped_time);
  r.Time("nextScheduleTime", &s.next_schedule_time);
  r.Time("lastSuccessfulTime", &s.last_successful_time);
  r.Int("activeCount", &s.active_count);
  r.List("active", ParseActive, &s.active);
  r.List("conditions", ParseCondition, &s.conditions);
  if (!r.ok()) return {};
  s.extra = r.Unknown();
  return s;
}

Json ToJson(const PipelineScheduleStatus& s) {
  FieldWriter w(s.extra);
  w.Int("observedGeneration", s.observed_generation);
  w.Time("lastScheduleTime", s.last_schedule_time);
  w.Time("lastSkippedTime", s.last_skipped_time);
  w.Time("nextScheduleTime", s.next_schedule_time);
  w.Time("lastSuccessfulTime", s.last_successful_time);
  w.Int("activeCount", s.active_count);
  std::vector<ActiveRun> listed(
      s.active.begin(),
      s.active.begin() + static_cast<std::ptrdiff_t>(std::min(s.active.size(), kMaxActiveListed)));
  w.List("active", listed, ActiveToJson);
  w.List("conditions", s.conditions, [](const Condition& c) { return ToJson(c); });
  return w.Take();
}

std::string ScheduledRunName(const std::string& schedule, k8s::WallTime t) {
  const auto minutes =
      std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
  return schedule + "-" + std::to_string(minutes);
}

k8s::Object ScheduledExecution(const k8s::Object& schedule, const PipelineScheduleSpec& spec,
                               k8s::WallTime t, const std::string& local_date) {
  const std::string& name = k8s::NameOf(schedule);
  Json exec_spec = spec.template_spec;
  // Cannot fail: the planner runs no schedule whose TemplateProblem is not empty, and that ran
  // this substitution (whose only error, an unknown {{schedule.X}}, does not depend on values).
  (void)Substitute(&exec_spec, VarsFor(name, t, local_date), kTemplateSpecPath);
  k8s::Object labels = spec.template_labels;
  labels[kScheduleLabel] = name;
  k8s::Object annotations = spec.template_annotations;
  annotations[kScheduledTimeAnnotation] = k8s::FormatRfc3339(t);
  k8s::Object owner = {{"apiVersion", k8s::resources::kPipelineSchedules.ApiVersion()},
                       {"kind", k8s::resources::kPipelineSchedules.kind},
                       {"name", name},
                       {"uid", k8s::UidOf(schedule)},
                       {"controller", true},
                       {"blockOwnerDeletion", true}};
  return {{"apiVersion", k8s::resources::kPipelineExecutions.ApiVersion()},
          {"kind", k8s::resources::kPipelineExecutions.kind},
          {"metadata",
           {{"name", ScheduledRunName(name, t)},
            {"namespace", k8s::NamespaceOf(schedule)},
            {"labels", std::move(labels)},
            {"annotations", std::move(annotations)},
            {"ownerReferences", k8s::Object::array({std::move(owner)})}}},
          {"spec", std::move(exec_spec)}};
}

std::string TemplateProblem(const PipelineScheduleSpec& spec) {
  Json trial = spec.template_spec;
  k8s::Status s =
      Substitute(&trial, VarsFor("x", k8s::WallTime{}, "1970-01-01"), kTemplateSpecPath);
  if (!s.ok()) return s.message();
  k8s::Result<PipelineExecutionSpec> parsed = ParsePipelineExecutionSpec(trial, kTemplateSpecPath);
  if (!parsed.ok()) return parsed.status().message();
  if (!parsed->extra.empty()) {
    return JoinPath(kTemplateSpecPath, parsed->extra.begin().key()) +
           ": not a field of a PipelineExecution spec";
  }
  for (const char* refused : {"stop", "signals", "rerunOf", "selectiveExecutionConfig"}) {
    if (trial.contains(refused)) {
      return JoinPath(kTemplateSpecPath, refused) + ": not allowed in a schedule's template";
    }
  }
  if (parsed->pipeline_name.empty()) {
    return JoinPath(kTemplateSpecPath, "pipelineName") + ": is required";
  }
  return "";
}

}  // namespace stepline::reconcilers
