#include "reconcilers/snapshot.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "reconcilers/api_json.h"
#include "reconcilers/job_name.h"
#include "reconcilers/sagemaker_definition.h"

namespace stepline::reconcilers {
namespace {

bool ParsesAsInteger(const std::string& v) {
  if (v.empty()) return false;
  char* end = nullptr;
  errno = 0;
  (void)std::strtoll(v.c_str(), &end, 10);
  return errno == 0 && end == v.c_str() + v.size() &&
         !std::isspace(static_cast<unsigned char>(v[0]));
}

// A finite number: NaN, infinities and values out of a double's range (1e999) are refused.
bool ParsesAsFloat(const std::string& v) {
  if (v.empty() || std::isspace(static_cast<unsigned char>(v[0]))) return false;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  return end == v.c_str() + v.size() && std::isfinite(d);
}

bool IsLabelNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool IsDnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      return false;
  }
  return std::isalnum(static_cast<unsigned char>(s.front())) &&
         std::isalnum(static_cast<unsigned char>(s.back()));
}

std::string ParameterError(const std::string& name, const std::string& problem) {
  return "parameter \"" + name + "\": " + problem;
}

// A value for a parameter the pipeline does not declare: refused, as SageMaker's
// StartPipelineExecution refuses a PipelineParameters name its definition does not declare.
std::string Undeclared(const std::string& name, const std::vector<Parameter>& declared) {
  constexpr size_t kListed = 10;
  std::string names;
  for (size_t i = 0; i < declared.size() && i < kListed; ++i) {
    names += (i == 0 ? "" : ", ") + declared[i].name;
  }
  if (declared.size() > kListed) {
    names += " and " + std::to_string(declared.size() - kListed) + " more";
  }
  return ParameterError(
      name, "is not declared by the pipeline (" +
                (names.empty() ? std::string("it declares none") : "it declares " + names) +
                "): remove it from spec.pipelineParameters, or declare it in "
                "the Pipeline");
}

}  // namespace

std::string CheckParameterValue(ParameterType type, const std::string& value) {
  switch (type) {
    case ParameterType::kString:
      return "";
    case ParameterType::kInteger:
      return ParsesAsInteger(value) ? "" : "must be an integer (got \"" + value + "\")";
    case ParameterType::kFloat:
      return ParsesAsFloat(value) ? "" : "must be a finite number (got \"" + value + "\")";
    case ParameterType::kBoolean:
      return value == "true" || value == "false" ? ""
                                                 : "must be true or false (got \"" + value + "\")";
    case ParameterType::kList: {
      Json parsed = Json::parse(value, nullptr, /*allow_exceptions=*/false);
      return parsed.is_array() ? "" : "must be a JSON list (got \"" + value + "\")";
    }
  }
  return "";
}

k8s::Result<std::vector<ResolvedParameter>> ResolveParameters(
    const std::vector<Parameter>& declared, const std::vector<PipelineParameter>& given) {
  std::set<std::string> seen;
  for (const auto& g : given) {
    bool known = false;
    for (const auto& d : declared) known = known || d.name == g.name;
    if (!known) return k8s::Status::InvalidArgument(Undeclared(g.name, declared));
    if (!seen.insert(g.name).second)
      return k8s::Status::InvalidArgument(ParameterError(g.name, "is given more than once"));
  }
  std::vector<ResolvedParameter> out;
  for (const auto& d : declared) {
    ResolvedParameter p{d.name, d.type.value_or(ParameterType::kString), ""};
    const PipelineParameter* value = nullptr;
    for (const auto& g : given) {
      if (g.name == d.name) value = &g;
    }
    if (value != nullptr) {
      p.value = value->value;
      p.from_execution = true;
    } else if (d.default_value) {
      p.value = *d.default_value;
    } else {
      return k8s::Status::InvalidArgument(ParameterError(d.name, "is required and has no default"));
    }
    std::string problem = CheckParameterValue(p.type, p.value);
    if (problem.empty() && !d.enum_values.empty()) {
      bool allowed = false;
      for (const auto& e : d.enum_values) allowed = allowed || e == p.value;
      if (!allowed) {
        std::string choices;
        for (const auto& e : d.enum_values) choices += (choices.empty() ? "" : ", ") + e;
        problem = "\"" + p.value + "\" is not one of the allowed values (" + choices + ")";
      }
    }
    if (!problem.empty()) return k8s::Status::InvalidArgument(ParameterError(d.name, problem));
    out.push_back(std::move(p));
  }
  return out;
}

const ResolvedParameter* Snapshot::FindParameter(const std::string& name) const {
  for (const auto& p : parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool IsValidLabelValue(const std::string& text) {
  if (text.empty()) return true;
  if (text.size() > 63) return false;
  for (char c : text) {
    if (!IsLabelNameChar(c)) return false;
  }
  return std::isalnum(static_cast<unsigned char>(text.front())) &&
         std::isalnum(static_cast<unsigned char>(text.back()));
}

bool IsValidLabelKey(const std::string& text) {
  auto slash = text.find('/');
  std::string name = slash == std::string::npos ? text : text.substr(slash + 1);
  if (slash != std::string::npos && !IsDnsSubdomain(text.substr(0, slash))) return false;
  return !name.empty() && IsValidLabelValue(name);
}

k8s::Result<Snapshot> CompileSnapshot(const Pipeline& pipeline,
                                      const PipelineExecutionSpec& execution) {
  if (!pipeline.spec.pipeline_definition.is_null() && pipeline.spec.steps.empty()) {
    // A SageMaker definition runs as the parameters and steps it compiles to.
    auto compiled = CompileSageMakerDefinition(pipeline.spec.pipeline_definition,
                                               CompileOptionsFor(pipeline.spec));
    if (!compiled.ok()) {
      return k8s::Status::Invalid("spec.pipelineDefinition: " + compiled.status().message());
    }
    Pipeline native = pipeline;
    native.spec.pipeline_definition = nullptr;
    native.spec.parameters = std::move(compiled->parameters);
    native.spec.steps = std::move(compiled->steps);
    auto snapshot = CompileSnapshot(native, execution);
    if (!snapshot.ok() || compiled->parameter_fields.empty()) return snapshot;
    std::map<std::string, std::string> values;
    for (const auto& p : snapshot->parameters) values[p.name] = p.value;
    k8s::Status fields = ApplyParameterFields(compiled->parameter_fields, values, &snapshot->steps);
    if (!fields.ok()) return fields;
    return snapshot;
  }
  auto params = ResolveParameters(pipeline.spec.parameters, execution.pipeline_parameters);
  if (!params.ok()) return params.status();
  Snapshot s;
  s.pipeline = pipeline.metadata.name;
  s.pipeline_uid = pipeline.metadata.uid;
  s.pipeline_generation = pipeline.metadata.generation.value_or(0);
  s.parameters = std::move(params).value();
  if (execution.parallelism_configuration)
    s.max_parallel_execution_steps =
        execution.parallelism_configuration->max_parallel_execution_steps;
  if (!s.max_parallel_execution_steps && pipeline.spec.parallelism_configuration)
    s.max_parallel_execution_steps =
        pipeline.spec.parallelism_configuration->max_parallel_execution_steps;
  s.service_account_name = pipeline.spec.service_account_name;
  s.queue_name = execution.queue_name.empty() ? pipeline.spec.queue_name : execution.queue_name;
  for (const auto& tag : pipeline.spec.tags) {
    if (IsValidLabelKey(tag.key) && IsValidLabelValue(tag.value)) s.tags[tag.key] = tag.value;
  }
  Step defaults = pipeline.spec.step_defaults.value_or(Step{});
  for (const auto& step : pipeline.spec.steps) s.steps.push_back(EffectiveStep(defaults, step));
  return s;
}

namespace {

constexpr const char* kValueFromSpec = "spec.pipelineParameters";

Json ParameterToJson(const ResolvedParameter& p) {
  Json out{{"name", p.name}, {"type", ToString(p.type)}};
  if (p.from_execution && p.value.size() > kMaxSnapshotValueBytes) {
    out["valueFrom"] = kValueFromSpec;
    out["valueHash"] = ShortHash(p.value);
  } else {
    out["value"] = p.value;
  }
  return out;
}

// Fills in a value the snapshot names rather than holds, from the execution's spec.
k8s::Status ResolveValueFrom(const Json& json, const PipelineExecutionSpec& spec,
                             ResolvedParameter* p) {
  if (!json.is_object() || !json.contains("valueFrom")) return k8s::Status::Ok();
  for (const auto& given : spec.pipeline_parameters) {
    if (given.name != p->name) continue;
    if (ShortHash(given.value) != json.value("valueHash", "")) break;
    p->value = given.value;
    p->from_execution = true;
    return k8s::Status::Ok();
  }
  return k8s::Status::Invalid("parameter \"" + p->name +
                              "\": its value in spec.pipelineParameters was changed or removed "
                              "after the run started");
}

k8s::Result<ResolvedParameter> ParseResolvedParameter(const Json& json, const std::string& path) {
  FieldReader r(json, path);
  ResolvedParameter p;
  std::optional<ParameterType> type;
  r.String("name", &p.name);
  r.Enum("type", kParameterTypeNames, &type);
  r.String("value", &p.value);
  if (!r.ok()) return r.status();
  p.type = type.value_or(ParameterType::kString);
  return p;
}

}  // namespace

Json ToJson(const Snapshot& s) {
  FieldWriter w;
  w.String("pipeline", s.pipeline);
  w.String("pipelineUID", s.pipeline_uid);
  w.Int("pipelineGeneration", s.pipeline_generation);
  w.List("parameters", s.parameters, ParameterToJson);
  w.Int("maxParallelExecutionSteps", s.max_parallel_execution_steps);
  w.String("serviceAccountName", s.service_account_name);
  w.String("queueName", s.queue_name);
  w.StringMapField("tags", s.tags);
  w.List("steps", s.steps, [](const Step& step) { return ToJson(step); });
  return w.Take();
}

k8s::Result<Snapshot> ParseSnapshot(const Json& json, const PipelineExecutionSpec& spec) {
  FieldReader r(json, "status.pipelineSnapshot");
  Snapshot s;
  r.String("pipeline", &s.pipeline);
  r.String("pipelineUID", &s.pipeline_uid);
  r.Int("pipelineGeneration", &s.pipeline_generation);
  r.List("parameters", ParseResolvedParameter, &s.parameters);
  r.Int("maxParallelExecutionSteps", &s.max_parallel_execution_steps);
  r.String("serviceAccountName", &s.service_account_name);
  r.String("queueName", &s.queue_name);
  r.StringMapField("tags", &s.tags);
  r.List("steps", ParseStep, &s.steps);
  if (!r.ok()) return r.status();
  const Json* params =
      json.is_object() && json.contains("parameters") ? &json["parameters"] : nullptr;
  for (size_t i = 0; params != nullptr && params->is_array() && i < s.parameters.size(); ++i) {
    k8s::Status st = ResolveValueFrom((*params)[i], spec, &s.parameters[i]);
    if (!st.ok()) return st;
  }
  return s;
}

}  // namespace stepline::reconcilers
