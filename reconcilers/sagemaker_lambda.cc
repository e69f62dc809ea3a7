// SageMaker Lambda steps as function calls over HTTP: the function's code runs where the cluster
// serves functions (a Knative Service, OpenFaaS, any HTTP endpoint that answers JSON), its URL
// set per namespace in the ConfigMap stepline-functions under the function's name. The step's
// pod POSTs the Arguments as the event and reads the OutputParameters from the JSON answer
// (reconcilers/function_job.h builds that pod). See sagemaker_definition.h for the mapping.
#include <string>
#include <string_view>

#include "reconcilers/function_job.h"
#include "reconcilers/sagemaker_internal.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers::sagemaker {
namespace {

using k8s::Result;
using k8s::Status;

// A function name as Lambda allows it (letters, digits, '-', '_'; at most 64), which is also a
// valid ConfigMap key.
bool IsFunctionName(std::string_view name) { return name.size() <= 64 && IsReferenceName(name); }

// The function's name in FunctionArn: arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
// or a bare NAME. `qualifier` gets the version or alias, if any.
Result<std::string> FunctionName(const StepInput& in, std::string* qualifier) {
  const std::string path = Field(in.path, "FunctionArn");
  const Json* arn = Member(in.json, "FunctionArn");
  if (arn == nullptr) return Error(path, "required: the function the step calls");
  if (!arn->is_string()) {
    return Error(path, Describe(*arn) +
                           " is not supported by Stepline: give the function's ARN as a string "
                           "(its name is the key of its URL in ConfigMap " +
                           kFunctionsConfigMap + ")");
  }
  const std::string& text = arn->get_ref<const std::string&>();
  std::string_view rest(text);
  if (rest.starts_with("arn:")) {
    size_t at = rest.find(":function:");
    if (at == std::string_view::npos) {
      return Error(path, Quote(text) +
                             " is not a Lambda function ARN "
                             "(arn:aws:lambda:REGION:ACCOUNT:function:NAME)");
    }
    rest.remove_prefix(at + 10);
  }
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos) {
    *qualifier = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  if (!IsFunctionName(rest)) {
    return Error(path, Quote(text) + ": the function name " + Quote(std::string(rest)) +
                           " must be 1 to 64 letters, digits, '-' and '_'");
  }
  return std::string(rest);
}

// A value that Stepline computes: {"Get": ...}, {"Std:Join": ...}, {"Std:JsonGet": ...}.
bool IsExpression(const Json& value) {
  return value.is_object() && value.size() == 1 &&
         (value.contains("Get") || value.contains("Std:Join") || value.contains("Std:JsonGet"));
}

bool HoldsExpression(const Json& value, int depth) {
  if (IsExpression(value)) return true;
  if (!value.is_structured() || depth > kMaxNesting) return false;
  for (const Json& member : value) {
    if (HoldsExpression(member, depth + 1)) return true;
  }
  return false;
}

// A parameter of a type that the event carries as a JSON number or boolean.
bool IsTypedParameter(const Json& value, const Names& names) {
  const Json* get = Member(value, "Get");
  if (get == nullptr || !get->is_string()) return false;
  std::string_view text = get->get_ref<const std::string&>();
  if (!text.starts_with("Parameters.")) return false;
  auto it = names.parameter_types.find(std::string(text.substr(11)));
  return it != names.parameter_types.end() &&
         (it->second == ParameterType::kInteger || it->second == ParameterType::kFloat ||
          it->second == ParameterType::kBoolean);
}

// One member of Arguments as the flag that puts it into the event: a string, or a computed value
// as text (--arg); a parameter of a numeric or boolean type, or a JSON literal (--json-arg).
Status CompileEventMember(const StepInput& in, const std::string& key, const Json& value,
                          const std::string& path, Step* step) {
  if (key.empty() || key.find('=') != std::string::npos) {
    return Error(path, "a member name must be non-empty and without '=' in Stepline");
  }
  const bool text = value.is_string() || IsExpression(value);
  if (!text && HoldsExpression(value, 0)) {
    return Error(path,
                 "a Get, Std:Join or Std:JsonGet inside a list or object is not supported by "
                 "Stepline: give the computed value as an Argument of its own");
  }
  Result<std::string> rendered = text ? RenderValue(value, in.names, path) : value.dump();
  if (!rendered.ok()) return rendered.status();
  if (!text && rendered->find("{{") != std::string::npos) {
    return Error(path, "contains \"{{\", which Stepline would read as a reference");
  }
  const bool json = !text || IsTypedParameter(value, in.names);
  // Kubernetes would expand $(VAR) in the container's args: the event's text must stay as it is.
  step->args.insert(step->args.end(), {json ? "--json-arg" : "--arg",
                                       key + "=" + EscapeForKubernetesExpansion(*rendered)});
  return Status::Ok();
}

}  // namespace

k8s::Status CompileLambda(const StepInput& in, Step* step) {
  std::string qualifier;
  auto name = FunctionName(in, &qualifier);
  if (!name.ok()) return name.status();
  step->function.emplace();
  step->function->name = *name;
  step->function->arn = Member(in.json, "FunctionArn")->get<std::string>();
  step->args = {"--function", *name};
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  const std::string at = Field(in.path, "Arguments");
  for (auto it = (*args)->begin(); it != (*args)->end(); ++it) {
    Status status = CompileEventMember(in, it.key(), it.value(), Field(at, it.key()), step);
    if (!status.ok()) return status;
  }
  if (Status status = CompileOutputParameters(in, step); !status.ok()) return status;
  for (const std::string& output : step->outputs) {
    step->args.insert(step->args.end(), {"--output", output});
  }
  in.warnings->push_back(in.path + ": a Lambda step calls function " + Quote(*name) +
                         " over HTTP: POST to the URL under the key " + Quote(*name) +
                         " of ConfigMap " + kFunctionsConfigMap +
                         " in the execution's namespace (the step fails saying so when none "
                         "is set)");
  if (!qualifier.empty()) {
    in.warnings->push_back(Field(in.path, "FunctionArn") + ": the version or alias " +
                           Quote(qualifier) +
                           " is not used by Stepline: the ConfigMap's URL is called");
  }
  return Status::Ok();
}

}  // namespace stepline::reconcilers::sagemaker
