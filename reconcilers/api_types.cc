// Enum spellings, metadata and conditions, and the merge of stepDefaults under a step. The JSON
// conversion of the two kinds is in api_pipeline.cc and api_execution.cc.
#include "reconcilers/api_types.h"

#include <algorithm>
#include <utility>

#include "reconcilers/notebook.h"

namespace stepline::reconcilers {

const char* ToString(ParameterType v) { return EnumToString(kParameterTypeNames, v); }
const char* ToString(StepType v) { return EnumToString(kStepTypeNames, v); }
const char* ToString(OnFailure v) { return EnumToString(kOnFailureNames, v); }
const char* ToString(SignalOutcome v) { return EnumToString(kSignalOutcomeNames, v); }
const char* ToString(ExecutionStatus v) { return EnumToString(kExecutionStatusNames, v); }
const char* ToString(StepPhase v) { return EnumToString(kStepPhaseNames, v); }

// ---- ObjectMeta ----

k8s::Result<ObjectMeta> ParseObjectMeta(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  ObjectMeta m;
  r.String("name", &m.name);
  r.String("namespace", &m.namespace_);
  r.String("uid", &m.uid);
  r.String("resourceVersion", &m.resource_version);
  r.Int("generation", &m.generation);
  r.StringMapField("labels", &m.labels);
  if (!r.ok()) return r.status();
  m.extra = r.Unknown();
  return m;
}

Json ToJson(const ObjectMeta& m) {
  FieldWriter w(m.extra);
  w.String("name", m.name);
  w.String("namespace", m.namespace_);
  w.String("uid", m.uid);
  w.String("resourceVersion", m.resource_version);
  w.Int("generation", m.generation);
  w.StringMapField("labels", m.labels);
  return w.Take();
}

// ---- Conditions ----

k8s::Result<Condition> ParseCondition(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Condition c;
  r.Require("type");
  r.String("type", &c.type);
  r.Require("status");
  r.String("status", &c.status);
  r.String("reason", &c.reason);
  r.String("message", &c.message);
  r.Time("lastTransitionTime", &c.last_transition_time);
  r.Int("observedGeneration", &c.observed_generation);
  if (!r.ok()) return r.status();
  c.extra = r.Unknown();
  return c;
}

Json ToJson(const Condition& c) {
  FieldWriter w(c.extra);
  w.String("type", c.type);
  w.String("status", c.status);
  w.String("reason", c.reason);
  w.String("message", c.message);
  w.Time("lastTransitionTime", c.last_transition_time);
  w.Int("observedGeneration", c.observed_generation);
  return w.Take();
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool SetCondition(std::vector<Condition>* conditions, Condition condition, k8s::WallTime now) {
  auto it = std::find_if(conditions->begin(), conditions->end(),
                         [&](const Condition& c) { return c.type == condition.type; });
  if (it == conditions->end()) {
    condition.last_transition_time = now;
    conditions->push_back(std::move(condition));
    return true;
  }
  bool changed = false;
  if (it->status != condition.status) {
    it->status = std::move(condition.status);
    it->last_transition_time = now;
    changed = true;
  }
  if (!it->last_transition_time) {
    it->last_transition_time = now;
    changed = true;
  }
  auto update = [&changed](auto& field, auto& value) {
    if (field != value) {
      field = std::move(value);
      changed = true;
    }
  };
  update(it->reason, condition.reason);
  update(it->message, condition.message);
  update(it->observed_generation, condition.observed_generation);
  return changed;
}

void SetKstatusConditions(std::vector<Condition>* conditions, const std::string& outcome,
                          const std::string& reason, const std::string& message,
                          std::optional<int64_t> generation, k8s::WallTime now) {
  const bool reconciling = outcome == kConditionUnknown;
  const bool stalled = outcome == kConditionFalse;
  for (auto [type, on] :
       {std::pair{kConditionReconciling, reconciling}, {kConditionStalled, stalled}}) {
    Condition c;
    c.type = type;
    c.status = on ? kConditionTrue : kConditionFalse;
    c.reason = reason;
    c.message = on ? message : "";
    c.observed_generation = generation;
    SetCondition(conditions, std::move(c), now);
  }
}

// ---- stepDefaults ----

namespace {

template <typename T>
void MergeUnder(const T& defaults, T* value) {
  if (*value == T{}) *value = defaults;
}

template <typename T>
void MergeUnder(const std::optional<T>& defaults, std::optional<T>* value) {
  if (!value->has_value()) *value = defaults;
}

void MergeMapUnder(const StringMap& defaults, StringMap* value) {
  value->insert(defaults.begin(), defaults.end());  // keeps the step's keys
}

void MergeEnvUnder(const std::vector<EnvVar>& defaults, std::vector<EnvVar>* env) {
  std::vector<EnvVar> merged = defaults;
  for (auto& var : *env) {
    auto same = std::find_if(merged.begin(), merged.end(),
                             [&](const EnvVar& d) { return d.name == var.name; });
    if (same != merged.end()) {
      *same = std::move(var);
    } else {
      merged.push_back(std::move(var));
    }
  }
  *env = std::move(merged);
}

void MergeResourcesUnder(const std::optional<ResourceRequirements>& defaults,
                         std::optional<ResourceRequirements>* value) {
  if (!defaults) return;
  if (!*value) {
    *value = defaults;
    return;
  }
  MergeMapUnder(defaults->requests, &(*value)->requests);
  MergeMapUnder(defaults->limits, &(*value)->limits);
}

void MergeRetryPolicyUnder(const std::optional<RetryPolicy>& defaults,
                           std::optional<RetryPolicy>* value) {
  if (!defaults) return;
  if (!*value) {
    *value = defaults;
    return;
  }
  RetryPolicy& p = **value;
  MergeUnder(defaults->max_attempts, &p.max_attempts);
  MergeUnder(defaults->interval_seconds, &p.interval_seconds);
  MergeUnder(defaults->backoff_rate, &p.backoff_rate);
  MergeUnder(defaults->max_interval_seconds, &p.max_interval_seconds);
  MergeUnder(defaults->expire_after_minutes, &p.expire_after_minutes);
  MergeUnder(defaults->retry_on, &p.retry_on);
}

}  // namespace

Step EffectiveStep(const Step& defaults, const Step& step) {
  Step s = step;
  MergeUnder(defaults.image, &s.image);
  MergeUnder(defaults.command, &s.command);
  MergeUnder(defaults.args, &s.args);
  MergeEnvUnder(defaults.env, &s.env);
  MergeUnder(defaults.working_dir, &s.working_dir);
  MergeResourcesUnder(defaults.resources, &s.resources);
  MergeMapUnder(defaults.node_selector, &s.node_selector);
  if (s.tolerations.is_null() || s.tolerations.empty()) s.tolerations = defaults.tolerations;
  if (defaults.security_context) {
    const PodSecurity& d = *defaults.security_context;
    PodSecurity& sc = s.security_context ? *s.security_context : s.security_context.emplace();
    MergeUnder(d.run_as_user, &sc.run_as_user);
    MergeUnder(d.run_as_group, &sc.run_as_group);
    MergeUnder(d.run_as_non_root, &sc.run_as_non_root);
    MergeUnder(d.fs_group, &sc.fs_group);
    MergeUnder(d.supplemental_groups, &sc.supplemental_groups);
  }
  MergeUnder(defaults.timeout_seconds, &s.timeout_seconds);
  MergeRetryPolicyUnder(defaults.retry_policy, &s.retry_policy);
  MergeUnder(defaults.on_failure, &s.on_failure);
  if (defaults.cache) {
    StepCache& c = s.cache ? *s.cache : s.cache.emplace();
    MergeUnder(defaults.cache->enabled, &c.enabled);
    MergeUnder(defaults.cache->expire_after, &c.expire_after);
  }
  if (!s.type) s.type = StepType::kContainer;
  if (!s.on_failure) s.on_failure = OnFailure::kFail;
  ApplyNotebookDefaults(defaults, &s);
  return s;
}

}  // namespace stepline::reconcilers
