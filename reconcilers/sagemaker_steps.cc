// SageMaker step types (Processing, Training, Fail, Callback) and retry policies as Stepline
// steps. See sagemaker_definition.h for the mapping tables.
#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "reconcilers/sagemaker_instances.h"
#include "reconcilers/sagemaker_internal.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers::sagemaker {
namespace {

using k8s::Result;
using k8s::Status;

// SageMaker allows at most 20 retries; with ExpireAfterMin alone, time is the only bound.
constexpr int64_t kMaxSageMakerRetries = 20;
constexpr int64_t kDefaultSageMakerRetries = 5;

struct ExceptionMapping {
  std::string_view type;
  const char* failure_class;  // nullptr: Stepline needs no retry policy for it
};
constexpr std::array<ExceptionMapping, 5> kExceptionTypes{{
    {"Step.SERVICE_FAULT", "Disrupted"},
    {"Step.THROTTLING", nullptr},
    {"SageMaker.JOB_INTERNAL_ERROR", "Disrupted"},
    {"SageMaker.CAPACITY_ERROR", "Unschedulable"},
    {"SageMaker.RESOURCE_LIMIT", nullptr},
}};

void AddUnique(std::vector<std::string>* list, const std::string& value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

Result<const Json*> Arguments(const StepInput& in) {
  static const Json kEmpty = Json::object();
  const Json* args = Member(in.json, "Arguments");
  if (args == nullptr) return &kEmpty;
  if (!args->is_object()) return Error(Field(in.path, "Arguments"), "must be an object");
  return args;
}

Result<const Json*> Object(const Json& args, const char* key, const std::string& path) {
  const Json* value = Member(args, key);
  if (value != nullptr && !value->is_object()) return Error(Field(path, key), "must be an object");
  return value;
}

void WarnUnused(const StepInput& in, const Json& args, std::initializer_list<std::string_view> used,
                const std::string& path) {
  std::vector<std::string> unused;
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (std::find(used.begin(), used.end(), it.key()) == used.end()) unused.push_back(it.key());
  }
  if (unused.empty()) return;
  in.warnings->push_back((path.empty() ? Field(in.path, "Arguments") : path) +
                         ": not used by Stepline: " + JoinNames(unused));
}

k8s::Status AppendEnvironment(const StepInput& in, const Json* map, const std::string& path,
                              std::string (*rename)(const std::string&), bool replace, Step* step) {
  if (map == nullptr) return Status::Ok();
  if (!map->is_object()) return Error(path, "must be an object of names and values");
  for (auto it = map->begin(); it != map->end(); ++it) {
    auto value = RenderValue(it.value(), in.names, Field(path, it.key()));
    if (!value.ok()) return value.status();
    EnvVar env;
    env.name = rename != nullptr ? rename(it.key()) : it.key();
    env.value = *value;
    auto same = std::find_if(step->env.begin(), step->env.end(),
                             [&](const EnvVar& e) { return e.name == env.name; });
    if (replace && same != step->env.end()) {
      *same = std::move(env);
    } else {
      step->env.push_back(std::move(env));
    }
  }
  return Status::Ok();
}

namespace {

using FieldKind = ParameterField::Kind;

// The parameter value names when it is {"Get": "Parameters.X"}; nullopt when it is a literal.
// Any other Get is an error: only a run parameter can give what must be known when the Job is
// built.
Result<std::optional<std::string>> ParameterOf(const StepInput& in, const Json& value,
                                               const std::string& path) {
  if (Member(value, "Get") == nullptr || value.size() != 1) return std::optional<std::string>();
  auto text = RenderValue(value, in.names, path);
  if (!text.ok()) return text.status();
  const std::string prefix = "{{parameters.";
  if (!text->starts_with(prefix)) {
    return Error(path, "only a run parameter ({\"Get\": \"Parameters.NAME\"}) can give this");
  }
  return std::optional<std::string>(text->substr(prefix.size(), text->size() - prefix.size() - 2));
}

// "" after setting the field of step to value; else what is wrong with value.
std::string SetField(FieldKind kind, const std::string& value, Step* step) {
  bool digits = !value.empty() && value.size() <= 12 &&
                std::all_of(value.begin(), value.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  switch (kind) {
    case FieldKind::kTimeout:
      if (!digits || std::stoll(value) <= 0) return "is not a positive number of seconds";
      step->timeout_seconds = std::stoll(value);
      return "";
    case FieldKind::kInstanceCount:
      if (digits && std::stoll(value) == 1) return "";
      return "is not 1: Stepline runs a step as one pod (SageMaker's processing and training "
             "across several instances is not supported; use 1)";
    case FieldKind::kInstanceType:
      if (const std::optional<InstanceType> type = FindInstanceType(value)) {
        SetInstanceResources(*type, step);
        return "";
      }
      return "is not an instance type Stepline knows (the families " + KnownInstanceFamilies() +
             "; see docs/api.md)";
  }
  return "is not supported";
}

// A field that is a literal or a run parameter: set now, or recorded for each execution.
Status CompileField(const StepInput& in, const Json& value, FieldKind kind, const std::string& path,
                    Step* step) {
  auto parameter = ParameterOf(in, value, path);
  if (!parameter.ok()) return parameter.status();
  if (*parameter) {
    in.fields->push_back({kind, step->name, **parameter, path});
    return Status::Ok();
  }
  if (kind == FieldKind::kTimeout && !value.is_number_integer()) {
    return Error(path, "must be a positive integer or {\"Get\": \"Parameters.NAME\"}");
  }
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  std::string problem = SetField(kind, text, step);
  return problem.empty() ? Status::Ok() : Error(path, Describe(value) + " " + problem);
}

}  // namespace

Status CompileInstances(const StepInput& in, const Json* config, const std::string& path,
                        Step* step) {
  if (config == nullptr) return Status::Ok();
  if (!config->is_object()) return Error(path, "must be an object");
  std::vector<std::string> unused;
  for (auto it = config->begin(); it != config->end(); ++it) {
    const std::string at = Field(path, it.key());
    Status status = Status::Ok();
    if (it.key() == "InstanceType") {
      status = CompileField(in, it.value(), FieldKind::kInstanceType, at, step);
    } else if (it.key() == "InstanceCount") {
      status = CompileField(in, it.value(), FieldKind::kInstanceCount, at, step);
    } else {
      unused.push_back(it.key() + " " + Describe(it.value()));
    }
    if (!status.ok()) return status;
  }
  if (!unused.empty()) {
    in.warnings->push_back(path + ": not used by Stepline: " + JoinNames(unused));
  }
  return Status::Ok();
}

namespace {

// Image, ContainerEntrypoint and ContainerArguments of AppSpecification/AlgorithmSpecification.
Status CompileContainer(const StepInput& in, const Json& spec, const char* image_key,
                        const std::string& path, Step* step) {
  if (const Json* image = Member(spec, image_key)) {
    auto value = RenderValue(*image, in.names, Field(path, image_key));
    if (!value.ok()) return value.status();
    step->image = *value;
  }
  auto command =
      RenderList(Member(spec, "ContainerEntrypoint"), in.names, Field(path, "ContainerEntrypoint"));
  if (!command.ok()) return command.status();
  auto args =
      RenderList(Member(spec, "ContainerArguments"), in.names, Field(path, "ContainerArguments"));
  if (!args.ok()) return args.status();
  step->command = std::move(command).value();
  step->args = std::move(args).value();
  return Status::Ok();
}

// "max_depth" -> "SM_HP_MAX_DEPTH", as the SageMaker training toolkit names them.
std::string HyperParameterEnvName(const std::string& name) {
  std::string out = "SM_HP_";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

// Environment-like maps of names to values, appended to the step's env.
Status AppendEnv(const Json& args, const char* key, bool hyperparameters, const StepInput& in,
                 Step* step) {
  return AppendEnvironment(in, Member(args, key), Field(Field(in.path, "Arguments"), key),
                           hyperparameters ? HyperParameterEnvName : nullptr, false, step);
}

// SM_HPS: the hyperparameters as one JSON object of strings, as the SageMaker training toolkit
// sets it (from env[first...], the SM_HP_ variables just appended, in HyperParameters' order).
void AppendHyperParametersJson(const Json& args, size_t first, Step* step) {
  const Json* map = Member(args, "HyperParameters");
  if (map == nullptr || map->empty()) return;
  Json hps = Json::object();
  size_t i = first;
  for (auto it = map->begin(); it != map->end() && i < step->env.size(); ++it, ++i) {
    hps[it.key()] = step->env[i].value.value_or("");
  }
  EnvVar env;
  env.name = "SM_HPS";
  env.value = hps.dump();
  step->env.push_back(std::move(env));
}

// The LocalPath of ProcessingOutputConfig.Outputs[OutputName == name], or "".
std::string OutputLocalPath(const Json& args, const std::string& name) {
  const Json* outputs = Member(Member(args, "ProcessingOutputConfig"), "Outputs");
  for (size_t i = 0; outputs != nullptr && outputs->is_array() && i < outputs->size(); ++i) {
    const Json& output = (*outputs)[i];
    const Json* output_name = Member(output, "OutputName");
    const Json* local = Member(Member(output, "S3Output"), "LocalPath");
    if (output_name != nullptr && *output_name == name && local != nullptr && local->is_string()) {
      return local->get<std::string>();
    }
  }
  return "";
}

// One property file as shell text that prints `"NAME": <the file's JSON, or null>`.
Result<std::string> PublishPropertyFile(const Json& file, const Json& args,
                                        const std::string& path) {
  const Json* name = Member(file, "PropertyFileName");
  const Json* output = Member(file, "OutputName");
  const Json* file_path = Member(file, "FilePath");
  if (name == nullptr || !name->is_string() || !IsReferenceName(name->get<std::string>())) {
    return Error(Field(path, "PropertyFileName"), "must be a name of letters, digits, '_' and '-'");
  }
  if (output == nullptr || !output->is_string() || file_path == nullptr ||
      !file_path->is_string()) {
    return Error(path, "OutputName and FilePath must be strings");
  }
  std::string local = OutputLocalPath(args, output->get<std::string>());
  if (local.empty()) {
    return Error(Field(path, "OutputName"),
                 Describe(*output) + " is no output of Arguments.ProcessingOutputConfig.Outputs");
  }
  std::string full = local + "/" + file_path->get<std::string>();
  if (full.find('\'') != std::string::npos) return Error(Field(path, "FilePath"), "contains a '");
  return "printf '\"%s\": ' '" + name->get<std::string>() + "'; if [ -f '" + full +
         "' ]; then cat '" + full + "'; else printf null; fi;";
}

// PropertyFiles: after the container's command succeeds, its property files (JSON files in its
// outputs) are written to /dev/termination-log as {"NAME": <file>, ...}, so each is the step's
// output NAME and Std:JsonGet reads inside it. This wraps ContainerEntrypoint in `sh -c`; the
// termination message holds at most 4 KiB (Kubernetes' limit), so the files must fit in it.
Status CompilePropertyFiles(const StepInput& in, const Json& args, Step* step) {
  const std::string path = Field(in.path, "PropertyFiles");
  const Json* files = Member(in.json, "PropertyFiles");
  if (files == nullptr) return Status::Ok();
  if (!files->is_array()) return Error(path, "must be a list");
  std::string publish;
  for (size_t i = 0; i < files->size(); ++i) {
    auto text = PublishPropertyFile((*files)[i], args, Item(path, i));
    if (!text.ok()) return text.status();
    publish += (i > 0 ? " printf ', ';" : "") + *text;
  }
  if (step->command.empty()) {
    in.warnings->push_back(path +
                           ": not published without AppSpecification.ContainerEntrypoint (Stepline "
                           "wraps it to publish them); a Std:JsonGet of them fails its step");
    return Status::Ok();
  }
  std::vector<std::string> command = {"sh", "-c",
                                      "\"$@\"; rc=$?; if [ $rc -eq 0 ]; then { printf '{'; " +
                                          publish +
                                          " printf '}'; } >/dev/termination-log; fi; exit $rc",
                                      "sh"};
  command.insert(command.end(), step->command.begin(), step->command.end());
  step->command = std::move(command);
  return Status::Ok();
}

Status CompileStoppingCondition(const StepInput& in, const Json& args, Step* step) {
  const std::string path = Field(Field(in.path, "Arguments"), "StoppingCondition");
  auto condition = Object(args, "StoppingCondition", Field(in.path, "Arguments"));
  if (!condition.ok()) return condition.status();
  const Json* max = Member(*condition, "MaxRuntimeInSeconds");
  if (max == nullptr) return Status::Ok();
  return CompileField(in, *max, FieldKind::kTimeout, Field(path, "MaxRuntimeInSeconds"), step);
}

// What Processing and Training share: the container spec, Environment and StoppingCondition.
Status CompileJob(const StepInput& in, const Json& args, const char* spec_key,
                  const char* image_key, Step* step) {
  const std::string path = Field(in.path, "Arguments");
  auto spec = Object(args, spec_key, path);
  if (!spec.ok()) return spec.status();
  if (*spec != nullptr) {
    Status status = CompileContainer(in, **spec, image_key, Field(path, spec_key), step);
    if (!status.ok()) return status;
  }
  Status status = AppendEnv(args, "Environment", false, in, step);
  if (!status.ok()) return status;
  return CompileStoppingCondition(in, args, step);
}

Result<std::optional<int64_t>> ReadCount(const Json& policy, const char* key,
                                         const std::string& path) {
  const Json* value = Member(policy, key);
  if (value == nullptr) return std::optional<int64_t>();
  if (!value->is_number_integer() || value->get<int64_t>() < 0) {
    return Error(Field(path, key), "must be a non-negative integer");
  }
  return std::optional<int64_t>(value->get<int64_t>());
}

// The failure classes of one policy's ExceptionType (and FailureType) lists.
Status PolicyClasses(const Json& policy, const std::string& path,
                     std::vector<std::string>* classes) {
  for (const char* key : {"ExceptionType", "FailureType"}) {
    const Json* list = Member(policy, key);
    if (list == nullptr) continue;
    if (!list->is_array()) return Error(Field(path, key), "must be a list");
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& type = (*list)[i];
      auto it = std::find_if(kExceptionTypes.begin(), kExceptionTypes.end(), [&](const auto& m) {
        return type.is_string() && type.get<std::string>() == m.type;
      });
      if (it == kExceptionTypes.end()) {
        return Error(Item(Field(path, key), i),
                     Describe(type) +
                         " is not a SageMaker exception type (Step.SERVICE_FAULT, "
                         "Step.THROTTLING, SageMaker.JOB_INTERNAL_ERROR, "
                         "SageMaker.CAPACITY_ERROR, SageMaker.RESOURCE_LIMIT)");
      }
      if (it->failure_class != nullptr) AddUnique(classes, it->failure_class);
    }
  }
  return Status::Ok();
}

// The numbers of one policy in Stepline's terms (maxAttempts counts all attempts).
Result<RetryPolicy> PolicyNumbers(const Json& policy, const std::string& path) {
  auto interval = ReadCount(policy, "IntervalSeconds", path);
  auto retries = ReadCount(policy, "MaxAttempts", path);
  auto expire = ReadCount(policy, "ExpireAfterMin", path);
  for (const auto* read : {&interval, &retries, &expire}) {
    if (!read->ok()) return read->status();
  }
  const Json* backoff = Member(policy, "BackoffRate");
  if (backoff != nullptr && !backoff->is_number()) {
    return Error(Field(path, "BackoffRate"), "must be a number");
  }
  const std::optional<int64_t>& minutes = *expire;
  if (retries->has_value() && minutes) {
    return Error(path, "only one of MaxAttempts and ExpireAfterMin may be given");
  }
  RetryPolicy out;
  out.interval_seconds = interval->value_or(1);
  out.backoff_rate = backoff != nullptr ? backoff->get<double>() : 2.0;
  if (minutes) {  // 0: never retried
    out.max_attempts = *minutes > 0 ? kMaxSageMakerRetries + 1 : 1;
    if (*minutes > 0) out.expire_after_minutes = *minutes;
  } else {
    out.max_attempts = retries->value_or(kDefaultSageMakerRetries) + 1;
  }
  return out;
}

}  // namespace

k8s::Result<std::optional<StepCache>> CompileCacheConfig(const Json* config,
                                                         const std::string& path) {
  if (config == nullptr) return std::optional<StepCache>();
  if (!config->is_object()) return Error(path, "must be an object {Enabled, ExpireAfter}");
  StepCache cache;
  const Json* enabled = Member(*config, "Enabled");
  if (enabled != nullptr && !enabled->is_boolean()) {
    return Error(Field(path, "Enabled"), "must be true or false");
  }
  cache.enabled = enabled != nullptr && enabled->get<bool>();
  if (const Json* expire = Member(*config, "ExpireAfter"); expire != nullptr) {
    if (!expire->is_string()) return Error(Field(path, "ExpireAfter"), "must be a string");
    k8s::Result<std::chrono::seconds> d = ParseIsoDuration(expire->get<std::string>());
    if (!d.ok()) return Error(Field(path, "ExpireAfter"), d.status().message());
    cache.expire_after = expire->get<std::string>();
  }
  return std::optional<StepCache>(std::move(cache));
}

// The fields of a request that CreateTrainingJob requires besides the image (TrainingJobName
// SageMaker Pipelines gives itself).
constexpr std::array<const char*, 4> kTrainingRequired = {"OutputDataConfig", "ResourceConfig",
                                                          "RoleArn", "StoppingCondition"};

// A Training step whose Arguments give no image (nor AlgorithmName, refused before). SageMaker's
// CreatePipeline does not check a step's Arguments: it accepts the definition, and the step
// fails when it runs, CreateTrainingJob refusing the request (a ValidationException). Here the
// step becomes a Fail step with that message (it fails the execution when its turn comes, and
// is not retried), and a warning says so. False (step untouched) when the image is given, or
// the Pipeline's stepDefaults give one (SageMakerCompileOptions).
// (A Processing step without AppSpecification.ImageUri is still refused when applied.)
template <size_t N>
bool FailsWhenRun(const StepInput& in, const Json& args, const char* api, const char* spec_key,
                  const char* image_key, const std::array<const char*, N>& required, Step* step) {
  if (!in.fail_without_image || Member(Member(args, spec_key), image_key) != nullptr) {
    return false;
  }
  const std::string field = std::string(spec_key) + "." + image_key;
  std::string missing;
  for (const char* key : required) {
    if (Member(args, key) == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(key);
  }
  step->type = StepType::kFail;
  step->message = "step " + Quote(in.name) + ": SageMaker's " + api +
                  " refuses the request (ValidationException): Arguments." + field + " is missing" +
                  (missing.empty() ? "" : " (and so are " + missing + ", which it also requires)") +
                  "; give the image of a container that runs the job";
  in.warnings->push_back(Field(in.path, "Arguments." + field) +
                         ": missing: the step fails when it runs, as in SageMaker (whose " + api +
                         " refuses it with a ValidationException); give the image of a container "
                         "that runs the job");
  return true;
}

k8s::Status CompileProcessing(const StepInput& in, Step* step) {
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  Status status = CompileJob(in, **args, "AppSpecification", "ImageUri", step);
  if (!status.ok()) return status;
  auto resources = Object(**args, "ProcessingResources", Field(in.path, "Arguments"));
  if (!resources.ok()) return resources.status();
  status = CompileInstances(in, Member(*resources, "ClusterConfig"),
                            Field(in.path, "Arguments.ProcessingResources.ClusterConfig"), step);
  if (!status.ok()) return status;
  status = CompileProcessingData(in, **args, step);
  if (!status.ok()) return status;
  status = CompilePropertyFiles(in, **args, step);
  if (!status.ok()) return status;
  status = CompileProcessingConfigFiles(in, **args, step);
  if (!status.ok()) return status;
  WarnUnused(in, **args,
             {"AppSpecification", "Environment", "StoppingCondition", "ProcessingResources",
              "RoleArn", "ProcessingInputs", "ProcessingOutputConfig"});
  return Status::Ok();
}

k8s::Status CompileTraining(const StepInput& in, Step* step) {
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  if (Member(**args, "ServerlessJobConfig") != nullptr) {
    return Error(Field(in.path, "Arguments.ServerlessJobConfig"),
                 "SageMaker's serverless jobs (a hub model run by SageMaker) are not supported by "
                 "Stepline: give AlgorithmSpecification.TrainingImage, a container that runs the "
                 "job");
  }
  if (Member(Member(**args, "AlgorithmSpecification"), "AlgorithmName") != nullptr) {
    return Error(Field(in.path, "Arguments.AlgorithmSpecification.AlgorithmName"),
                 "algorithm resources are not supported by Stepline; give TrainingImage");
  }
  if (FailsWhenRun(in, **args, "CreateTrainingJob", "AlgorithmSpecification", "TrainingImage",
                   kTrainingRequired, step)) {
    return Status::Ok();
  }
  Status status = CompileJob(in, **args, "AlgorithmSpecification", "TrainingImage", step);
  if (!status.ok()) return status;
  if (step->command.empty() && step->args.empty()) step->args = {"train"};  // as SageMaker runs it
  size_t first = step->env.size();
  status = AppendEnv(**args, "HyperParameters", true, in, step);
  if (!status.ok()) return status;
  AppendHyperParametersJson(**args, first, step);
  status = CompileInstances(in, Member(**args, "ResourceConfig"),
                            Field(in.path, "Arguments.ResourceConfig"), step);
  if (!status.ok()) return status;
  status = CompileTrainingChannels(in, **args, step);
  if (!status.ok()) return status;
  status = CompileModelOutput(in, **args, step);
  if (!status.ok()) return status;
  status = CompileTrainingConfigFiles(in, **args, step);
  if (!status.ok()) return status;
  WarnUnused(in, **args,
             {"AlgorithmSpecification", "Environment", "HyperParameters", "StoppingCondition",
              "ResourceConfig", "RoleArn", "InputDataConfig", "OutputDataConfig"});
  return Status::Ok();
}

k8s::Status CompileFail(const StepInput& in, Step* step) {
  step->type = StepType::kFail;
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  step->message = "step " + Quote(in.name) + " failed the execution";
  const Json* message = Member(**args, "ErrorMessage");
  if (message == nullptr) return Status::Ok();
  auto text = RenderValue(*message, in.names, Field(in.path, "Arguments.ErrorMessage"));
  if (!text.ok()) return text.status();
  if (!text->empty()) step->message = *text;
  return Status::Ok();
}

k8s::Status CompileOutputParameters(const StepInput& in, Step* step) {
  const std::string path = Field(in.path, "OutputParameters");
  const Json* outputs = Member(in.json, "OutputParameters");
  if (outputs != nullptr && !outputs->is_array()) return Error(path, "must be a list");
  for (size_t i = 0; outputs != nullptr && i < outputs->size(); ++i) {
    const Json* name = Member((*outputs)[i], "OutputName");
    if (name == nullptr || !name->is_string() || !IsReferenceName(name->get<std::string>())) {
      return Error(Field(Item(path, i), "OutputName"),
                   "must be a name of letters, digits, '_' and '-'");
    }
    step->outputs.push_back(name->get<std::string>());
  }
  return Status::Ok();
}

k8s::Status CompileCallback(const StepInput& in, Step* step) {
  step->type = StepType::kApproval;
  if (Status status = CompileOutputParameters(in, step); !status.ok()) return status;
  in.warnings->push_back(in.path +
                         ": a Callback step runs as an Approval step: answer it in the "
                         "execution's spec.signals (nothing is sent to SqsQueueUrl)");
  return Status::Ok();
}

k8s::Result<std::optional<RetryPolicy>> CompileRetryPolicies(const Json* policies,
                                                             const std::string& path,
                                                             std::vector<std::string>* warnings) {
  std::optional<RetryPolicy> out;
  if (policies == nullptr) return out;
  if (!policies->is_array()) return Error(path, "must be a list");
  std::vector<std::string> classes;
  size_t used = 0;
  for (size_t i = 0; i < policies->size(); ++i) {
    const Json& policy = (*policies)[i];
    if (!policy.is_object()) return Error(Item(path, i), "must be an object");
    std::vector<std::string> mine;
    Status status = PolicyClasses(policy, Item(path, i), &mine);
    if (!status.ok()) return status;
    auto numbers = PolicyNumbers(policy, Item(path, i));
    if (!numbers.ok()) return numbers.status();
    if (mine.empty()) continue;
    if (used++ == 0) out = std::move(numbers).value();
    for (const auto& c : mine) AddUnique(&classes, c);
  }
  if (!out && !policies->empty()) {
    warnings->push_back(path +
                        ": no retry policy needed (the controller retries throttled API calls "
                        "itself, and waits out quota)");
  }
  if (used > 1) {
    warnings->push_back(path +
                        ": Stepline keeps one retry policy per step: the numbers of the "
                        "first apply to all its failure classes (" +
                        JoinNames(classes) + ")");
  }
  if (out) out->retry_on = classes;
  return out;
}

}  // namespace stepline::reconcilers::sagemaker

namespace stepline::reconcilers {

k8s::Status ApplyParameterFields(const std::vector<ParameterField>& fields,
                                 const std::map<std::string, std::string>& values,
                                 std::vector<Step>* steps) {
  for (const ParameterField& f : fields) {
    auto value = values.find(f.parameter);
    if (value == values.end()) continue;
    for (Step& step : *steps) {
      if (step.name != f.step) continue;
      std::string problem = sagemaker::SetField(f.kind, value->second, &step);
      if (problem.empty()) continue;
      return k8s::Status::InvalidArgument("parameter " + sagemaker::Quote(f.parameter) + ": " +
                                          sagemaker::Quote(value->second) + " " + problem +
                                          " (it is " + f.path + ")");
    }
  }
  return k8s::Status::Ok();
}

}  // namespace stepline::reconcilers
