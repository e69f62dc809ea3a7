// JSON conversion of Pipeline, its spec, steps and status (api_types.h).
#include <utility>

#include "reconcilers/api_object.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {
namespace {

k8s::Result<Tag> ParseTag(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Tag t;
  r.String("key", &t.key);
  r.String("value", &t.value);
  if (!r.ok()) return r.status();
  t.extra = r.Unknown();
  return t;
}

Json TagToJson(const Tag& t) {
  FieldWriter w(t.extra);
  w.String("key", t.key);
  w.String("value", t.value);
  return w.Take();
}

k8s::Result<Parameter> ParseParameter(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Parameter p;
  r.Require("name");
  r.String("name", &p.name);
  r.Enum("type", kParameterTypeNames, &p.type);
  r.String("default", &p.default_value);
  r.StringList("enum", &p.enum_values);
  r.String("description", &p.description);
  if (!r.ok()) return r.status();
  p.extra = r.Unknown();
  return p;
}

Json ParameterToJson(const Parameter& p) {
  FieldWriter w(p.extra);
  w.String("name", p.name);
  w.Enum("type", kParameterTypeNames, p.type);
  w.String("default", p.default_value);
  w.StringList("enum", p.enum_values);
  w.String("description", p.description);
  return w.Take();
}

k8s::Result<KeySelector> ParseKeySelector(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  KeySelector k;
  r.String("name", &k.name);
  r.Require("key");
  r.String("key", &k.key);
  r.Bool("optional", &k.optional);
  if (!r.ok()) return r.status();
  k.extra = r.Unknown();
  return k;
}

Json KeySelectorToJson(const KeySelector& k) {
  FieldWriter w(k.extra);
  w.String("name", k.name);
  w.String("key", k.key);
  w.Bool("optional", k.optional);
  return w.Take();
}

k8s::Result<EnvVarSource> ParseEnvVarSource(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  EnvVarSource s;
  r.Object("secretKeyRef", ParseKeySelector, &s.secret_key_ref);
  r.Object("configMapKeyRef", ParseKeySelector, &s.config_map_key_ref);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json EnvVarSourceToJson(const EnvVarSource& s) {
  FieldWriter w(s.extra);
  if (s.secret_key_ref) w.Object("secretKeyRef", KeySelectorToJson(*s.secret_key_ref));
  if (s.config_map_key_ref) w.Object("configMapKeyRef", KeySelectorToJson(*s.config_map_key_ref));
  return w.Take();
}

k8s::Result<EnvVar> ParseEnvVar(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  EnvVar e;
  r.Require("name");
  r.String("name", &e.name);
  r.String("value", &e.value);
  r.Object("valueFrom", ParseEnvVarSource, &e.value_from);
  if (!r.ok()) return r.status();
  e.extra = r.Unknown();
  return e;
}

Json EnvVarToJson(const EnvVar& e) {
  FieldWriter w(e.extra);
  w.String("name", e.name);
  w.String("value", e.value);
  if (e.value_from) w.Raw("valueFrom", EnvVarSourceToJson(*e.value_from));
  return w.Take();
}

k8s::Result<ResourceRequirements> ParseResources(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  ResourceRequirements res;
  r.StringMapField("requests", &res.requests, /*numbers_as_strings=*/true);
  r.StringMapField("limits", &res.limits, /*numbers_as_strings=*/true);
  if (!r.ok()) return r.status();
  res.extra = r.Unknown();
  return res;
}

Json ResourcesToJson(const ResourceRequirements& res) {
  FieldWriter w(res.extra);
  w.StringMapField("requests", res.requests);
  w.StringMapField("limits", res.limits);
  return w.Take();
}

k8s::Result<RetryPolicy> ParseRetryPolicy(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  RetryPolicy p;
  r.Int("maxAttempts", &p.max_attempts);
  r.Int("intervalSeconds", &p.interval_seconds);
  r.Number("backoffRate", &p.backoff_rate);
  r.Int("maxIntervalSeconds", &p.max_interval_seconds);
  r.Int("expireAfterMinutes", &p.expire_after_minutes);
  r.StringList("retryOn", &p.retry_on);
  if (!r.ok()) return r.status();
  p.extra = r.Unknown();
  return p;
}

Json RetryPolicyToJson(const RetryPolicy& p) {
  FieldWriter w(p.extra);
  w.Int("maxAttempts", p.max_attempts);
  w.Int("intervalSeconds", p.interval_seconds);
  w.Number("backoffRate", p.backoff_rate);
  w.Int("maxIntervalSeconds", p.max_interval_seconds);
  w.Int("expireAfterMinutes", p.expire_after_minutes);
  w.StringList("retryOn", p.retry_on);
  return w.Take();
}

k8s::Result<StepCache> ParseStepCache(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  StepCache c;
  r.Bool("enabled", &c.enabled);
  r.String("expireAfter", &c.expire_after);
  if (!r.ok()) return r.status();
  c.extra = r.Unknown();
  return c;
}

Json StepCacheToJson(const StepCache& c) {
  FieldWriter w(c.extra);
  w.Bool("enabled", c.enabled);
  w.String("expireAfter", c.expire_after);
  return w.Take();
}

// A non-negative user or group id; an error names the field.
k8s::Status CheckId(const std::optional<int64_t>& id, const std::string& path, const char* key) {
  if (id && *id < 0) return FieldError(JoinPath(path, key), "must not be negative");
  return k8s::Status::Ok();
}

k8s::Result<std::vector<int64_t>> ParseGroups(const Json& list, const std::string& path) {
  std::vector<int64_t> groups;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_number_integer() || list[i].get<int64_t>() < 0)
      return FieldError(IndexPath(path, i), "must be a non-negative integer");
    groups.push_back(list[i].get<int64_t>());
  }
  return groups;
}

// securityContext: only the fields of PodSecurity; anything else (privileged, capabilities,
// seLinuxOptions, ...) is an error, never passed on.
k8s::Result<PodSecurity> ParsePodSecurity(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  PodSecurity sc;
  r.Int("runAsUser", &sc.run_as_user);
  r.Int("runAsGroup", &sc.run_as_group);
  r.Bool("runAsNonRoot", &sc.run_as_non_root);
  r.Int("fsGroup", &sc.fs_group);
  Json groups;
  r.RawList("supplementalGroups", &groups);
  if (!r.ok()) return r.status();
  if (Json unknown = r.Unknown(); !unknown.empty()) {
    return FieldError(JoinPath(path, unknown.begin().key()),
                      "not allowed: a step may set only runAsUser, runAsGroup, runAsNonRoot, "
                      "fsGroup and supplementalGroups");
  }
  for (auto [id, key] : {std::pair{&sc.run_as_user, "runAsUser"},
                         {&sc.run_as_group, "runAsGroup"},
                         {&sc.fs_group, "fsGroup"}}) {
    if (k8s::Status st = CheckId(*id, path, key); !st.ok()) return st;
  }
  if (sc.run_as_non_root.value_or(false) && sc.run_as_user == 0) {
    return FieldError(JoinPath(path, "runAsUser"), "is 0 (root) but runAsNonRoot is true");
  }
  if (groups.is_array()) {
    auto parsed = ParseGroups(groups, JoinPath(path, "supplementalGroups"));
    if (!parsed.ok()) return parsed.status();
    sc.supplemental_groups = std::move(*parsed);
  }
  return sc;
}

Json PodSecurityToJson(const PodSecurity& sc) {
  FieldWriter w;
  w.Int("runAsUser", sc.run_as_user);
  w.Int("runAsGroup", sc.run_as_group);
  w.Bool("runAsNonRoot", sc.run_as_non_root);
  w.Int("fsGroup", sc.fs_group);
  Json out = w.Take();
  if (sc.supplemental_groups) out["supplementalGroups"] = *sc.supplemental_groups;
  return out;
}

// An unknown key of an artifacts or notebook object is an error, not kept: `outputs` is free-form
// in the CRD schema (a list or an object), so nothing else would tell the user about a misspelt
// field (and the controller may read objects the schema did not check).
k8s::Status RejectUnknown(const FieldReader& r, const std::string& expected) {
  Json unknown = r.Unknown();
  if (unknown.empty()) return k8s::Status::Ok();
  return FieldError(JoinPath(r.path(), unknown.begin().key()),
                    "unknown field (expected " + expected + ")");
}

// notebook: {path, kernel, parameters}.
k8s::Result<NotebookSpec> ParseNotebook(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  NotebookSpec n;
  r.String("path", &n.path);
  r.String("kernel", &n.kernel);
  r.Raw("parameters", &n.parameters);
  if (!r.ok()) return r.status();
  if (!n.parameters.is_null() && !n.parameters.is_object()) {
    return FieldError(JoinPath(path, "parameters"),
                      "must be an object of parameter names and values");
  }
  if (k8s::Status st = RejectUnknown(r, "path, kernel, parameters"); !st.ok()) return st;
  return n;
}

Json NotebookToJson(const NotebookSpec& n) {
  FieldWriter w(n.extra);
  w.String("path", n.path);
  w.String("kernel", n.kernel);
  w.Raw("parameters", n.parameters);
  return w.Take();
}

// transform: the batch transform of a compiled SageMaker Transform step (TransformSpec).
k8s::Result<TransformSpec> ParseTransform(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  TransformSpec t;
  r.String("contentType", &t.content_type);
  r.String("splitType", &t.split_type);
  r.String("batchStrategy", &t.batch_strategy);
  r.Int("maxPayloadInMB", &t.max_payload_in_mb);
  r.String("accept", &t.accept);
  r.String("assembleWith", &t.assemble_with);
  r.Int("port", &t.port);
  r.Int("invocationsTimeoutInSeconds", &t.invocations_timeout_in_seconds);
  r.Int("invocationsMaxRetries", &t.invocations_max_retries);
  if (!r.ok()) return r.status();
  if (k8s::Status st = RejectUnknown(r,
                                     "contentType, splitType, batchStrategy, maxPayloadInMB, "
                                     "accept, assembleWith, port, invocationsTimeoutInSeconds, "
                                     "invocationsMaxRetries");
      !st.ok()) {
    return st;
  }
  return t;
}

Json TransformToJson(const TransformSpec& t) {
  FieldWriter w(t.extra);
  w.String("contentType", t.content_type);
  w.String("splitType", t.split_type);
  w.String("batchStrategy", t.batch_strategy);
  w.Int("maxPayloadInMB", t.max_payload_in_mb);
  w.String("accept", t.accept);
  w.String("assembleWith", t.assemble_with);
  w.Int("port", t.port);
  w.Int("invocationsTimeoutInSeconds", t.invocations_timeout_in_seconds);
  w.Int("invocationsMaxRetries", t.invocations_max_retries);
  return w.Take();
}

// function: the function call of a compiled SageMaker Lambda step (FunctionSpec).
k8s::Result<FunctionSpec> ParseFunction(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  FunctionSpec f;
  r.String("name", &f.name);
  r.String("arn", &f.arn);
  if (!r.ok()) return r.status();
  if (k8s::Status st = RejectUnknown(r, "name, arn"); !st.ok()) return st;
  return f;
}

Json FunctionToJson(const FunctionSpec& f) {
  FieldWriter w(f.extra);
  w.String("name", f.name);
  w.String("arn", f.arn);
  return w.Take();
}

// The container half of a step: what stepDefaults may also give.
void ReadContainerFields(FieldReader& r, Step* s) {
  r.String("image", &s->image);
  r.StringList("command", &s->command);
  r.StringList("args", &s->args);
  r.List("env", ParseEnvVar, &s->env);
  r.String("workingDir", &s->working_dir);
  r.Object("resources", ParseResources, &s->resources);
  r.StringMapField("nodeSelector", &s->node_selector);
  r.RawList("tolerations", &s->tolerations);
  r.Object("securityContext", ParsePodSecurity, &s->security_context);
  r.Int("timeoutSeconds", &s->timeout_seconds);
  r.Object("retryPolicy", ParseRetryPolicy, &s->retry_policy);
  r.Enum("onFailure", kOnFailureNames, &s->on_failure);
  r.Object("notebook", ParseNotebook, &s->notebook);
  r.Object("cache", ParseStepCache, &s->cache);
}

void WriteContainerFields(const Step& s, FieldWriter& w) {
  w.String("image", s.image);
  w.StringList("command", s.command);
  w.StringList("args", s.args);
  w.List("env", s.env, EnvVarToJson);
  w.String("workingDir", s.working_dir);
  if (s.resources) w.Raw("resources", ResourcesToJson(*s.resources));
  w.StringMapField("nodeSelector", s.node_selector);
  w.Raw("tolerations", s.tolerations);
  if (s.security_context) w.Raw("securityContext", PodSecurityToJson(*s.security_context));
  w.Int("timeoutSeconds", s.timeout_seconds);
  if (s.retry_policy) w.Raw("retryPolicy", RetryPolicyToJson(*s.retry_policy));
  w.Enum("onFailure", kOnFailureNames, s.on_failure);
  if (s.notebook) w.Raw("notebook", NotebookToJson(*s.notebook));
  if (s.cache) w.Raw("cache", StepCacheToJson(*s.cache));
}

k8s::Result<Step> ParseStepDefaults(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Step s;
  ReadContainerFields(r, &s);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

// ---- artifacts (inputs, outputs) ----

k8s::Result<std::string> ParseRawArtifact(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  std::string data;
  r.Require("data");
  r.String("data", &data);
  if (!r.ok()) return r.status();
  if (k8s::Status st = RejectUnknown(r, "data"); !st.ok()) return st;
  return data;
}

k8s::Result<Artifact> ParseArtifact(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Artifact a;
  r.Require("name");
  r.String("name", &a.name);
  r.Require("path");
  r.String("path", &a.path);
  r.String("s3", &a.s3);
  r.String("from", &a.from);
  r.String("archive", &a.archive);
  r.Object("raw", ParseRawArtifact, &a.raw);
  if (!r.ok()) return r.status();
  if (k8s::Status st = RejectUnknown(r, "name, path, s3, from, raw, archive"); !st.ok()) return st;
  return a;
}

Json ArtifactToJson(const Artifact& a) {
  FieldWriter w(a.extra);
  w.String("name", a.name);
  w.String("path", a.path);
  w.String("s3", a.s3);
  w.String("from", a.from);
  w.String("archive", a.archive);
  if (a.raw) w.Raw("raw", Json{{"data", *a.raw}});
  return w.Take();
}

// "inputs": {artifacts: [...]}.
k8s::Status ReadInputs(FieldReader& step, Step* s) {
  Json inputs;
  step.Raw("inputs", &inputs);
  if (!step.ok() || inputs.is_null()) return step.status();
  FieldReader r(inputs, JoinPath(step.path(), "inputs"));
  r.List("artifacts", ParseArtifact, &s->input_artifacts);
  if (!r.ok()) return r.status();
  return RejectUnknown(r, "artifacts");
}

// "outputs": a list of names, or {parameters: [names], artifacts: [...]}.
k8s::Status ReadOutputs(FieldReader& step, Step* s) {
  Json outputs;
  step.Raw("outputs", &outputs);
  if (!step.ok() || outputs.is_null()) return step.status();
  const std::string path = JoinPath(step.path(), "outputs");
  if (outputs.is_array()) {
    Json wrapped = {{"outputs", outputs}};
    FieldReader list(wrapped, step.path());
    list.StringList("outputs", &s->outputs);
    return list.status();
  }
  if (!outputs.is_object()) {
    return FieldError(path, "must be a list of output names or an object {parameters, artifacts}");
  }
  FieldReader r(outputs, path);
  r.StringList("parameters", &s->outputs);
  r.List("artifacts", ParseArtifact, &s->output_artifacts);
  if (!r.ok()) return r.status();
  return RejectUnknown(r, "parameters, artifacts");
}

void WriteArtifacts(const Step& s, FieldWriter& w) {
  if (!s.input_artifacts.empty()) {
    FieldWriter inputs;
    inputs.List("artifacts", s.input_artifacts, ArtifactToJson);
    w.Raw("inputs", inputs.Take());
  }
  if (s.output_artifacts.empty()) return w.StringList("outputs", s.outputs);
  FieldWriter outputs;
  outputs.StringList("parameters", s.outputs);
  outputs.List("artifacts", s.output_artifacts, ArtifactToJson);
  w.Raw("outputs", outputs.Take());
}

}  // namespace

k8s::Result<ParallelismConfiguration> ParseParallelismConfiguration(const Json& json,
                                                                    const std::string& path) {
  FieldReader r(json, path);
  ParallelismConfiguration p;
  r.Int("maxParallelExecutionSteps", &p.max_parallel_execution_steps);
  if (!r.ok()) return r.status();
  p.extra = r.Unknown();
  return p;
}

Json ToJson(const ParallelismConfiguration& p) {
  FieldWriter w(p.extra);
  w.Int("maxParallelExecutionSteps", p.max_parallel_execution_steps);
  return w.Take();
}

k8s::Result<Step> ParseStep(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  Step s;
  r.Require("name");
  r.String("name", &s.name);
  r.Enum("type", kStepTypeNames, &s.type);
  r.StringList("dependsOn", &s.depends_on);
  ReadContainerFields(r, &s);
  r.String("when", &s.when);
  r.String("forEach", &s.for_each);
  r.Int("maxParallel", &s.max_parallel);
  if (k8s::Status st = ReadOutputs(r, &s); !st.ok()) return st;
  if (k8s::Status st = ReadInputs(r, &s); !st.ok()) return st;
  r.String("message", &s.message);
  r.StringMapField("values", &s.values);
  r.Object("transform", ParseTransform, &s.transform);
  r.Object("function", ParseFunction, &s.function);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json ToJson(const Step& s) {
  FieldWriter w(s.extra);
  w.String("name", s.name);
  w.Enum("type", kStepTypeNames, s.type);
  w.StringList("dependsOn", s.depends_on);
  WriteContainerFields(s, w);
  w.String("when", s.when);
  w.String("forEach", s.for_each);
  w.Int("maxParallel", s.max_parallel);
  WriteArtifacts(s, w);
  w.String("message", s.message);
  w.StringMapField("values", s.values);
  if (s.transform) w.Raw("transform", TransformToJson(*s.transform));
  if (s.function) w.Raw("function", FunctionToJson(*s.function));
  return w.Take();
}

k8s::Result<PipelineSpec> ParsePipelineSpec(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  PipelineSpec s;
  r.String("pipelineName", &s.pipeline_name);
  r.String("pipelineDisplayName", &s.pipeline_display_name);
  r.String("pipelineDescription", &s.pipeline_description);
  r.String("roleARN", &s.role_arn);
  r.List("tags", ParseTag, &s.tags);
  r.List("parameters", ParseParameter, &s.parameters);
  r.Object("parallelismConfiguration", ParseParallelismConfiguration, &s.parallelism_configuration);
  r.String("serviceAccountName", &s.service_account_name);
  r.String("queueName", &s.queue_name);
  r.Object("stepDefaults", ParseStepDefaults, &s.step_defaults);
  r.List("steps", ParseStep, &s.steps);
  r.Raw("pipelineDefinition", &s.pipeline_definition);
  if (!r.ok()) return r.status();
  const Json& def = s.pipeline_definition;
  if (!def.is_null() && !def.is_string() && !def.is_object()) {
    return FieldError(JoinPath(path, "pipelineDefinition"), "must be a JSON string or an object");
  }
  s.extra = r.Unknown();
  return s;
}

Json ToJson(const PipelineSpec& s) {
  FieldWriter w(s.extra);
  w.String("pipelineName", s.pipeline_name);
  w.String("pipelineDisplayName", s.pipeline_display_name);
  w.String("pipelineDescription", s.pipeline_description);
  w.String("roleARN", s.role_arn);
  w.List("tags", s.tags, TagToJson);
  w.List("parameters", s.parameters, ParameterToJson);
  if (s.parallelism_configuration) {
    w.Raw("parallelismConfiguration", ToJson(*s.parallelism_configuration));
  }
  w.String("serviceAccountName", s.service_account_name);
  w.String("queueName", s.queue_name);
  if (s.step_defaults) w.Raw("stepDefaults", ToJson(*s.step_defaults));
  w.List("steps", s.steps, [](const Step& step) { return ToJson(step); });
  w.Raw("pipelineDefinition", s.pipeline_definition);
  return w.Take();
}

k8s::Result<PipelineStatus> ParsePipelineStatus(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  PipelineStatus s;
  r.Int("observedGeneration", &s.observed_generation);
  r.Int("stepCount", &s.step_count);
  r.List("conditions", ParseCondition, &s.conditions);
  if (!r.ok()) return r.status();
  s.extra = r.Unknown();
  return s;
}

Json ToJson(const PipelineStatus& s) {
  FieldWriter w(s.extra);
  w.Int("observedGeneration", s.observed_generation);
  w.Int("stepCount", s.step_count);
  w.List("conditions", s.conditions, [](const Condition& c) { return ToJson(c); });
  return w.Take();
}

k8s::Result<Pipeline> ParsePipeline(const Json& json) {
  return ParseTopLevel<Pipeline>(json, ParsePipelineSpec, ParsePipelineStatus);
}

Json ToJson(const Pipeline& object) { return TopLevelToJson(object, kPipelineKind); }

}  // namespace stepline::reconcilers
