// SageMaker Transform steps (batch transform) as a Job: the pod runs the model of a Model step
// of the same definition with `serve` as a native sidecar (SageMaker's inference container
// contract: port 8080, GET /ping, POST /invocations, the model unpacked into /opt/ml/model), and
// `stepline-artifacts transform` as its main container, which sends the staged input to the
// model and writes INPUT.out files that the upload sidecar puts under S3OutputPath
// (reconcilers/transform_job.h builds that pod). See sagemaker_definition.h for the mapping.
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "reconcilers/sagemaker_internal.h"

namespace stepline::reconcilers::sagemaker {
namespace {

using k8s::Result;
using k8s::Status;

constexpr const char* kModelPath = "/opt/ml/model/";
constexpr const char* kInputPath = "/opt/ml/transform/input/";
constexpr const char* kOutputPath = "/opt/ml/transform/output/";
// SageMaker's default MaxPayloadInMB, and its largest.
constexpr int64_t kMaxPayloadInMB = 100;

std::string Advice() {
  return "a Transform step runs the model of a Model step of the same definition: give "
         "{\"Get\": \"Steps.MODEL.ModelName\"}, MODEL a Model step with "
         "PrimaryContainer.Image and ModelDataUrl";
}

// The Model step that ModelName reads ({"Get": "Steps.M[.Properties].ModelName"}).
Result<std::string> ModelStep(const StepInput& in, const Json& args, const std::string& at) {
  const std::string path = Field(at, "ModelName");
  const Json* name = Member(args, "ModelName");
  if (name == nullptr) return Error(path, "required: " + Advice());
  if (name->is_string()) {
    return Error(path, Quote(name->get<std::string>()) +
                           " is a model that no step of this definition creates, which Stepline "
                           "cannot find (it reads no SageMaker model registry): " +
                           Advice());
  }
  const std::string model = ModelNameStep(*name);
  if (model.empty()) {
    return Error(path, Describe(*name) + " is not a Model step's ModelName: " + Advice());
  }
  auto type = in.names.types.find(model);
  if (type == in.names.types.end()) {
    return Error(path, "names unknown step " + Quote(model) + ": " + Advice());
  }
  if (type->second != "Model") {
    return Error(path, "reads step " + Quote(model) + ", a " + type->second +
                           " step, not a Model step: " + Advice());
  }
  return model;
}

// The model server: the Model step's PrimaryContainer (image, Environment, ModelDataUrl).
Status CompileModelServer(const StepInput& in, const std::string& model, Step* step) {
  const Json& json = *in.names.jsons.at(model);
  const std::string at = in.names.paths.at(model) + ".Arguments.PrimaryContainer";
  const Json* primary = Member(Member(json, "Arguments"), "PrimaryContainer");
  if (primary == nullptr || !primary->is_object()) {
    return Error(at, "required as an object: the Transform step " + Quote(in.name) +
                         " runs this model's container");
  }
  const Json* image = Member(*primary, "Image");
  if (image == nullptr) {
    return Error(Field(at, "Image"),
                 "required: the Transform step " + Quote(in.name) + " runs this image");
  }
  auto text = RenderValue(*image, in.names, Field(at, "Image"));
  if (!text.ok()) return text.status();
  step->image = *text;
  step->args = {"serve"};  // as SageMaker starts an inference image
  if (Member(*primary, "ModelDataUrl") == nullptr) {
    return Error(Field(at, "ModelDataUrl"),
                 "required: the Transform step " + Quote(in.name) +
                     " stages this model.tar.gz into /opt/ml/model (a model without "
                     "artifacts is not supported)");
  }
  Artifact a;
  a.name = "model";
  a.path = kModelPath;
  a.s3 = "{{steps." + in.names.steps.at(model) + ".outputs.modelDataUrl}}";
  a.archive = "tgz";
  step->input_artifacts.push_back(std::move(a));
  return AppendEnvironment(in, Member(*primary, "Environment"), Field(at, "Environment"), nullptr,
                           false, step);
}

// An optional string member of object, one of `allowed` (the first is SageMaker's default).
Result<std::string> OneOf(const Json& object, const char* key, const std::string& path,
                          std::initializer_list<std::string_view> allowed) {
  const Json* value = Member(object, key);
  if (value == nullptr) return std::string();
  std::string list;
  for (std::string_view a : allowed) {
    if (value->is_string() && value->get<std::string>() == a) return std::string(a);
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  return Error(Field(path, key), Describe(*value) + " is not supported by Stepline (" + list + ")");
}

// An optional integer member in [min, max].
Result<std::optional<int64_t>> IntegerIn(const Json& object, const char* key,
                                         const std::string& path, int64_t min, int64_t max) {
  const Json* value = Member(object, key);
  if (value == nullptr) return std::optional<int64_t>();
  if (!value->is_number_integer() || value->get<int64_t>() < min || value->get<int64_t>() > max) {
    return Error(Field(path, key), Describe(*value) + " must be an integer from " +
                                       std::to_string(min) + " to " + std::to_string(max));
  }
  return std::optional<int64_t>(value->get<int64_t>());
}

Result<std::string> StringValue(const StepInput& in, const Json& object, const char* key,
                                const std::string& path) {
  const Json* value = Member(object, key);
  if (value == nullptr) return std::string();
  return RenderValue(*value, in.names, Field(path, key));
}

Status CompileInput(const StepInput& in, const Json& args, const std::string& at, Step* step) {
  const std::string path = Field(at, "TransformInput");
  auto input = Object(args, "TransformInput", at);
  if (!input.ok()) return input.status();
  if (*input == nullptr) return Error(path, "required");
  const std::string source_path = Field(path, "DataSource.S3DataSource");
  const Json* source = Member(Member(**input, "DataSource"), "S3DataSource");
  if (source == nullptr) return Error(source_path, "required (the S3 data to transform)");
  auto type = OneOf(*source, "S3DataType", source_path, {"S3Prefix"});
  if (!type.ok()) {
    return Error(Field(source_path, "S3DataType"),
                 "only S3Prefix is supported by Stepline (a manifest of objects is not): list "
                 "the objects under one prefix");
  }
  const Json* uri = Member(*source, "S3Uri");
  if (uri == nullptr) return Error(Field(source_path, "S3Uri"), "required");
  auto text = RenderValue(*uri, in.names, Field(source_path, "S3Uri"));
  if (!text.ok()) return text.status();
  WarnUnused(in, *source, {"S3DataType", "S3Uri"}, source_path);
  Artifact a;
  a.name = "input";
  a.path = kInputPath;
  a.s3 = *text;
  step->input_artifacts.push_back(std::move(a));
  auto compression = OneOf(**input, "CompressionType", path, {"None"});
  if (!compression.ok()) {
    return Error(Field(path, "CompressionType"),
                 "compressed input is not supported by Stepline: store it uncompressed");
  }
  auto split = OneOf(**input, "SplitType", path, {"None", "Line", "RecordIO", "TFRecord"});
  if (!split.ok()) return split.status();
  auto content = StringValue(in, **input, "ContentType", path);
  if (!content.ok()) return content.status();
  step->transform->split_type = *split;
  step->transform->content_type = *content;
  WarnUnused(in, **input, {"DataSource", "ContentType", "CompressionType", "SplitType"}, path);
  return Status::Ok();
}

Status CompileOutput(const StepInput& in, const Json& args, const std::string& at, Step* step) {
  const std::string path = Field(at, "TransformOutput");
  auto output = Object(args, "TransformOutput", at);
  if (!output.ok()) return output.status();
  if (*output == nullptr) return Error(path, "required");
  const Json* uri = Member(**output, "S3OutputPath");
  if (uri == nullptr) return Error(Field(path, "S3OutputPath"), "required");
  auto text = RenderValue(*uri, in.names, Field(path, "S3OutputPath"));
  if (!text.ok()) return text.status();
  std::string s3 = *text;
  while (s3.size() > 5 && s3.back() == '/') s3.pop_back();
  Artifact a;
  a.name = "output";
  a.path = kOutputPath;
  a.s3 = s3;
  step->output_artifacts.push_back(std::move(a));
  auto assemble = OneOf(**output, "AssembleWith", path, {"None", "Line"});
  if (!assemble.ok()) return assemble.status();
  auto accept = StringValue(in, **output, "Accept", path);
  if (!accept.ok()) return accept.status();
  step->transform->assemble_with = *assemble;
  step->transform->accept = *accept;
  WarnUnused(in, **output, {"S3OutputPath", "Accept", "AssembleWith"}, path);
  return Status::Ok();
}

// BatchStrategy, MaxPayloadInMB, MaxConcurrentTransforms, ModelClientConfig.
Status CompileBatching(const StepInput& in, const Json& args, const std::string& at, Step* step) {
  TransformSpec& t = *step->transform;
  auto strategy = OneOf(args, "BatchStrategy", at, {"MultiRecord", "SingleRecord"});
  if (!strategy.ok()) return strategy.status();
  t.batch_strategy = *strategy;
  auto payload = IntegerIn(args, "MaxPayloadInMB", at, 0, kMaxPayloadInMB);
  if (!payload.ok()) return payload.status();
  t.max_payload_in_mb = *payload;
  if (t.max_payload_in_mb == 0 && !t.split_type.empty() && t.split_type != "None") {
    return Error(Field(at, "MaxPayloadInMB"),
                 "0 (no limit) needs TransformInput.SplitType None: records are batched up to "
                 "the limit");
  }
  auto concurrent = IntegerIn(args, "MaxConcurrentTransforms", at, 0, 1000);
  if (!concurrent.ok()) return concurrent.status();
  if (concurrent->value_or(1) != 1) {
    in.warnings->push_back(Field(at, "MaxConcurrentTransforms") +
                           ": Stepline sends one request at a time (as MaxConcurrentTransforms 1)");
  }
  auto client = Object(args, "ModelClientConfig", at);
  if (!client.ok()) return client.status();
  if (*client != nullptr) {
    const std::string path = Field(at, "ModelClientConfig");
    auto timeout = IntegerIn(**client, "InvocationsTimeoutInSeconds", path, 1, 3600);
    if (!timeout.ok()) return timeout.status();
    auto retries = IntegerIn(**client, "InvocationsMaxRetries", path, 0, 3);
    if (!retries.ok()) return retries.status();
    t.invocations_timeout_in_seconds = *timeout;
    t.invocations_max_retries = *retries;
    WarnUnused(in, **client, {"InvocationsTimeoutInSeconds", "InvocationsMaxRetries"}, path);
  }
  return Status::Ok();
}

// DataProcessing: only its defaults (the whole input, the whole answer) are supported.
Status CompileDataProcessing(const Json& args, const std::string& at) {
  const Json* dp = Member(args, "DataProcessing");
  if (dp == nullptr) return Status::Ok();
  const std::string path = Field(at, "DataProcessing");
  if (!dp->is_object()) return Error(path, "must be an object");
  for (auto it = dp->begin(); it != dp->end(); ++it) {
    const bool fallback =
        (it.key() == "JoinSource" && it.value() == "None") ||
        ((it.key() == "InputFilter" || it.key() == "OutputFilter") && it.value() == "$");
    if (!fallback) {
      return Error(Field(path, it.key()),
                   Describe(it.value()) +
                       " is not supported by Stepline (input and output filters and joins are "
                       "not applied): filter or join the data in a Processing step");
    }
  }
  return Status::Ok();
}

// SAGEMAKER_BIND_TO_PORT in the container's environment: the port the model server listens on
// (SageMaker's inference pipelines set it), else 8080.
void CompilePort(Step* step) {
  for (const EnvVar& e : step->env) {
    if (e.name != "SAGEMAKER_BIND_TO_PORT" || !e.value || e.value->empty() || e.value->size() > 5) {
      continue;
    }
    bool digits = true;
    for (char c : *e.value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits && std::stoi(*e.value) > 0 && std::stoi(*e.value) < 65536) {
      step->transform->port = std::stoi(*e.value);
    }
  }
}

}  // namespace

std::string ModelNameStep(const Json& model_name) {
  const Json* get = Member(model_name, "Get");
  std::string text = get != nullptr && get->is_string() ? get->get<std::string>() : "";
  for (std::string_view suffix : {".Properties.ModelName", ".ModelName"}) {
    if (text.starts_with("Steps.") && text.ends_with(suffix) && text.size() > 6 + suffix.size()) {
      return text.substr(6, text.size() - 6 - suffix.size());
    }
  }
  return "";
}

k8s::Status CompileTransform(const StepInput& in, Step* step) {
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  const std::string at = Field(in.path, "Arguments");
  step->transform.emplace();
  auto model = ModelStep(in, **args, at);
  if (!model.ok()) return model.status();
  Status status = CompileModelServer(in, *model, step);
  if (status.ok()) status = CompileInput(in, **args, at, step);
  if (status.ok()) status = CompileOutput(in, **args, at, step);
  if (status.ok()) status = CompileBatching(in, **args, at, step);
  if (status.ok()) status = CompileDataProcessing(**args, at);
  if (status.ok()) {
    // the transform job's Environment overrides the model's
    status = AppendEnvironment(in, Member(**args, "Environment"), Field(at, "Environment"), nullptr,
                               true, step);
  }
  if (status.ok()) {
    status = CompileInstances(in, Member(**args, "TransformResources"),
                              Field(at, "TransformResources"), step);
  }
  if (!status.ok()) return status;
  CompilePort(step);
  WarnUnused(in, **args,
             {"ModelName", "TransformInput", "TransformOutput", "TransformResources",
              "BatchStrategy", "MaxPayloadInMB", "MaxConcurrentTransforms", "ModelClientConfig",
              "DataProcessing", "Environment"});
  return Status::Ok();
}

}  // namespace stepline::reconcilers::sagemaker
