// SageMaker values (literals, Get, Std:Join) as Stepline templates, ConditionStep conditions as
// `when` expressions, and the steps a value refers to. See sagemaker_definition.h.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

#include "reconcilers/sagemaker_internal.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers::sagemaker {

using k8s::Result;
using k8s::Status;

k8s::Status Error(const std::string& path, const std::string& what) {
  return Status::Invalid(path.empty() ? what : path + ": " + what);
}

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

std::string Describe(const Json& value) {
  if (value.is_string()) return Quote(value.get<std::string>());
  if (value.is_object()) return "an object";
  if (value.is_array()) return "a list";
  return value.dump();
}

const Json* Member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

const Json* Member(const Json* object, const char* key) {
  return object == nullptr ? nullptr : Member(*object, key);
}

std::string Field(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string Item(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool IsReferenceName(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

namespace {

constexpr const char* kStepProperties =
    "ProcessingOutputConfig.Outputs['NAME'].S3Output.S3Uri, ProcessingJobName, "
    "FinalMetricDataList['NAME'].Value, ModelArtifacts.S3ModelArtifacts, TrainingJobName and "
    "OutputParameters['NAME'], each with or without \"Properties.\" before it";

// The property that names the step's job, by step type: it reads the step's Kubernetes Job.
constexpr std::pair<std::string_view, std::string_view> kJobNameProperties[] = {
    {"Processing", "ProcessingJobName"},
    {"Training", "TrainingJobName"},
};
constexpr const char* kConditionTypes =
    "Equals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, Not, Or";

// A step type Stepline runs as a Record step (sagemaker_records.cc).
bool RecordsOnly(std::string_view type) {
  return type == "Model" || type == "RegisterModel" || type == "Lineage";
}

// The properties of a step that runs no Job (sagemaker_records.cc), for messages.
std::string NoJobProperties(const std::string& type) {
  std::string recorded = RecordedProperties(type);
  return (recorded.empty() ? "none" : recorded) +
         ", with or without \"Properties.\" before it: a " + type +
         " step creates nothing in SageMaker, so it has no ARN or other SageMaker property";
}

std::string GetText(const std::string& get) { return "{\"Get\": \"" + get + "\"}"; }

// NAME when text is prefix + "['NAME']" + suffix (or with double quotes).
std::optional<std::string> KeyBetween(std::string_view text, std::string_view prefix,
                                      std::string_view suffix) {
  if (!text.starts_with(prefix) || !text.ends_with(suffix)) return std::nullopt;
  if (text.size() < prefix.size() + suffix.size() + 4) return std::nullopt;
  std::string_view key = text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
  char quote = key[1];
  if (key.front() != '[' || key.back() != ']' || (quote != '\'' && quote != '"') ||
      key[key.size() - 2] != quote) {
    return std::nullopt;
  }
  return std::string(key.substr(2, key.size() - 4));
}

// What a step property reads, as the rest of a {{steps.S.<it>}} reference: an output artifact's
// URI (a ProcessingOutputConfig output is one, and a Training step's model:
// sagemaker_channels.cc) or an output; nullopt
// when Stepline cannot provide it. `name` is set to the artifact or output name. The SageMaker
// SDK writes both "Steps.S.Properties.ModelArtifacts..." and "Steps.S.ModelArtifacts...".
std::optional<std::string> ReferenceOfProperty(std::string_view property, std::string_view type,
                                               std::string* name) {
  if (property.starts_with("Properties.")) property.remove_prefix(11);
  if (RecordsOnly(type)) {
    auto reference = RecordedProperty(type, property);
    if (reference) *name = reference->substr(8);  // after "outputs."
    return reference;
  }
  for (auto [step_type, job_property] : kJobNameProperties) {
    if (property == job_property && type == step_type) {
      *name = "jobName";
      return "jobName";
    }
  }
  if (property == "TransformOutput.S3OutputPath" && type == "Transform") {  // its INPUT.out files
    *name = "output";
    return "artifacts.output.uri";
  }
  if (property == "ModelArtifacts.S3ModelArtifacts") {  // OutputDataConfig's model artifact
    *name = "model";
    return "artifacts.model.uri";
  }
  if (auto key = KeyBetween(property, "ProcessingOutputConfig.Outputs", ".S3Output.S3Uri")) {
    *name = *key;
    return "artifacts." + *key + ".uri";
  }
  for (auto [prefix, suffix] :
       {std::pair<std::string_view, std::string_view>{"FinalMetricDataList", ".Value"},
        {"OutputParameters", ""}}) {
    if (auto key = KeyBetween(property, prefix, suffix)) {
      *name = *key;
      return "outputs." + *key;
    }
  }
  return std::nullopt;
}

Result<std::string> RenderStepGet(const std::string& get, const Names& names,
                                  const std::string& path) {
  std::string_view rest = std::string_view(get).substr(6);  // after "Steps."
  size_t end = rest.find_first_of(".[");
  std::string step(rest.substr(0, end));
  std::string_view property;
  if (end != std::string_view::npos && rest[end] == '.') property = rest.substr(end + 1);
  if (names.conditions.count(step) != 0) {
    return Error(path, GetText(get) + ": step " + Quote(step) +
                           " is a Condition step, which has no properties in Stepline");
  }
  auto it = names.steps.find(step);
  if (it == names.steps.end()) return Error(path, GetText(get) + ": unknown step " + Quote(step));
  std::string output;
  std::optional<std::string> reference =
      ReferenceOfProperty(property, names.types.at(step), &output);
  const std::string& type = names.types.at(step);
  if (!reference) {
    return Error(path, GetText(get) + ": Stepline cannot provide this property of a " + type +
                           " step (it provides " +
                           (RecordsOnly(type) ? NoJobProperties(type) : kStepProperties) + ")");
  }
  if (!IsReferenceName(output)) {
    return Error(path, GetText(get) + ": output name " + Quote(output) +
                           " must be made of letters, digits, '_' and '-'");
  }
  return "{{steps." + it->second + "." + *reference + "}}";
}

Result<std::string> RenderGet(const Json& get, const Names& names, const std::string& path) {
  if (!get.is_string()) return Error(Field(path, "Get"), "must be a string");
  const std::string& text = get.get_ref<const std::string&>();
  std::string_view view(text);
  if (view.starts_with("Parameters.")) {
    std::string name = text.substr(11);
    if (names.parameters.count(name) == 0) {
      return Error(path, GetText(text) + ": unknown parameter " + Quote(name));
    }
    return "{{parameters." + name + "}}";
  }
  if (text == "Execution.PipelineExecutionId" || text == "Execution.PipelineExecutionArn") {
    return std::string("{{execution.name}}");
  }
  if (text == "Execution.StartDateTime") return std::string("{{execution.startTime}}");
  if (view.starts_with("Execution.")) {
    return Error(path, GetText(text) + ": execution variable " + Quote(text.substr(10)) +
                           " is not supported by Stepline (it provides PipelineExecutionId, "
                           "PipelineExecutionArn and StartDateTime)");
  }
  if (view.starts_with("Steps.")) return RenderStepGet(text, names, path);
  return Error(path, GetText(text) +
                         ": unknown reference (Stepline reads Parameters.NAME, "
                         "Execution.PipelineExecutionId, Execution.PipelineExecutionArn, "
                         "Execution.StartDateTime and Steps.STEP...)");
}

Result<std::string> Literal(const std::string& text, const std::string& path) {
  if (text.find("{{") != std::string::npos) {
    return Error(path, Quote(text) + " contains \"{{\", which Stepline would read as a reference");
  }
  return text;
}

Result<std::string> Render(const Json& value, const Names& names, const std::string& path,
                           int depth);

Result<std::string> RenderJoin(const Json& join, const Names& names, const std::string& path,
                               int depth) {
  const std::string at = Field(path, "Std:Join");
  const Json* on = Member(join, "On");
  const Json* values = Member(join, "Values");
  if (on != nullptr && !on->is_string()) return Error(Field(at, "On"), "must be a string");
  if (values == nullptr || !values->is_array()) return Error(Field(at, "Values"), "must be a list");
  auto separator = Literal(on != nullptr ? on->get<std::string>() : "", Field(at, "On"));
  if (!separator.ok()) return separator;
  std::string out;
  for (size_t i = 0; i < values->size(); ++i) {
    auto part = Render((*values)[i], names, Item(Field(at, "Values"), i), depth + 1);
    if (!part.ok()) return part;
    out += (i > 0 ? *separator : "") + *part;
  }
  return out;
}

// "a.b[0].c" -> ".a.b.0.c", each key made of letters, digits, '_' and '-'.
std::optional<std::string> JsonPathKeys(const std::string& path) {
  std::string keys;
  std::string key;
  auto flush = [&]() {
    if (!IsReferenceName(key)) return false;
    keys += "." + key;
    key.clear();
    return true;
  };
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '.' || c == '[') {
      if (!(key.empty() && i > 0 && path[i - 1] == ']') && !flush()) return std::nullopt;
    } else if (c != ']') {
      key += c;
    }
  }
  if (!key.empty() && !flush()) return std::nullopt;
  if (keys.empty()) return std::nullopt;
  return keys;
}

// {"PropertyFile": {"Get": "Steps.S.PropertyFiles.F"}, "Path": "a.b"} ->
// {{steps.s.outputs.F.a.b}}: the step publishes the file as its output F (sagemaker_steps.cc).
Result<std::string> RenderJsonGet(const Json& json_get, const Names& names,
                                  const std::string& path) {
  const Json* get = Member(Member(json_get, "PropertyFile"), "Get");
  std::string text = get != nullptr && get->is_string() ? get->get<std::string>() : "";
  size_t files = text.find(".PropertyFiles.");
  if (!text.starts_with("Steps.") || files == std::string::npos) {
    return Error(Field(path, "PropertyFile"),
                 "must be {\"Get\": \"Steps.STEP.PropertyFiles.NAME\"}");
  }
  std::string step = text.substr(6, files - 6);
  std::string file = text.substr(files + 15);
  auto it = names.steps.find(step);
  auto declared = names.property_files.find(step);
  if (it == names.steps.end() || declared == names.property_files.end() ||
      declared->second.count(file) == 0) {
    return Error(Field(path, "PropertyFile"), GetText(text) + ": no step " + Quote(step) +
                                                  " with a property file " + Quote(file));
  }
  const Json* json_path = Member(json_get, "Path");
  std::optional<std::string> keys;
  if (json_path != nullptr && json_path->is_string())
    keys = JsonPathKeys(json_path->get<std::string>());
  if (!keys) {
    return Error(Field(path, "Path"),
                 "must be a path of names and [index] (letters, digits, '_' and '-'), at most " +
                     std::to_string(kMaxJsonPathKeys) + " keys");
  }
  if (static_cast<size_t>(std::count(keys->begin(), keys->end(), '.')) > kMaxJsonPathKeys) {
    return Error(Field(path, "Path"),
                 "has more than " + std::to_string(kMaxJsonPathKeys) + " keys");
  }
  return "{{steps." + it->second + ".outputs." + file + *keys + "}}";
}

Result<std::string> Render(const Json& value, const Names& names, const std::string& path,
                           int depth) {
  if (depth > kMaxNesting) return Error(path, "nested too deeply");
  if (value.is_string()) return Literal(value.get<std::string>(), path);
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  if (value.is_number()) return value.dump();
  if (value.is_object() && value.size() == 1) {
    if (const Json* get = Member(value, "Get")) return RenderGet(*get, names, path);
    if (const Json* join = Member(value, "Std:Join")) return RenderJoin(*join, names, path, depth);
    if (const Json* json_get = Member(value, "Std:JsonGet")) {
      return RenderJsonGet(*json_get, names, Field(path, "Std:JsonGet"));
    }
  }
  return Error(path,
               "must be a string, a number, a boolean, {\"Get\": ...} or {\"Std:Join\": ...}");
}

// ---- conditions ----

std::string QuoteLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// One side of a comparison: a literal, or exactly one reference.
Result<std::string> RenderOperand(const Json& value, const Names& names, const std::string& path) {
  auto text = RenderValue(value, names, path);
  if (!text.ok() || value.is_number() || value.is_boolean()) return text;
  size_t opens = 0;
  for (size_t at = text->find("{{"); at != std::string::npos; at = text->find("{{", at + 2)) {
    ++opens;
  }
  if (opens == 0) return QuoteLiteral(*text);
  if (opens == 1 && text->starts_with("{{") && text->ends_with("}}")) return text;
  return Error(
      path, "a condition compares single values, not text joined with a reference (" + *text + ")");
}

Result<std::string> RenderCondition(const Json& condition, const Names& names,
                                    const std::string& path, int depth);

Result<std::string> RenderComparison(const Json& condition, std::string_view op, const Names& names,
                                     const std::string& path) {
  std::string sides[2];
  const char* keys[2] = {"LeftValue", "RightValue"};
  for (int i = 0; i < 2; ++i) {
    const Json* value = Member(condition, keys[i]);
    if (value == nullptr) return Error(Field(path, keys[i]), "required");
    auto operand = RenderOperand(*value, names, Field(path, keys[i]));
    if (!operand.ok()) return operand;
    sides[i] = *operand;
  }
  return sides[0] + " " + std::string(op) + " " + sides[1];
}

Result<std::string> RenderIn(const Json& condition, const Names& names, const std::string& path) {
  const Json* query = Member(condition, "QueryValue");
  const Json* values = Member(condition, "Values");
  if (query == nullptr) return Error(Field(path, "QueryValue"), "required");
  if (values == nullptr || !values->is_array())
    return Error(Field(path, "Values"), "must be a list");
  auto out = RenderOperand(*query, names, Field(path, "QueryValue"));
  if (!out.ok()) return out;
  std::string list;
  for (size_t i = 0; i < values->size(); ++i) {
    auto value = RenderOperand((*values)[i], names, Item(Field(path, "Values"), i));
    if (!value.ok()) return value;
    list += (i > 0 ? ", " : "") + *value;
  }
  return *out + " in [" + list + "]";
}

// The conditions of list joined by separator.
Result<std::string> RenderConditionList(const Json* list, const std::string& separator,
                                        const Names& names, const std::string& path, int depth) {
  if (list == nullptr || !list->is_array() || list->empty()) {
    return Error(path, "must be a non-empty list of conditions");
  }
  std::string out;
  for (size_t i = 0; i < list->size(); ++i) {
    auto part = RenderCondition((*list)[i], names, Item(path, i), depth + 1);
    if (!part.ok()) return part;
    out += (i > 0 ? separator : "") + *part;
  }
  return out;
}

Result<std::string> RenderCondition(const Json& condition, const Names& names,
                                    const std::string& path, int depth) {
  if (depth > kMaxNesting) return Error(path, "nested too deeply");
  const Json* type = Member(condition, "Type");
  if (type == nullptr || !type->is_string()) {
    return Error(Field(path, "Type"), std::string("required: one of ") + kConditionTypes);
  }
  const std::string& name = type->get_ref<const std::string&>();
  static constexpr std::pair<std::string_view, std::string_view> kComparisons[] = {
      {"Equals", "=="},  {"GreaterThan", ">"},        {"GreaterThanOrEqualTo", ">="},
      {"LessThan", "<"}, {"LessThanOrEqualTo", "<="},
  };
  for (const auto& [spelling, op] : kComparisons) {
    if (name == spelling) return RenderComparison(condition, op, names, path);
  }
  if (name == "In") return RenderIn(condition, names, path);
  if (name == "Not") {  // the SageMaker SDK writes the negated condition as Expression or Condition
    const char* key = Member(condition, "Expression") == nullptr && Member(condition, "Condition")
                          ? "Condition"
                          : "Expression";
    const Json* inner = Member(condition, key);
    if (inner == nullptr) return Error(Field(path, "Expression"), "required");
    auto text = RenderCondition(*inner, names, Field(path, key), depth + 1);
    return text.ok() ? Result<std::string>("!(" + *text + ")") : text;
  }
  if (name == "Or") {
    auto text = RenderConditionList(Member(condition, "Conditions"), " || ", names,
                                    Field(path, "Conditions"), depth);
    return text.ok() ? Result<std::string>("(" + *text + ")") : text;
  }
  return Error(Field(path, "Type"),
               Quote(name) + " is not a condition type Stepline knows (" + kConditionTypes + ")");
}

Status Collect(const Json& value, const std::string& path, int depth,
               std::vector<std::string>* steps) {
  if (depth > kMaxNesting) return Error(path, "nested too deeply");
  const Json* get = Member(value, "Get");
  if (get != nullptr && get->is_string()) {
    std::string_view text = get->get_ref<const std::string&>();
    if (text.starts_with("Steps.")) {
      std::string step(text.substr(6, text.find_first_of(".[", 6) - 6));
      if (std::find(steps->begin(), steps->end(), step) == steps->end()) steps->push_back(step);
    }
  }
  if (!value.is_object() && !value.is_array()) return Status::Ok();
  for (const Json& child : value) {
    Status status = Collect(child, path, depth + 1, steps);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace

k8s::Result<std::string> RenderValue(const Json& value, const Names& names,
                                     const std::string& path) {
  return Render(value, names, path, 0);
}

k8s::Result<std::vector<std::string>> RenderList(const Json* list, const Names& names,
                                                 const std::string& path) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  if (!list->is_array()) return Error(path, "must be a list");
  for (size_t i = 0; i < list->size(); ++i) {
    auto value = RenderValue((*list)[i], names, Item(path, i));
    if (!value.ok()) return value.status();
    out.push_back(*value);
  }
  return out;
}

k8s::Result<std::string> RenderConditions(const Json& conditions, const Names& names,
                                          const std::string& path) {
  return RenderConditionList(&conditions, " && ", names, path, -1);
}

k8s::Status CollectStepReferences(const Json& value, const std::string& path,
                                  std::vector<std::string>* steps) {
  return Collect(value, path, 0, steps);
}

}  // namespace stepline::reconcilers::sagemaker
