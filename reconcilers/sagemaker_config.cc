// The configuration files SageMaker writes into a job's container, as raw input artifacts of the
// compiled step (docs/api.md, "SageMaker pipeline definitions"): written by an init container
// before the step's container starts, their templates ({{parameters.X}}, ...) rendered per
// execution inside the JSON strings (RenderRawText).
//   Training    /opt/ml/input/config/hyperparameters.json  HyperParameters, every value a string
//               /opt/ml/input/config/resourceconfig.json   one host, algo-1
//               /opt/ml/input/config/inputdataconfig.json  per channel: ContentType (if given),
//                                                          TrainingInputMode, S3DistributionType,
//                                                          RecordWrapperType
//   Processing  /opt/ml/config/processingjobconfig.json   the Arguments Stepline compiles
//                                                          (AppSpecification, Environment,
//                                                          ProcessingInputs, ...) rendered,
//                                                          with ProcessingJobName
//               /opt/ml/config/resourceconfig.json        one host, algo-1
// The data is staged as files, fully, on one host: the channels say File and FullyReplicated,
// whatever mode the definition asked for (a warning already says so).
#include <set>
#include <string>
#include <utility>

#include "reconcilers/sagemaker_internal.h"

namespace stepline::reconcilers::sagemaker {
namespace {

using k8s::Result;
using k8s::Status;

constexpr const char* kTrainingConfig = "/opt/ml/input/config/";
constexpr const char* kProcessingConfig = "/opt/ml/config/";
constexpr const char* kHost = "algo-1";
// The Arguments of a Processing step that CompileProcessing reads (and so checked their
// values): what processingjobconfig.json holds.
const std::set<std::string> kMappedProcessingFields = {
    "AppSpecification", "Environment",      "StoppingCondition",     "ProcessingResources",
    "RoleArn",          "ProcessingInputs", "ProcessingOutputConfig"};

// Appends the raw input artifact `sagemaker-<file>` at dir + file + ".json"; a text too long
// for a raw artifact is left out with a warning.
void AddConfigFile(const StepInput& in, const char* dir, const std::string& file,
                   const Json& content, Step* step) {
  std::string text = content.dump(-1, ' ', false, Json::error_handler_t::replace);
  const std::string path = std::string(dir) + file + ".json";
  if (text.size() > kMaxRawArtifactBytes) {
    in.warnings->push_back(in.path + ": " + path + " is not written: its " +
                           std::to_string(text.size()) + " bytes exceed " +
                           std::to_string(kMaxRawArtifactBytes));
    return;
  }
  Artifact a;
  a.name = "sagemaker-" + file;
  a.path = path;
  a.raw = std::move(text);
  step->input_artifacts.push_back(std::move(a));
}

// A value of the definition as template text, or the given default when absent.
Result<std::string> TextOr(const Json* value, const StepInput& in, const std::string& path,
                           const std::string& fallback) {
  if (value == nullptr) return fallback;
  return RenderValue(*value, in.names, path);
}

// A value of the definition as JSON with every function rendered: literals stay as they are
// (numbers stay numbers), Get / Std:Join / Std:JsonGet become template text. A string holding
// "{{" (Stepline's template syntax) is left out as null, with a warning.
Result<Json> RenderedJson(const Json& value, const StepInput& in, const std::string& path,
                          int depth) {
  if (depth > kMaxNesting) return Error(path, "nested too deeply");
  if (value.is_object() && value.size() == 1 &&
      (value.contains("Get") || value.begin().key().starts_with("Std:"))) {
    auto text = RenderValue(value, in.names, path);
    if (!text.ok()) return text.status();
    return Json(*text);
  }
  if (value.is_string() && value.get<std::string>().find("{{") != std::string::npos) {
    in.warnings->push_back(path + ": left out of processingjobconfig.json (it holds \"{{\")");
    return Json(nullptr);
  }
  if (!value.is_structured()) return value;
  Json out = value.is_object() ? Json::object() : Json::array();
  size_t i = 0;
  for (auto it = value.begin(); it != value.end(); ++it, ++i) {
    const std::string at = value.is_object() ? Field(path, it.key()) : Item(path, i);
    auto item = RenderedJson(it.value(), in, at, depth + 1);
    if (!item.ok()) return item.status();
    if (value.is_object()) {
      out[it.key()] = std::move(item).value();
    } else {
      out.push_back(std::move(item).value());
    }
  }
  return out;
}

// The fields of the Arguments that Stepline compiles (their values are checked), rendered, and
// the job's name.
Result<Json> ProcessingJobConfig(const StepInput& in, const Json& args, const Step& step) {
  const std::string path = Field(in.path, "Arguments");
  Json job = Json::object();
  for (const std::string& key : kMappedProcessingFields) {
    const Json* value = Member(args, key.c_str());
    if (value == nullptr) continue;
    auto rendered = RenderedJson(*value, in, Field(path, key), 1);
    if (!rendered.ok()) return rendered.status();
    job[key] = std::move(rendered).value();
  }
  job["ProcessingJobName"] = "{{execution.name}}-" + step.name;
  return job;
}

Json ResourceConfig(const std::string& instance_type) {
  Json config = {
      {"current_host", kHost}, {"hosts", Json::array({kHost})}, {"network_interface_name", "eth0"}};
  if (instance_type.empty()) return config;
  config["current_group_name"] = "homogeneousCluster";
  config["current_instance_type"] = instance_type;
  config["instance_groups"] = Json::array({{{"instance_group_name", "homogeneousCluster"},
                                            {"instance_type", instance_type},
                                            {"hosts", Json::array({kHost})}}});
  return config;
}

Result<Json> HyperParameters(const StepInput& in, const Json& args) {
  const std::string path = Field(Field(in.path, "Arguments"), "HyperParameters");
  Json out = Json::object();
  const Json* map = Member(args, "HyperParameters");
  if (map == nullptr || !map->is_object()) return out;  // CompileTraining refused a non-object
  for (auto it = map->begin(); it != map->end(); ++it) {
    auto value = RenderValue(it.value(), in.names, Field(path, it.key()));
    if (!value.ok()) return value.status();
    out[it.key()] = *value;
  }
  return out;
}

// One channel's entry, as SageMaker writes it.
Result<Json> ChannelConfig(const StepInput& in, const Json& channel, const std::string& path) {
  Json out = {{"TrainingInputMode", "File"}, {"S3DistributionType", "FullyReplicated"}};
  auto wrapper =
      TextOr(Member(channel, "RecordWrapperType"), in, Field(path, "RecordWrapperType"), "None");
  if (!wrapper.ok()) return wrapper.status();
  out["RecordWrapperType"] = *wrapper;
  if (const Json* type = Member(channel, "ContentType")) {
    auto text = RenderValue(*type, in.names, Field(path, "ContentType"));
    if (!text.ok()) return text.status();
    out["ContentType"] = *text;
  }
  return out;
}

Result<Json> InputDataConfig(const StepInput& in, const Json& args) {
  const std::string path = Field(Field(in.path, "Arguments"), "InputDataConfig");
  Json out = Json::object();
  const Json* channels = Member(args, "InputDataConfig");
  for (size_t i = 0; channels != nullptr && channels->is_array() && i < channels->size(); ++i) {
    const Json& channel = (*channels)[i];
    const Json* name = Member(channel, "ChannelName");
    if (name == nullptr || !name->is_string()) continue;  // refused by the channels already
    auto entry = ChannelConfig(in, channel, Item(path, i));
    if (!entry.ok()) return entry.status();
    out[name->get<std::string>()] = std::move(entry).value();
  }
  return out;
}

// The InstanceType of ResourceConfig / ProcessingResources.ClusterConfig as template text.
Result<std::string> InstanceTypeText(const StepInput& in, const Json* cluster,
                                     const std::string& path) {
  return TextOr(Member(cluster, "InstanceType"), in, Field(path, "InstanceType"), "");
}

}  // namespace

k8s::Status CompileTrainingConfigFiles(const StepInput& in, const Json& args, Step* step) {
  auto hyperparameters = HyperParameters(in, args);
  if (!hyperparameters.ok()) return hyperparameters.status();
  auto instance_type = InstanceTypeText(in, Member(args, "ResourceConfig"),
                                        Field(in.path, "Arguments.ResourceConfig"));
  if (!instance_type.ok()) return instance_type.status();
  auto channels = InputDataConfig(in, args);
  if (!channels.ok()) return channels.status();
  AddConfigFile(in, kTrainingConfig, "hyperparameters", *hyperparameters, step);
  AddConfigFile(in, kTrainingConfig, "resourceconfig", ResourceConfig(*instance_type), step);
  AddConfigFile(in, kTrainingConfig, "inputdataconfig", *channels, step);
  return Status::Ok();
}

k8s::Status CompileProcessingConfigFiles(const StepInput& in, const Json& args, Step* step) {
  const std::string path = Field(in.path, "Arguments");
  auto job = ProcessingJobConfig(in, args, *step);
  if (!job.ok()) return job.status();
  auto instance_type =
      InstanceTypeText(in, Member(Member(args, "ProcessingResources"), "ClusterConfig"),
                       Field(path, "ProcessingResources.ClusterConfig"));
  if (!instance_type.ok()) return instance_type.status();
  AddConfigFile(in, kProcessingConfig, "processingjobconfig", *job, step);
  AddConfigFile(in, kProcessingConfig, "resourceconfig", ResourceConfig(*instance_type), step);
  return Status::Ok();
}

}  // namespace stepline::reconcilers::sagemaker
