// CompileSageMakerDefinition: the definition, its parameters, its steps (Condition steps
// flattened into `when` and dependencies) and their Stepline names. Step types are in
// sagemaker_steps.cc, values and conditions in sagemaker_values.cc.
#include "reconcilers/sagemaker_definition.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "reconcilers/sagemaker_internal.h"

namespace stepline::reconcilers {
namespace {

using k8s::Result;
using k8s::Status;
using sagemaker::Describe;
using sagemaker::Error;
using sagemaker::Field;
using sagemaker::Item;
using sagemaker::Member;
using sagemaker::Names;
using sagemaker::Quote;

constexpr std::array<EnumName<ParameterType>, 4> kSageMakerParameterTypes{{
    {ParameterType::kString, "String"},
    {ParameterType::kInteger, "Integer"},
    {ParameterType::kFloat, "Float"},
    {ParameterType::kBoolean, "Boolean"},
}};

void AddUnique(std::vector<std::string>* list, const std::string& value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

// ---- the definition and its parameters ----

Result<Json> ParseDefinition(const Json& definition) {
  if (definition.is_object()) return definition;
  if (!definition.is_string()) return Error("", "must be a JSON object or a string holding one");
  Json parsed;
  try {
    parsed = Json::parse(definition.get<std::string>());
  } catch (const Json::exception& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    size_t end = what.find("] ");
    return Error("",
                 "is not valid JSON: " + (end == std::string::npos ? what : what.substr(end + 2)));
  }
  if (!parsed.is_object()) {
    return Error("", std::string("must be a JSON object (got ") + parsed.type_name() + ")");
  }
  return parsed;
}

Status CheckVersion(const Json& definition) {
  const Json* version = Member(definition, "Version");
  if (version == nullptr) return Error("Version", "required (\"2020-12-01\")");
  if (version->is_string() && *version == kSageMakerDefinitionVersion) return Status::Ok();
  return Error("Version",
               Describe(*version) + " is not supported: Stepline reads format version 2020-12-01");
}

Status CompileParameterType(const Json* type, const std::string& path, Parameter* p) {
  p->type = ParameterType::kString;
  if (type == nullptr) return Status::Ok();
  for (const auto& t : kSageMakerParameterTypes) {
    if (type->is_string() && *type == t.name) {
      p->type = t.value;
      return Status::Ok();
    }
  }
  return Error(
      Field(path, "Type"),
      Describe(*type) + " is not a SageMaker parameter type (String, Integer, Float, Boolean)");
}

Result<Parameter> CompileParameter(const Json& json, std::string path) {
  const Json* name = Member(json, "Name");
  if (name == nullptr || !name->is_string() ||
      !sagemaker::IsReferenceName(name->get<std::string>())) {
    return Error(Field(path, "Name"), "must be a name of letters, digits, '_' and '-'");
  }
  Parameter p;
  p.name = name->get<std::string>();
  path += " (" + p.name + ")";
  Status status = CompileParameterType(Member(json, "Type"), path, &p);
  if (!status.ok()) return status;
  if (const Json* value = Member(json, "DefaultValue")) {
    if (!value->is_string() && !value->is_number() && !value->is_boolean()) {
      return Error(Field(path, "DefaultValue"), "must be a string, a number or a boolean");
    }
    p.default_value = value->is_string() ? value->get<std::string>() : value->dump();
  }
  const Json* description = Member(json, "Description");
  if (description != nullptr && description->is_string())
    p.description = description->get<std::string>();
  return p;
}

Status CompileParameters(const Json& definition, Names* names, std::vector<Parameter>* out) {
  const Json* list = Member(definition, "Parameters");
  if (list == nullptr) return Status::Ok();
  if (!list->is_array()) return Error("Parameters", "must be a list");
  for (size_t i = 0; i < list->size(); ++i) {
    auto p = CompileParameter((*list)[i], Item("Parameters", i));
    if (!p.ok()) return p.status();
    if (!names->parameters.insert(p->name).second) {
      return Error(Item("Parameters", i) + " (" + p->name + ").Name", "duplicate parameter name");
    }
    if (p->type) names->parameter_types[p->name] = *p->type;
    out->push_back(std::move(p).value());
  }
  return Status::Ok();
}

// ---- the steps, Condition branches included ----

struct Entry {
  const Json* json;
  std::string path;  // "Steps[1] (Train)", "Steps[2] (Check).Arguments.IfSteps[0] (Register)"
  std::string name;
  std::string type;
};

// Appends the step objects of list, and those of Condition branches in them, in order. Names in
// a branch (depth > 0) refer to steps defined elsewhere and are skipped.
Status CollectSteps(const Json& list, const std::string& path, int depth, std::vector<Entry>* out) {
  if (depth > sagemaker::kMaxNesting) return Error(path, "nested too deeply");
  if (!list.is_array()) return Error(path, "must be a list of steps");
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& step = list[i];
    if (depth > 0 && step.is_string()) continue;
    const Json* name = Member(step, "Name");
    const Json* type = Member(step, "Type");
    if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) {
      return Error(Field(Item(path, i), "Name"), "required");
    }
    std::string at = Item(path, i) + " (" + name->get<std::string>() + ")";
    if (type == nullptr || !type->is_string()) return Error(Field(at, "Type"), "required");
    out->push_back({&step, at, name->get<std::string>(), type->get<std::string>()});
    if (*type != "Condition") continue;
    for (const char* branch : {"IfSteps", "ElseSteps"}) {
      const Json* steps = Member(Member(step, "Arguments"), branch);
      if (steps == nullptr) continue;
      Status status = CollectSteps(*steps, Field(Field(at, "Arguments"), branch), depth + 1, out);
      if (!status.ok()) return status;
    }
  }
  return Status::Ok();
}

Status CollectAllSteps(const Json& definition, std::vector<Entry>* out) {
  const Json* steps = Member(definition, "Steps");
  if (steps == nullptr || !steps->is_array() || steps->empty()) {
    return Error("Steps", "must be a non-empty list of steps");
  }
  Status status = CollectSteps(*steps, "Steps", 0, out);
  if (!status.ok()) return status;
  std::map<std::string, const Entry*> seen;
  for (const Entry& e : *out) {
    auto [it, fresh] = seen.emplace(e.name, &e);
    if (!fresh)
      return Error(Field(e.path, "Name"), "duplicate step name (also " + it->second->path + ")");
  }
  return Status::Ok();
}

// ---- Stepline names ----

// "AbaloneProcess" -> "abalone-process", "XMLReader_v2" -> "xml-reader-v2".
std::string KebabName(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    auto prev = static_cast<unsigned char>(i > 0 ? name[i - 1] : ' ');
    bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
    bool word_start = std::isupper(c) && (std::islower(prev) || std::isdigit(prev) ||
                                          (std::isupper(prev) && next_lower));
    if (word_start) out += '-';
    char mapped = std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '-';
    if (mapped != '-' || (!out.empty() && out.back() != '-')) out += mapped;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "step" : out;
}

// FNV-1a, 64 bits, in base 36: stable across builds and platforms, which std::hash is not.
std::string NameHash(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  std::string out(10, '0');
  for (size_t i = out.size(); i > 0; --i, hash /= 36) {
    out[i - 1] = "0123456789abcdefghijklmnopqrstuvwxyz"[hash % 36];
  }
  return out;
}

// Names every non-Condition step; a warning for each step whose name changed.
Status NameSteps(const std::vector<Entry>& entries, Names* names,
                 std::vector<std::string>* warnings) {
  std::map<std::string, int> uses;
  for (const Entry& e : entries) {
    if (e.type != "Condition") ++uses[KebabName(e.name)];
  }
  std::map<std::string, std::string> owners;  // Stepline name -> SageMaker name
  for (const Entry& e : entries) {
    if (e.type == "Condition") {
      names->conditions.insert(e.name);
      continue;
    }
    std::string name = KebabName(e.name);
    if (name.size() > kMaxStepNameLength || uses[name] > 1) {
      name = name.substr(0, kMaxStepNameLength - 11);
      while (name.back() == '-') name.pop_back();
      name += "-" + NameHash(e.name);
    }
    auto [it, fresh] = owners.emplace(name, e.name);
    if (!fresh) {
      return Error(
          e.path, "its Stepline name " + Quote(name) + " is also step " + Quote(it->second) + "'s");
    }
    names->steps[e.name] = name;
    names->types[e.name] = e.type;
    names->jsons[e.name] = e.json;
    names->paths[e.name] = e.path;
    if (e.type == "Transform") {
      const Json* model = sagemaker::Member(sagemaker::Member(*e.json, "Arguments"), "ModelName");
      if (model != nullptr) names->served_models.insert(sagemaker::ModelNameStep(*model));
    }
    const Json* files = Member(*e.json, "PropertyFiles");
    for (size_t i = 0; files != nullptr && files->is_array() && i < files->size(); ++i) {
      const Json* file = Member((*files)[i], "PropertyFileName");
      if (file != nullptr && file->is_string()) {
        names->property_files[e.name].insert(file->get<std::string>());
      }
    }
    if (name != e.name) warnings->push_back(e.path + ": runs as step " + Quote(name));
  }
  return Status::Ok();
}

// ---- compiling each step ----

struct Draft {
  bool is_condition = false;
  Step step;                      // non-Condition steps
  std::string condition;          // Condition steps: the `when` of their IfSteps
  std::vector<std::string> deps;  // SageMaker names: DependsOn, then the steps Gets read
  std::vector<std::pair<std::string, bool>> gates;  // (Condition, true for IfSteps)
  std::string path;
};

bool IsStep(const Names& names, const std::string& name) {
  return names.steps.count(name) != 0 || names.conditions.count(name) != 0;
}

Status CompileDependencies(const Entry& e, const Names& names, std::vector<std::string>* deps) {
  const std::string path = Field(e.path, "DependsOn");
  const Json* depends = Member(*e.json, "DependsOn");
  if (depends != nullptr && !depends->is_array()) {
    return Error(path, "must be a list of step names");
  }
  for (size_t i = 0; depends != nullptr && i < depends->size(); ++i) {
    const std::string dep = (*depends)[i].is_string() ? (*depends)[i].get<std::string>() : "";
    if (!IsStep(names, dep)) {
      return Error(Item(path, i),
                   dep.empty() ? "must be a step name" : "unknown step " + Quote(dep));
    }
    if (dep == e.name) return Error(Item(path, i), "a step cannot depend on itself");
    AddUnique(deps, dep);
  }
  const Json* args = Member(*e.json, "Arguments");
  const Json* read = e.type == "Condition" ? Member(args, "Conditions") : args;
  std::vector<std::string> refs;
  const std::string at = Field(e.path, "Arguments");
  Status status =
      read == nullptr ? Status::Ok() : sagemaker::CollectStepReferences(*read, at, &refs);
  if (!status.ok()) return status;
  for (const std::string& ref : refs) {
    if (!IsStep(names, ref)) return Error(at, "a Get names unknown step " + Quote(ref));
    if (ref == e.name) return Error(at, "a Get reads the step's own properties");
    AddUnique(deps, ref);
  }
  return Status::Ok();
}

struct StepKind {
  const char* type;
  Status (*compile)(const sagemaker::StepInput&, Step*);
  bool retries;  // RetryPolicies apply
};
constexpr StepKind kStepKinds[] = {
    {"Processing", sagemaker::CompileProcessing, true},
    {"Training", sagemaker::CompileTraining, true},
    {"Fail", sagemaker::CompileFail, false},
    {"Callback", sagemaker::CompileCallback, false},
    {"Model", sagemaker::CompileModel, false},
    {"RegisterModel", sagemaker::CompileRegisterModel, false},
    {"Lineage", sagemaker::CompileLineage, false},
    {"Transform", sagemaker::CompileTransform, true},
    {"Lambda", sagemaker::CompileLambda, false},
};

void WarnIgnoredFields(const Entry& e, bool retries, std::vector<std::string>* warnings) {
  if (!retries && Member(*e.json, "CacheConfig") != nullptr) {
    warnings->push_back(Field(e.path, "CacheConfig") + ": ignored (a " + e.type +
                        " step is not cached)");
  }
  if (e.type != "Processing" && Member(*e.json, "PropertyFiles") != nullptr) {
    warnings->push_back(Field(e.path, "PropertyFiles") +
                        ": ignored (Stepline has no property files)");
  }
  if (!retries && Member(*e.json, "RetryPolicies") != nullptr) {
    warnings->push_back(Field(e.path, "RetryPolicies") + ": ignored (a " + e.type +
                        " step is not retried)");
  }
}

// What to use instead of a step type that only exists in AWS.
struct Replacement {
  std::string_view type;
  std::string_view advice;
};
constexpr Replacement kReplacements[] = {
    {"Tuning",
     "run one Training step per candidate (a native step with forEach) and compare them "
     "in a Condition"},
    {"EMR", "submit the job to your Spark cluster from a Processing step (spark-submit)"},
    {"ClarifyCheck", "run the check's container in a Processing step and gate on its output"},
    {"QualityCheck", "run the check's container in a Processing step and gate on its output"},
    {"AutoML", "run your AutoML library in a Training step"},
    {"Notebook", "run the notebook with papermill in a Processing step"},
};

std::string UnsupportedType(const std::string& type) {
  std::string text = "step type " + Quote(type) +
                     " is not supported by Stepline (supported: Processing, Training, Condition, "
                     "Fail, Callback, Model, RegisterModel, Lineage, Transform, Lambda)";
  for (const Replacement& r : kReplacements) {
    if (r.type == type) return text + ": " + std::string(r.advice);
  }
  return text;
}

const StepKind* FindKind(const std::string& type) {
  for (const StepKind& kind : kStepKinds) {
    if (type == kind.type) return &kind;
  }
  return nullptr;
}

Status CompileCondition(const Entry& e, const Names& names, Draft* d) {
  const Json* conditions = Member(Member(*e.json, "Arguments"), "Conditions");
  const std::string path = Field(e.path, "Arguments.Conditions");
  if (conditions == nullptr) return Error(path, "required");
  auto text = sagemaker::RenderConditions(*conditions, names, path);
  if (!text.ok()) return text.status();
  d->condition = *text;
  return Status::Ok();
}

Status CompileStep(const Entry& e, const Names& names, const SageMakerCompileOptions& options,
                   CompiledDefinition* out, Draft* d) {
  std::vector<std::string>* warnings = &out->warnings;
  d->path = e.path;
  d->is_condition = e.type == "Condition";
  const StepKind* kind = FindKind(e.type);
  if (!d->is_condition && kind == nullptr) {
    return Error(Field(e.path, "Type"), UnsupportedType(e.type));
  }
  Status status = CompileDependencies(e, names, &d->deps);
  if (!status.ok()) return status;
  if (d->is_condition) return CompileCondition(e, names, d);
  d->step.name = names.steps.at(e.name);
  status = kind->compile({*e.json, e.path, e.name, names, warnings, &out->parameter_fields,
                          options.fail_steps_without_image},
                         &d->step);
  if (!status.ok()) return status;
  WarnIgnoredFields(e, kind->retries, warnings);
  if (!kind->retries || d->step.type == StepType::kFail) return Status::Ok();  // FailsWhenRun
  auto retry = sagemaker::CompileRetryPolicies(Member(*e.json, "RetryPolicies"),
                                               Field(e.path, "RetryPolicies"), warnings);
  if (!retry.ok()) return retry.status();
  d->step.retry_policy = std::move(retry).value();
  auto cache =
      sagemaker::CompileCacheConfig(Member(*e.json, "CacheConfig"), Field(e.path, "CacheConfig"));
  if (!cache.ok()) return cache.status();
  d->step.cache = std::move(cache).value();
  return Status::Ok();
}

// Records each Condition's branches as gates of the steps in them.
Status AddGates(const Entry& e, std::map<std::string, Draft>* drafts) {
  for (auto [branch, taken] : {std::pair{"IfSteps", true}, std::pair{"ElseSteps", false}}) {
    const Json* list = Member(Member(*e.json, "Arguments"), branch);
    for (size_t i = 0; list != nullptr && i < list->size(); ++i) {
      const Json& item = (*list)[i];
      const Json& name = item.is_string() ? item : *Member(item, "Name");
      auto it = drafts->find(name.get<std::string>());
      if (it == drafts->end()) {
        return Error(Item(Field(e.path, std::string("Arguments.") + branch), i),
                     "unknown step " + Quote(name.get<std::string>()));
      }
      it->second.gates.emplace_back(e.name, taken);
    }
  }
  return Status::Ok();
}

// What the Condition steps, which have no Stepline step, mean for the steps that remain: the
// dependencies and the `when` they pass on. Memoized; a cycle through Condition steps is an
// error.
class ConditionResolver {
 public:
  explicit ConditionResolver(const std::map<std::string, Draft>& drafts) : drafts_(drafts) {}

  // The non-Condition steps name waits for.
  Result<std::vector<std::string>> Dependencies(const std::string& name) {
    if (auto it = deps_.find(name); it != deps_.end()) return it->second;
    const Draft& d = drafts_.at(name);
    if (!active_.insert(name).second) return Error(d.path, "Condition steps form a cycle");
    std::vector<std::string> out;
    std::vector<std::string> expand;
    for (const std::string& dep : d.deps) {
      if (drafts_.at(dep).is_condition) {
        expand.push_back(dep);
      } else {
        AddUnique(&out, dep);
      }
    }
    for (const auto& gate : d.gates) expand.push_back(gate.first);
    for (const std::string& condition : expand) {
      auto more = Dependencies(condition);
      if (!more.ok()) return more;
      for (const std::string& dep : *more) AddUnique(&out, dep);
    }
    active_.erase(name);
    return deps_[name] = out;
  }

  // The parts of name's `when`, to be joined by " && ".
  Result<std::vector<std::string>> When(const std::string& name) {
    if (auto it = when_.find(name); it != when_.end()) return it->second;
    const Draft& d = drafts_.at(name);
    if (!active_.insert(name).second) return Error(d.path, "Condition steps form a cycle");
    std::vector<std::string> out;
    for (const auto& [condition, taken] : d.gates) {
      auto outer = When(condition);
      if (!outer.ok()) return outer;
      for (const std::string& part : *outer) AddUnique(&out, part);
      const std::string& text = drafts_.at(condition).condition;
      AddUnique(&out, taken ? text : "!(" + text + ")");
    }
    active_.erase(name);
    return when_[name] = out;
  }

 private:
  const std::map<std::string, Draft>& drafts_;
  std::set<std::string> active_;
  std::map<std::string, std::vector<std::string>> deps_;
  std::map<std::string, std::vector<std::string>> when_;
};

Status Assemble(const std::vector<Entry>& entries, const Names& names,
                std::map<std::string, Draft>* drafts, std::vector<Step>* out) {
  for (const Entry& e : entries) {
    if (e.type != "Condition") continue;
    Status status = AddGates(e, drafts);
    if (!status.ok()) return status;
  }
  ConditionResolver resolver(*drafts);
  for (const Entry& e : entries) {
    if (e.type == "Condition") continue;
    auto deps = resolver.Dependencies(e.name);
    if (!deps.ok()) return deps.status();
    auto when = resolver.When(e.name);
    if (!when.ok()) return when.status();
    Step step = std::move((*drafts)[e.name].step);
    for (const std::string& dep : *deps) step.depends_on.push_back(names.steps.at(dep));
    for (const std::string& part : *when) step.when += (step.when.empty() ? "" : " && ") + part;
    out->push_back(std::move(step));
  }
  return Status::Ok();
}

}  // namespace

SageMakerCompileOptions CompileOptionsFor(const PipelineSpec& spec) {
  return {.fail_steps_without_image = !spec.step_defaults || spec.step_defaults->image.empty()};
}

SageMakerCompileOptions CompileOptionsFor(const Json& spec) {
  const Json* image = sagemaker::Member(sagemaker::Member(spec, "stepDefaults"), "image");
  const bool given = image != nullptr && image->is_string() && !image->get<std::string>().empty();
  return {.fail_steps_without_image = !given};
}

k8s::Result<CompiledDefinition> CompileSageMakerDefinition(const Json& definition,
                                                           const SageMakerCompileOptions& options) {
  auto json = ParseDefinition(definition);
  if (!json.ok()) return json.status();
  Status status = CheckVersion(*json);
  CompiledDefinition out;
  Names names;
  if (status.ok()) status = CompileParameters(*json, &names, &out.parameters);
  std::vector<Entry> entries;
  if (status.ok()) status = CollectAllSteps(*json, &entries);
  if (status.ok()) status = NameSteps(entries, &names, &out.warnings);
  std::map<std::string, Draft> drafts;
  for (size_t i = 0; status.ok() && i < entries.size(); ++i) {
    status = CompileStep(entries[i], names, options, &out, &drafts[entries[i].name]);
  }
  if (status.ok()) status = Assemble(entries, names, &drafts, &out.steps);
  if (!status.ok()) return status;
  if (out.steps.empty()) {
    out.warnings.push_back(
        "Steps: only Condition steps, whose branches hold no step: an execution has nothing to "
        "run and succeeds at once (as in SageMaker)");
  }
  return out;
}

}  // namespace stepline::reconcilers
