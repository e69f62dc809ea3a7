#include "reconcilers/validation.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "k8sclient/quantity.h"
#include "reconcilers/artifact_repository.h"
#include "reconcilers/expression.h"
#include "reconcilers/graph.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/job_name.h"
#include "reconcilers/notebook.h"
#include "reconcilers/pod_policy.h"
#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/status_bounds.h"
#include "reconcilers/step_cache.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {
namespace {

using Kind = Reference::Kind;

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// "spec.steps[2] (train)", or "spec.steps[2]" when the item has no name.
std::string Indexed(const std::string& list, size_t index, const std::string& name) {
  std::string path = list + "[" + std::to_string(index) + "]";
  return name.empty() ? path : path + " (" + name + ")";
}

std::string Field(const std::string& path, const std::string& field, size_t index) {
  return path + "." + field + "[" + std::to_string(index) + "]";
}

// Letters, digits, '-' and '_', alphanumeric at both ends (a label value), at most
// kMaxStepNameLength: "AbaloneTrain", "prepare_data".
bool IsStepName(const std::string& s) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (s.empty() || s.size() > kMaxStepNameLength || !alnum(s.front()) || !alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '_'; });
}

// What {{steps.S.outputs.NAME}} can name: letters, digits, '_' and '-'.
bool IsOutputName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
  });
}

bool IsDnsSubdomainName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::islower(u) || std::isdigit(u);
  };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool IsCIdentifier(const std::string& s) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), word);
}

// Where a template is, and whether {{item}} is defined there (and, if not, why).
struct TemplateScope {
  std::optional<size_t> step;  // the step it belongs to; nullopt in stepDefaults
  bool item = false;
  std::string item_problem;  // "outside a forEach step"
};

// What the checks of one Pipeline share. Not thread-safe; one per PipelineProblems call.
class Checker {
 public:
  Checker(const PipelineSpec& spec, std::vector<std::string>* out) : spec(spec), out_(out) {
    for (const auto& p : spec.parameters) parameters.emplace(p.name, &p);
    for (size_t i = 0; i < spec.steps.size(); ++i) {
      steps.emplace(spec.steps[i].name, i);
      job_parts.emplace(StepJobPart(spec.steps[i].name), i);
    }
    deps.resize(spec.steps.size());
    for (size_t i = 0; i < spec.steps.size(); ++i) {
      for (const auto& name : spec.steps[i].depends_on) {
        auto it = steps.find(name);
        if (it == steps.end() || name == spec.steps[i].name) continue;
        if (std::find(deps[i].begin(), deps[i].end(), it->second) == deps[i].end()) {
          deps[i].push_back(it->second);
        }
      }
    }
  }

  void Add(const std::string& path, const std::string& what) {
    out_->push_back(path + ": " + what);
  }

  // The steps were compiled from a SageMaker definition, which may have none (only Condition
  // steps: the execution succeeds at once, as in SageMaker).
  bool compiled = false;

  // The steps `step` waits for, directly or transitively.
  const std::set<size_t>& Upstream(size_t step) {
    auto [it, fresh] = upstream_.try_emplace(step);
    if (!fresh) return it->second;
    std::vector<size_t> stack = deps[step];
    while (!stack.empty()) {
      size_t d = stack.back();
      stack.pop_back();
      if (it->second.insert(d).second) stack.insert(stack.end(), deps[d].begin(), deps[d].end());
    }
    return it->second;
  }

  const PipelineSpec& spec;
  std::map<std::string, const Parameter*> parameters;  // the first declaration of each name
  std::map<std::string, size_t> steps;                 // the first step of each name
  std::map<std::string, size_t> job_parts;             // the first step of each StepJobPart
  std::vector<std::vector<size_t>> deps;               // known dependencies, by step index

 private:
  std::vector<std::string>* out_;
  std::map<size_t, std::set<size_t>> upstream_;
};

void CheckAtLeast(Checker& c, const std::string& path, const std::optional<int64_t>& value,
                  int64_t minimum) {
  if (!value || *value >= minimum) return;
  std::string got = " (got " + std::to_string(*value) + ")";
  c.Add(path, (minimum == 0 ? "must not be negative" : "must be positive") + got);
}

// ---- spec, parameters, tags ----

void CheckSpec(Checker& c) {
  const PipelineSpec& s = c.spec;
  bool definition = !s.pipeline_definition.is_null();
  if (definition && s.steps.empty()) {
    // Checked by PipelineProblems on what it compiles to.
  } else if (definition) {
    c.Add("spec", "steps and pipelineDefinition are exclusive");
  } else if (s.steps.empty() && !c.compiled) {
    c.Add("spec.steps", "at least one step is required");
  }
  if (s.steps.size() > kMaxSteps) {
    c.Add("spec.steps", std::to_string(s.steps.size()) + " steps exceed the maximum of " +
                            std::to_string(kMaxSteps));
  }
  if (s.parallelism_configuration) {
    CheckAtLeast(c, "spec.parallelismConfiguration.maxParallelExecutionSteps",
                 s.parallelism_configuration->max_parallel_execution_steps, 1);
  }
}

void CheckParameter(Checker& c, size_t i) {
  const Parameter& p = c.spec.parameters[i];
  const std::string path = Indexed("spec.parameters", i, p.name);
  if (c.parameters.at(p.name) != &p) c.Add(path + ".name", "duplicate parameter name");
  for (size_t j = 0; j < i; ++j) {
    const std::string& other = c.spec.parameters[j].name;
    if (other == p.name || ParameterEnvName(other) != ParameterEnvName(p.name)) continue;
    c.Add(path + ".name", "parameters " + Quoted(other) + " and " + Quoted(p.name) +
                              " would both be the environment variable " +
                              ParameterEnvName(p.name) + "; rename one");
  }
  ParameterType type = p.type.value_or(ParameterType::kString);
  for (size_t j = 0; j < p.enum_values.size(); ++j) {
    std::string problem = CheckParameterValue(type, p.enum_values[j]);
    if (!problem.empty()) c.Add(Field(path, "enum", j), problem);
  }
  if (!p.default_value) return;
  std::string problem = CheckParameterValue(type, *p.default_value);
  if (!problem.empty()) return c.Add(path + ".default", problem);
  const auto& allowed = p.enum_values;
  if (!allowed.empty() &&
      std::find(allowed.begin(), allowed.end(), *p.default_value) == allowed.end()) {
    c.Add(path + ".default",
          Quoted(*p.default_value) + " is not one of the enum values (" + Join(allowed) + ")");
  }
}

void CheckTags(Checker& c) {
  const std::string why = ", so it cannot become a Job label";
  for (size_t i = 0; i < c.spec.tags.size(); ++i) {
    const Tag& tag = c.spec.tags[i];
    const std::string path = Indexed("spec.tags", i, tag.key);
    if (!IsValidLabelKey(tag.key)) {
      c.Add(path + ".key", Quoted(tag.key) + " is not a valid label key" + why);
    }
    if (!IsValidLabelValue(tag.value)) {
      c.Add(path + ".value", Quoted(tag.value) +
                                 " is not a valid label value (at most 63 letters, digits, '-', "
                                 "'_' or '.', starting and ending with a letter or digit)" +
                                 why);
    }
  }
}

// ---- templates ----

// Step `step` declares the output artifact `name`.
void CheckArtifactDeclared(Checker& c, size_t step, const std::string& name,
                           const std::string& path, const std::string& in) {
  const std::vector<Artifact>& declared = c.spec.steps[step].output_artifacts;
  for (const Artifact& a : declared) {
    if (a.name == name) return;
  }
  if (IsNotebookStep(c.spec.steps[step]) && name == kNotebookArtifact) return;  // added
  std::vector<std::string> names;
  names.reserve(declared.size());
  for (const Artifact& a : declared) names.push_back(a.name);
  c.Add(path, "step " + Quoted(c.spec.steps[step].name) + " declares no output artifact " +
                  Quoted(name) + " (outputs.artifacts: " + (names.empty() ? "none" : Join(names)) +
                  ")" + in);
}

// "an Approval", "a Fail", ...
std::string ArticleAndType(StepType type) {
  std::string name = ToString(type);
  return (std::string("AEIOU").find(name.front()) == std::string::npos ? "a " : "an ") + name;
}

// The outputs a reference may read: a Record step's values, else the declared outputs (none
// declared: any).
std::vector<std::string> DeclaredOutputs(const Step& step) {
  if (step.type != StepType::kRecord) return step.outputs;
  std::vector<std::string> names;
  for (const auto& [name, value] : step.values) names.push_back(name);
  return names;
}

// A step whose {{steps.S.jobName}} is read runs one Job per attempt. In a compiled SageMaker
// definition only a Training step is read so, and a Fail step there is a Training step that fails
// when it runs (sagemaker_steps.cc, FailsWhenRun): the steps that read it never run, as in
// SageMaker.
void CheckRunsOneJob(Checker& c, const Step& step, const std::string& path, const std::string& in) {
  StepType type = step.type.value_or(StepType::kContainer);
  if (c.compiled && type == StepType::kFail) return;
  if (type == StepType::kApproval || type == StepType::kFail || type == StepType::kRecord) {
    c.Add(path, "step " + Quoted(step.name) + " is " + ArticleAndType(type) +
                    " step, which runs no Job" + in);
  } else if (!step.for_each.empty()) {
    c.Add(path, "step " + Quoted(step.name) + " runs one Job per forEach item, so it has no " +
                    "single Job name" + in);
  }
}

void CheckStepReference(Checker& c, const TemplateScope& scope, const Reference& r,
                        const std::string& path) {
  const std::string in = " in " + r.ToString();
  if (!scope.step) return c.Add(path, "stepDefaults cannot refer to steps" + in);
  auto it = c.steps.find(r.step);
  if (it == c.steps.end()) return c.Add(path, "unknown step " + Quoted(r.step) + in);
  if (it->second == *scope.step) return c.Add(path, "a step cannot refer to itself" + in);
  if (c.Upstream(*scope.step).count(it->second) == 0) {
    return c.Add(path, "step " + Quoted(r.step) +
                           " is not upstream of this step (add it to dependsOn)" + in);
  }
  if (r.kind == Kind::kStepArtifactUri)
    return CheckArtifactDeclared(c, it->second, r.name, path, in);
  if (r.kind == Kind::kStepJobName) return CheckRunsOneJob(c, c.spec.steps[it->second], path, in);
  const std::vector<std::string> outputs = DeclaredOutputs(c.spec.steps[it->second]);
  if (r.kind == Kind::kStepOutput &&
      (!outputs.empty() || c.spec.steps[it->second].type == StepType::kRecord) &&
      std::find(outputs.begin(), outputs.end(), r.name) == outputs.end()) {
    c.Add(path, "step " + Quoted(r.step) + " declares no output " + Quoted(r.name) +
                    " (outputs: " + Join(outputs) + ")" + in);
  }
}

void CheckReference(Checker& c, const TemplateScope& scope, const Reference& r,
                    const std::string& path) {
  switch (r.kind) {
    case Kind::kParameter:
      if (c.parameters.count(r.name) == 0) {
        c.Add(path, "unknown parameter " + Quoted(r.name) + " in " + r.ToString());
      }
      return;
    case Kind::kItem:
    case Kind::kItemKey:
      if (!scope.item) c.Add(path, r.ToString() + " " + scope.item_problem);
      return;
    case Kind::kStepOutput:
    case Kind::kStepPhase:
    case Kind::kStepArtifactUri:
    case Kind::kStepJobName:
      return CheckStepReference(c, scope, r, path);
    case Kind::kExecutionName:
    case Kind::kExecutionNamespace:
    case Kind::kExecutionStartTime:
      return;
  }
}

// The parsed template, or nullopt (the problem added).
std::optional<Template> CheckTemplate(Checker& c, const TemplateScope& scope,
                                      const std::string& text, const std::string& path) {
  k8s::Result<Template> t = ParseTemplate(text);
  if (!t.ok()) {
    c.Add(path, t.status().message());
    return std::nullopt;
  }
  for (const Reference& r : t->References()) CheckReference(c, scope, r, path);
  return std::move(t).value();
}

void CheckWhen(Checker& c, size_t step, const std::string& text, const std::string& path) {
  k8s::Result<Expression> e = ParseExpression(text);
  if (!e.ok()) {
    std::string why = e.status().message();
    if (why.rfind("when: ", 0) == 0) why.erase(0, 6);
    return c.Add(path, why);
  }
  TemplateScope scope{step, false, "is not defined in when (only in command, args and env)"};
  for (const Reference& r : e->References()) CheckReference(c, scope, r, path);
}

// The one reference of a template that is nothing else (whitespace aside), or nullptr.
const Reference* SingleReference(const Template& t) {
  const Reference* found = nullptr;
  for (const Template::Part& part : t.parts()) {
    if (part.reference) {
      if (found != nullptr) return nullptr;
      found = &*part.reference;
    } else if (part.literal.find_first_not_of(" \t\r\n") != std::string::npos) {
      return nullptr;
    }
  }
  return found;
}

void CheckForEach(Checker& c, size_t step, const std::string& text, const std::string& path) {
  TemplateScope scope{step, false, "is not defined in forEach (only in command, args and env)"};
  std::optional<Template> t = CheckTemplate(c, scope, text, path);
  if (!t) return;
  if (Json::parse(text, nullptr, /*allow_exceptions=*/false).is_array()) return;
  const Reference* only = SingleReference(*t);
  if (only != nullptr && only->kind == Kind::kStepOutput) return;
  if (only != nullptr && only->kind == Kind::kParameter) {
    auto it = c.parameters.find(only->name);
    if (it == c.parameters.end()) return;  // reported as unknown
    ParameterType type = it->second->type.value_or(ParameterType::kString);
    if (type == ParameterType::kList) return;
    std::string name = ToString(type);
    std::string article =
        std::string("AEIOU").find(name.front()) == std::string::npos ? "a " : "an ";
    return c.Add(path,
                 "parameter " + Quoted(only->name) + " is " + article + name + ", not a List");
  }
  c.Add(path,
        "must be a JSON list, or one {{parameters.NAME}} reference to a List parameter or one "
        "{{steps.STEP.outputs.NAME}} reference");
}

void CheckStepTemplates(Checker& c, size_t i, const std::string& path) {
  const Step& s = c.spec.steps[i];
  const TemplateScope container{i, !s.for_each.empty(), "outside a forEach step"};
  for (size_t j = 0; j < s.command.size(); ++j) {
    CheckTemplate(c, container, s.command[j], Field(path, "command", j));
  }
  for (size_t j = 0; j < s.args.size(); ++j) {
    CheckTemplate(c, container, s.args[j], Field(path, "args", j));
  }
  for (size_t j = 0; j < s.env.size(); ++j) {
    if (s.env[j].value)
      CheckTemplate(c, container, *s.env[j].value, Field(path, "env", j) + ".value");
  }
  if (!s.when.empty()) CheckWhen(c, i, s.when, path + ".when");
  if (!s.for_each.empty()) CheckForEach(c, i, s.for_each, path + ".forEach");
  if (s.notebook) {
    ForEachParameterString(s.notebook->parameters, path + ".notebook.parameters",
                           [&](const std::string& text, const std::string& at) {
                             CheckTemplate(c, container, text, at);
                           });
  }
  if (!s.message.empty()) {
    TemplateScope scope{i, false, "is not defined in message"};
    CheckTemplate(c, scope, s.message, path + ".message");
  }
  for (const auto& [name, value] : s.values) {
    TemplateScope scope{i, false, "is not defined in values"};
    CheckTemplate(c, scope, value, path + ".values." + name);
  }
}

// Templates of stepDefaults: {{item}} is fine unless a step that is no forEach step inherits it.
template <typename Inherits>
TemplateScope DefaultsScope(const Checker& c, Inherits inherits) {
  for (const Step& s : c.spec.steps) {
    StepType type = s.type.value_or(StepType::kContainer);
    bool runs = type == StepType::kContainer || type == StepType::kNotebook;
    if (runs && s.for_each.empty() && inherits(s)) {
      return {std::nullopt, false,
              "outside a forEach step (step " + Quoted(s.name) + " inherits it)"};
    }
  }
  return {std::nullopt, true, ""};
}

void CheckDefaultsTemplates(Checker& c, const Step& d, const std::string& path) {
  // Notebook steps inherit neither command nor args (stepline-notebook is their command).
  TemplateScope command =
      DefaultsScope(c, [](const Step& s) { return s.command.empty() && !IsNotebookStep(s); });
  for (size_t j = 0; j < d.command.size(); ++j) {
    CheckTemplate(c, command, d.command[j], Field(path, "command", j));
  }
  TemplateScope args =
      DefaultsScope(c, [](const Step& s) { return s.args.empty() && !IsNotebookStep(s); });
  for (size_t j = 0; j < d.args.size(); ++j) {
    CheckTemplate(c, args, d.args[j], Field(path, "args", j));
  }
  for (size_t j = 0; j < d.env.size(); ++j) {
    if (!d.env[j].value) continue;
    const std::string& name = d.env[j].name;
    TemplateScope env = DefaultsScope(c, [&](const Step& s) {
      return std::none_of(s.env.begin(), s.env.end(),
                          [&](const EnvVar& e) { return e.name == name; });
    });
    CheckTemplate(c, env, *d.env[j].value, Field(path, "env", j) + ".value");
  }
  if (!d.notebook) return;
  TemplateScope notebook = DefaultsScope(c, [](const Step& s) { return IsNotebookStep(s); });
  ForEachParameterString(d.notebook->parameters, path + ".notebook.parameters",
                         [&](const std::string& text, const std::string& at) {
                           CheckTemplate(c, notebook, text, at);
                         });
}

// ---- container fields ----

void CheckQuantities(Checker& c, const std::optional<ResourceRequirements>& r,
                     const std::string& path) {
  if (!r) return;
  using Named = std::pair<const StringMap*, const char*>;
  for (const auto& [list, name] : {Named{&r->requests, "requests"}, Named{&r->limits, "limits"}}) {
    for (const auto& [resource, text] : *list) {
      const std::string at = path + ".resources." + name + "." + resource;
      k8s::Result<k8s::Quantity> q = k8s::Quantity::Parse(text);
      if (!q.ok()) {
        c.Add(at, q.status().message());
      } else if (q->Sign() < 0) {
        c.Add(at, "must not be negative (got " + text + ")");
      }
    }
  }
}

void CheckRequestsWithinLimits(Checker& c, const Step& effective, const std::string& path) {
  if (!effective.resources) return;
  const ResourceRequirements& r = *effective.resources;
  for (const auto& [resource, request] : r.requests) {
    auto limit = r.limits.find(resource);
    if (limit == r.limits.end()) continue;
    k8s::Result<k8s::Quantity> rq = k8s::Quantity::Parse(request);
    k8s::Result<k8s::Quantity> lq = k8s::Quantity::Parse(limit->second);
    if (rq.ok() && lq.ok() && lq->Sign() >= 0 && *rq > *lq) {
      c.Add(path + ".resources.requests." + resource,
            "request " + request + " exceeds the limit " + limit->second);
    }
  }
}

void CheckRetryPolicy(Checker& c, const std::optional<RetryPolicy>& p, const std::string& path) {
  if (!p) return;
  const std::string base = path + ".retryPolicy.";
  CheckAtLeast(c, base + "maxAttempts", p->max_attempts, 1);
  CheckAtLeast(c, base + "intervalSeconds", p->interval_seconds, 0);
  if (p->backoff_rate && !(*p->backoff_rate >= 1)) {
    c.Add(base + "backoffRate", "must be at least 1 (got " + Number(*p->backoff_rate) + ")");
  }
  CheckAtLeast(c, base + "maxIntervalSeconds", p->max_interval_seconds, 0);
  CheckAtLeast(c, base + "expireAfterMinutes", p->expire_after_minutes, 1);
  const auto& known = kRetryableFailureClasses;
  for (size_t j = 0; j < p->retry_on.size(); ++j) {
    if (std::find(known.begin(), known.end(), p->retry_on[j]) != known.end()) continue;
    std::vector<std::string> names(known.begin(), known.end());
    c.Add(Field(path, "retryPolicy.retryOn", j),
          "unknown failure class " + Quoted(p->retry_on[j]) + " (known: " + Join(names) + ")");
  }
}

// A secretKeyRef / configMapKeyRef: the object's name a DNS subdomain, the key a valid data key.
void CheckKeySelector(Checker& c, const std::optional<KeySelector>& ref, const std::string& path) {
  if (!ref) return;
  if (!IsDnsSubdomainName(ref->name)) {
    c.Add(path + ".name", Quoted(ref->name) + " is not a valid object name (lower-case letters, " +
                              "digits, '-' and '.', at most 253 characters)");
  }
  auto key_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
  };
  const std::string& k = ref->key;
  if (k.empty() || k.size() > 253 || !std::all_of(k.begin(), k.end(), key_char) || k == "." ||
      k == "..") {
    c.Add(path + ".key", Quoted(k) + " is not a valid key (letters, digits, '-', '_' and '.')");
  }
}

void CheckEnvNames(Checker& c, const std::vector<EnvVar>& env, const std::string& path) {
  for (size_t j = 0; j < env.size(); ++j) {
    if (env[j].value_from) {
      const std::string from = Field(path, "env", j) + ".valueFrom";
      CheckKeySelector(c, env[j].value_from->secret_key_ref, from + ".secretKeyRef");
      CheckKeySelector(c, env[j].value_from->config_map_key_ref, from + ".configMapKeyRef");
    }
    if (IsCIdentifier(env[j].name)) continue;
    c.Add(Field(path, "env", j) + ".name",
          Quoted(env[j].name) +
              " is not a valid environment variable name (letters, digits and '_', not "
              "starting with a digit)");
  }
}

void CheckCache(Checker& c, const std::optional<StepCache>& cache, const std::string& path) {
  if (!cache || cache->expire_after.empty()) return;
  k8s::Result<std::chrono::seconds> d = ParseIsoDuration(cache->expire_after);
  if (!d.ok()) c.Add(path + ".cache.expireAfter", d.status().message());
}

void CheckContainerFields(Checker& c, const Step& s, const std::string& path) {
  CheckCache(c, s.cache, path);
  CheckQuantities(c, s.resources, path);
  CheckAtLeast(c, path + ".timeoutSeconds", s.timeout_seconds, 1);
  CheckRetryPolicy(c, s.retry_policy, path);
  CheckEnvNames(c, s.env, path);
}

void CheckDefaults(Checker& c) {
  if (!c.spec.step_defaults) return;
  const std::string path = "spec.stepDefaults";
  CheckContainerFields(c, *c.spec.step_defaults, path);
  CheckDefaultsTemplates(c, *c.spec.step_defaults, path);
  if (const auto& n = c.spec.step_defaults->notebook) {
    for (auto& [at, what] : NotebookParameterProblems(n->parameters, path + ".notebook.parameters"))
      c.Add(at, what);
  }
}

// ---- steps ----

void CheckNameAndDependencies(Checker& c, size_t i, const std::string& path) {
  const Step& s = c.spec.steps[i];
  if (s.name.empty()) {
    c.Add(path + ".name", "required");
  } else if (!IsStepName(s.name)) {
    c.Add(path + ".name",
          "must be letters, digits, '-' and '_', starting and ending with a letter or digit, at "
          "most " +
              std::to_string(kMaxStepNameLength) + " characters");
  }
  size_t first = c.steps.at(s.name);
  if (first != i) {
    c.Add(path + ".name", "duplicate step name (also spec.steps[" + std::to_string(first) + "])");
  } else if (size_t same = c.job_parts.at(StepJobPart(s.name)); same != i) {
    c.Add(path + ".name", "its Jobs would be named like those of step " +
                              Quoted(c.spec.steps[same].name) + " (spec.steps[" +
                              std::to_string(same) + "]): Job names use step names lower-cased " +
                              "with '_' as '-', so step names must differ in more than that");
  }
  for (const std::string& dep : s.depends_on) {
    if (dep == s.name) {
      c.Add(path + ".dependsOn", "a step cannot depend on itself");
    } else if (c.steps.count(dep) == 0) {
      c.Add(path + ".dependsOn", "unknown step " + Quoted(dep));
    }
  }
}

// ---- artifacts ----

// An input's from: an output artifact of an upstream step that is no forEach step, or a value
// of an upstream step (any step: a forEach step's is its fan-in), written as a file.
void CheckArtifactFrom(Checker& c, size_t i, const Artifact& a, const std::string& path) {
  k8s::Result<ArtifactSource> source = ParseArtifactFrom(a.from);
  if (!source.ok()) return c.Add(path + ".from", source.status().message());
  const bool output = source->kind == ArtifactSource::Kind::kOutputValue;
  Reference r{output ? Kind::kStepOutput : Kind::kStepArtifactUri, source->step, source->name};
  const std::string in = " in " + a.from;
  auto it = c.steps.find(r.step);
  if (it == c.steps.end() || it->second == i || c.Upstream(i).count(it->second) == 0 ||
      source->IsValue()) {
    if (source->IsValue() && !a.path.empty() && a.path.back() == '/') {
      c.Add(path + ".path", "a value is written as a file: its path cannot end in '/'");
    }
    return CheckStepReference(c, TemplateScope{i, false, ""}, r, path + ".from");
  }
  if (!c.spec.steps[it->second].for_each.empty()) {
    return c.Add(path + ".from", "step " + Quoted(r.step) +
                                     " is a forEach step: its artifact is a list of URIs, one per "
                                     "item (from: {{steps." +
                                     r.step + ".artifacts." + r.name +
                                     ".uri}} writes that list as a file)" + in);
  }
  CheckArtifactDeclared(c, it->second, r.name, path + ".from", in);
}

void CheckArtifactS3(Checker& c, const TemplateScope& scope, const std::string& s3,
                     const std::string& path) {
  std::optional<Template> t = CheckTemplate(c, scope, s3, path);
  if (!t) return;
  const auto& parts = t->parts();
  std::string literal = parts.empty() || parts[0].reference ? "" : parts[0].literal;
  std::string problem = S3UriProblem(literal, t->HasReferences());
  if (!problem.empty()) c.Add(path, problem);
}

// A raw input: a file (its path names no directory) of at most kMaxRawArtifactBytes.
void CheckRawArtifact(Checker& c, const TemplateScope& scope, const Artifact& a,
                      const std::string& path) {
  if (!a.path.empty() && a.path.back() == '/') {
    c.Add(path + ".path", "a raw artifact is a file: its path cannot end in '/'");
  }
  if (a.raw->size() > kMaxRawArtifactBytes) {
    c.Add(path + ".raw.data", "longer than " + std::to_string(kMaxRawArtifactBytes) + " bytes");
  }
  CheckTemplate(c, scope, *a.raw, path + ".raw.data");
}

// The name and path of one artifact; `names` collects the names of its list. False when the
// path is unusable.
bool CheckArtifactNameAndPath(Checker& c, const Artifact& a, const std::string& path,
                              std::set<std::string>* names) {
  if (std::string problem = ArtifactNameProblem(a.name); !problem.empty()) {
    c.Add(path + ".name", problem);
  } else if (!names->insert(a.name).second) {
    c.Add(path + ".name", "duplicate artifact name " + Quoted(a.name));
  }
  std::string problem = ArtifactPathProblem(a.path);
  if (!problem.empty()) c.Add(path + ".path", problem);
  return problem.empty();
}

void CheckInputArtifacts(Checker& c, size_t i, const std::string& path,
                         std::set<std::string>* mounts) {
  const Step& s = c.spec.steps[i];
  const TemplateScope scope{i, !s.for_each.empty(), "outside a forEach step"};
  std::set<std::string> names;
  for (size_t j = 0; j < s.input_artifacts.size(); ++j) {
    const Artifact& a = s.input_artifacts[j];
    const std::string at = Field(path, "inputs.artifacts", j);
    std::string mount = a.path.back() == '/' ? a.path.substr(0, a.path.size() - 1) : a.path;
    if (CheckArtifactNameAndPath(c, a, at, &names) && !mounts->insert(mount).second) {
      c.Add(at + ".path", Quoted(a.path) + " is the path of another input artifact");
    }
    if (!a.archive.empty() && (a.archive != "tgz" || a.raw || a.path.back() != '/')) {
      c.Add(at + ".archive",
            "an input's archive must be tgz, on an s3 or from input whose path is a directory "
            "(ends in '/'): the .tar.gz object is unpacked into it");
    }
    if (!a.s3.empty() + !a.from.empty() + a.raw.has_value() != 1) {
      c.Add(at,
            "give exactly one of s3 (an s3:// URI), from ({{steps.STEP.artifacts.NAME}}, or a "
            "value such as {{steps.STEP.outputs.NAME}}) and raw ({data: the file's text})");
    } else if (a.raw) {
      CheckRawArtifact(c, scope, a, at);
    } else if (!a.from.empty()) {
      CheckArtifactFrom(c, i, a, at);
    } else {
      CheckArtifactS3(c, scope, a.s3, at + ".s3");
    }
  }
}

// input_mounts: the paths of the step's input artifacts.
void CheckOutputArtifacts(Checker& c, size_t i, const std::string& path,
                          const std::set<std::string>& input_mounts) {
  const Step& s = c.spec.steps[i];
  const TemplateScope scope{i, !s.for_each.empty(), "outside a forEach step"};
  std::set<std::string> names;
  for (size_t j = 0; j < s.output_artifacts.size(); ++j) {
    const Artifact& a = s.output_artifacts[j];
    const std::string at = Field(path, "outputs.artifacts", j);
    if (!a.from.empty()) c.Add(at + ".from", "only input artifacts take from");
    if (a.raw) c.Add(at + ".raw", "only input artifacts take raw");
    if (!a.archive.empty() && a.archive != "tgz" && a.archive != "none") {
      c.Add(at + ".archive",
            "must be tgz (one .tar.gz object) or none (got " + Quoted(a.archive) + ")");
    }
    if (!a.s3.empty()) CheckArtifactS3(c, scope, a.s3, at + ".s3");
    if (!CheckArtifactNameAndPath(c, a, at, &names)) continue;
    std::string mount = OutputMountDirectory(a.path);
    if (mount == "/") {
      c.Add(at + ".path",
            "its directory is mounted, and \"/\" cannot be: use a directory of "
            "its own such as /outputs/" +
                a.path.substr(1));
    } else if (input_mounts.count(mount) != 0) {
      c.Add(at + ".path", "its directory " + Quoted(mount) + " is the path of an input artifact");
    }
  }
}

void CheckStepArtifacts(Checker& c, size_t i, const std::string& path) {
  std::set<std::string> input_mounts;
  CheckInputArtifacts(c, i, path, &input_mounts);
  CheckOutputArtifacts(c, i, path, input_mounts);
}

// The container fields set on a step that only a Container step uses.
std::vector<const char*> ContainerFieldsSet(const Step& s) {
  std::vector<std::pair<bool, const char*>> fields{
      {!s.image.empty(), "image"},
      {!s.command.empty(), "command"},
      {!s.args.empty(), "args"},
      {!s.env.empty(), "env"},
      {!s.working_dir.empty(), "workingDir"},
      {s.resources.has_value(), "resources"},
      {!s.node_selector.empty(), "nodeSelector"},
      {!s.tolerations.is_null() && !s.tolerations.empty(), "tolerations"},
      {s.timeout_seconds.has_value(), "timeoutSeconds"},
      {s.retry_policy.has_value(), "retryPolicy"},
      {s.cache.has_value(), "cache"},
      {!s.for_each.empty(), "forEach"},
      {s.max_parallel.has_value(), "maxParallel"},
      {!s.input_artifacts.empty(), "inputs"},
      {!s.output_artifacts.empty(), "outputs.artifacts"},
  };
  std::vector<const char*> set;
  for (const auto& [present, name] : fields) {
    if (present) set.push_back(name);
  }
  return set;
}

void CheckStepType(Checker& c, const Step& s, const Step& effective, const std::string& path) {
  StepType type = s.type.value_or(StepType::kContainer);
  for (auto& [at, what] : NotebookProblems(s, effective, path)) c.Add(at, what);
  if (type == StepType::kContainer || type == StepType::kNotebook) {
    if (effective.image.empty() && !s.function)  // a function call runs the staging image
      c.Add(path + ".image", "required (on the step or in spec.stepDefaults)");
    if (s.max_parallel && s.for_each.empty()) c.Add(path + ".maxParallel", "needs forEach");
    if (s.cache && s.cache->enabled.value_or(false) && !s.for_each.empty()) {
      c.Add(path + ".cache.enabled", "not supported on a forEach step (its items are not cached)");
    }
  } else {
    std::string ignored = "ignored by " + ArticleAndType(type) + " step";
    for (const char* field : ContainerFieldsSet(s)) c.Add(path + "." + field, ignored);
  }
  if (type == StepType::kRecord && !s.outputs.empty()) {
    c.Add(path + ".outputs", "a Record step's outputs are the names of its values");
  } else if (type != StepType::kRecord && !s.values.empty()) {
    c.Add(path + ".values", "only Record steps take values");
  }
  for (const auto& [name, value] : s.values) {
    if (!IsOutputName(name)) {
      c.Add(path + ".values", Quoted(name) + " is not a name of letters, digits, '_' and '-'");
    }
  }
  if (s.transform && !c.compiled) {
    c.Add(path + ".transform",
          "set only by a SageMaker definition's Transform step (spec.pipelineDefinition)");
  } else if (s.transform && type != StepType::kContainer) {
    c.Add(path + ".transform", "only a Container step runs a batch transform");
  }
  if (s.function && !c.compiled) {
    c.Add(path + ".function",
          "set only by a SageMaker definition's Lambda step (spec.pipelineDefinition)");
  } else if (s.function && type != StepType::kContainer) {
    c.Add(path + ".function", "only a Container step calls a function");
  }
  if (type == StepType::kFail && s.message.empty()) {
    c.Add(path + ".message", "required for a Fail step");
  } else if (type != StepType::kFail && !s.message.empty()) {
    c.Add(path + ".message", "only Fail steps take a message");
  }
}

void CheckStep(Checker& c, size_t i) {
  const Step& s = c.spec.steps[i];
  const std::string path = Indexed("spec.steps", i, s.name);
  const Step effective = EffectiveStep(c.spec.step_defaults.value_or(Step{}), s);
  CheckNameAndDependencies(c, i, path);
  CheckStepType(c, s, effective, path);
  CheckStepTemplates(c, i, path);
  CheckStepArtifacts(c, i, path);
  CheckContainerFields(c, s, path);
  CheckRequestsWithinLimits(c, effective, path);
  CheckAtLeast(c, path + ".maxParallel", s.max_parallel, 1);
}

// Cycles among the steps with unique names, over their known dependencies.
void CheckCycles(Checker& c) {
  std::vector<StepDependencies> nodes;
  for (size_t i = 0; i < c.spec.steps.size(); ++i) {
    if (c.steps.at(c.spec.steps[i].name) != i) continue;
    StepDependencies node{c.spec.steps[i].name, {}};
    for (size_t d : c.deps[i]) node.depends_on.push_back(c.spec.steps[d].name);
    nodes.push_back(std::move(node));
  }
  k8s::Result<Graph> graph = BuildGraph(nodes);
  if (!graph.ok()) c.Add("spec.steps", graph.status().message());
}

}  // namespace

namespace {

// The problems of spec.steps (compiled: from a SageMaker definition).
std::vector<std::string> StepsProblems(const Pipeline& pipeline, bool compiled) {
  std::vector<std::string> problems;
  Checker c(pipeline.spec, &problems);
  c.compiled = compiled;
  CheckSpec(c);
  for (size_t i = 0; i < pipeline.spec.parameters.size(); ++i) CheckParameter(c, i);
  CheckTags(c);
  CheckDefaults(c);
  for (size_t i = 0; i < pipeline.spec.steps.size(); ++i) CheckStep(c, i);
  CheckCycles(c);
  std::set<std::string> seen;  // a repeated reference is one problem
  std::vector<std::string> unique;
  for (auto& p : problems) {
    if (seen.insert(p).second) unique.push_back(std::move(p));
  }
  return unique;
}

// A SageMaker definition is checked as the native steps it compiles to.
std::vector<std::string> DefinitionProblems(const Pipeline& pipeline) {
  const std::string prefix = "spec.pipelineDefinition: ";
  k8s::Result<CompiledDefinition> compiled = CompileSageMakerDefinition(
      pipeline.spec.pipeline_definition, CompileOptionsFor(pipeline.spec));
  if (!compiled.ok()) return {prefix + compiled.status().message()};
  Pipeline native = pipeline;
  native.spec.pipeline_definition = nullptr;
  native.spec.parameters = std::move(compiled->parameters);
  native.spec.steps = std::move(compiled->steps);
  std::map<std::string, std::string> defaults;  // fields from parameters, checked with defaults
  for (const Parameter& p : native.spec.parameters) {
    if (p.default_value) defaults[p.name] = *p.default_value;
  }
  k8s::Status fields =
      ApplyParameterFields(compiled->parameter_fields, defaults, &native.spec.steps);
  std::vector<std::string> problems = StepsProblems(native, true);
  if (!fields.ok()) problems.insert(problems.begin(), "the default of " + fields.message());
  for (auto& p : problems) p = prefix + p;
  if (!pipeline.spec.parameters.empty()) {
    problems.push_back(
        "spec.parameters: ignored with a pipelineDefinition (its Parameters are used)");
  }
  return problems;
}

}  // namespace

std::vector<std::string> PipelineProblems(const Pipeline& pipeline) {
  if (!pipeline.spec.pipeline_definition.is_null() && pipeline.spec.steps.empty()) {
    return DefinitionProblems(pipeline);
  }
  return StepsProblems(pipeline, false);
}

k8s::Status ValidatePipeline(const Pipeline& pipeline, const PodPolicy& policy) {
  std::vector<std::string> problems = PipelineProblems(pipeline);
  for (std::string& p : PodPolicyProblems(pipeline, policy)) problems.push_back(std::move(p));
  if (problems.empty()) return k8s::Status::Ok();
  return k8s::Status::Invalid(JoinBounded(problems));
}

std::string JoinBounded(const std::vector<std::string>& lines) {
  if (lines.empty()) return "";
  std::string message;
  size_t listed = 0;
  for (const std::string& line : lines) {
    if (listed == kMaxListedProblems || message.size() + line.size() > kMaxProblemsBytes) break;
    message += (listed++ == 0 ? "" : "; ") + line;
  }
  if (listed == 0) message = BoundText(lines.front(), kMaxProblemsBytes);
  listed = std::max<size_t>(listed, 1);
  if (lines.size() > listed) {
    message += " (and " + std::to_string(lines.size() - listed) + " more)";
  }
  return message;
}

}  // namespace stepline::reconcilers
