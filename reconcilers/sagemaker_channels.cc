// SageMaker's data channels as step artifacts (docs/api.md, "Artifacts"): what SageMaker
// downloads before a job and uploads after it is what Stepline's staging does.
//   ProcessingInputs[].S3Input {S3Uri, LocalPath}   -> an input artifact named InputName at
//                                                       LocalPath/ (a directory: an object lands
//                                                       in it under its own name, a prefix's
//                                                       objects below it, as S3Prefix does)
//   ProcessingOutputConfig.Outputs[].S3Output        -> an output artifact named OutputName,
//                                                       LocalPath/ uploaded under S3Uri
//   InputDataConfig[] {ChannelName, S3DataSource}    -> an input artifact named ChannelName at
//                                                       /opt/ml/input/data/CHANNEL/
//   OutputDataConfig.S3OutputPath                    -> the output artifact "model": /opt/ml/model
//                                                       as one archive, S3OutputPath/
//                                                       EXECUTION-STEP/output/model.tar.gz
//                                                       (CompressionType NONE: the directory,
//                                                       .../output/model/)
// An S3Uri that is exactly another step's ProcessingOutputConfig output becomes `from` that
// artifact. The values SageMaker's own defaults give (S3Prefix, File, FullyReplicated, None,
// EndOfJob, AppManaged false) are what Stepline does; ManifestFile / AugmentedManifestFile data
// types and compressed inputs are errors, other modes and options a warning.
#include <map>
#include <string>
#include <vector>

#include "reconcilers/artifact_repository.h"
#include "reconcilers/sagemaker_internal.h"

namespace stepline::reconcilers::sagemaker {
namespace {

using k8s::Result;
using k8s::Status;

constexpr const char* kChannelRoot = "/opt/ml/input/data/";
constexpr const char* kModelDirectory = "/opt/ml/model/";

std::string TextOf(const Json* value) {
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

// A name a Stepline artifact may have, from the definition's InputName / OutputName / ChannelName.
Result<std::string> ArtifactName(const Json& entry, const char* key, const std::string& path) {
  std::string name = TextOf(Member(entry, key));
  std::string problem = ArtifactNameProblem(name);
  if (!problem.empty()) return Error(Field(path, key), problem);
  return name;
}

// {{steps.S.artifacts.N.uri}} and nothing else: another step's output artifact.
bool IsArtifactUri(const std::string& t) {
  return t.starts_with("{{steps.") && t.ends_with(".uri}}") &&
         t.find("{{", 2) == std::string::npos && t.find(".artifacts.") != std::string::npos;
}

// The S3Uri rendered; a literal part is checked here, so that the error names the field.
// key_required false: "s3://BUCKET" or "s3://BUCKET/" will do (more is appended).
Result<std::string> S3UriOf(const Json* uri, const Names& names, const std::string& path,
                            bool key_required = true) {
  if (uri == nullptr) return Error(path, "required");
  auto text = RenderValue(*uri, names, path);
  if (!text.ok() || IsArtifactUri(*text)) return text;
  const size_t open = text->find("{{");
  std::string problem =
      S3UriProblem(text->substr(0, open), open != std::string::npos || !key_required);
  if (!problem.empty() && text->find('<') != std::string::npos) {
    problem += " (a placeholder such as <YOUR_BUCKET_NAME>: put your bucket's name there)";
  }
  if (!problem.empty()) return Error(path, problem);
  return text;
}

// An input's source: `from` when the S3Uri is exactly an upstream output artifact's URI.
Status SetInputSource(const Json* uri, const Names& names, const std::string& path, Artifact* a) {
  auto text = S3UriOf(uri, names, path);
  if (!text.ok()) return text.status();
  if (IsArtifactUri(*text)) {
    a->from = text->substr(0, text->size() - 6) + "}}";
  } else {
    a->s3 = *text;
  }
  return Status::Ok();
}

Result<std::string> LocalDirectory(const Json& entry, const std::string& path) {
  std::string local = TextOf(Member(entry, "LocalPath"));
  while (local.size() > 1 && local.back() == '/') local.pop_back();
  std::string problem = ArtifactPathProblem(local);
  if (!problem.empty()) return Error(Field(path, "LocalPath"), problem);
  return local + "/";
}

// The options of an S3 input or output: those that change what the data is are errors, the
// others (modes, distribution, KMS keys, ...) a warning when not SageMaker's default.
Status CheckOptions(const Json& source, const std::string& path,
                    std::vector<std::string>* warnings) {
  static const std::map<std::string, std::string> kDefaults = {
      {"S3DataType", "S3Prefix"},
      {"S3InputMode", "File"},
      {"S3CompressionType", "None"},
      {"S3DataDistributionType", "FullyReplicated"},
      {"S3UploadMode", "EndOfJob"},
      {"LocalPath", ""},
      {"S3Uri", ""}};
  std::string ignored;
  for (auto it = source.begin(); it != source.end(); ++it) {
    auto known = kDefaults.find(it.key());
    if (known != kDefaults.end() && (known->second.empty() || it.value() == known->second)) {
      continue;
    }
    if (it.key() == "S3DataType" || it.key() == "S3CompressionType") {
      return Error(Field(path, it.key()), Describe(it.value()) +
                                              " is not supported by Stepline (it stages " +
                                              known->second + " data)");
    }
    ignored += (ignored.empty() ? "" : ", ") + it.key() + " " + Describe(it.value());
  }
  if (!ignored.empty()) {
    warnings->push_back(path +
                        ": not used by Stepline (data is staged as S3Prefix, File, "
                        "FullyReplicated, uploaded at the end): " +
                        ignored);
  }
  return Status::Ok();
}

// A list member of args (absent: empty).
Result<const Json*> ListOf(const Json* parent, const char* key, const std::string& path) {
  static const Json kEmpty = Json::array();
  const Json* list = Member(parent, key);
  if (list == nullptr) return &kEmpty;
  if (!list->is_array()) return Error(Field(path, key), "must be a list");
  return list;
}

Status CompileProcessingInput(const StepInput& in, const Json& entry, const std::string& path,
                              Step* step) {
  if (Member(entry, "S3Input") == nullptr) {
    return Error(path,
                 "only S3Input is supported by Stepline (DatasetDefinition is not): "
                 "export the data set to S3 and give its S3Uri");
  }
  const Json& s3 = *Member(entry, "S3Input");
  const std::string at = Field(path, "S3Input");
  Artifact a;
  auto name = ArtifactName(entry, "InputName", path);
  if (!name.ok()) return name.status();
  a.name = *name;
  auto local = LocalDirectory(s3, at);
  if (!local.ok()) return local.status();
  a.path = *local;
  Status status = SetInputSource(Member(s3, "S3Uri"), in.names, Field(at, "S3Uri"), &a);
  if (!status.ok()) return status;
  status = CheckOptions(s3, at, in.warnings);
  if (!status.ok()) return status;
  step->input_artifacts.push_back(std::move(a));
  return Status::Ok();
}

Status CompileProcessingOutput(const StepInput& in, const Json& entry, const std::string& path,
                               Step* step) {
  const Json* s3 = Member(entry, "S3Output");
  if (s3 == nullptr) {
    return Error(path, "only S3Output is supported by Stepline (FeatureStoreOutput is not)");
  }
  const std::string at = Field(path, "S3Output");
  Artifact a;
  auto name = ArtifactName(entry, "OutputName", path);
  if (!name.ok()) return name.status();
  a.name = *name;
  auto local = LocalDirectory(*s3, at);
  if (!local.ok()) return local.status();
  a.path = *local;
  auto uri = S3UriOf(Member(*s3, "S3Uri"), in.names, Field(at, "S3Uri"));
  if (!uri.ok()) return uri.status();
  a.s3 = *uri;
  Status status = CheckOptions(*s3, at, in.warnings);
  if (!status.ok()) return status;
  step->output_artifacts.push_back(std::move(a));
  return Status::Ok();
}

Status CompileChannel(const StepInput& in, const Json& entry, const std::string& path, Step* step) {
  const Json* s3 = Member(Member(entry, "DataSource"), "S3DataSource");
  if (s3 == nullptr) {
    return Error(Field(path, "DataSource"),
                 "only S3DataSource is supported by Stepline (not FileSystemDataSource)");
  }
  const std::string at = Field(Field(path, "DataSource"), "S3DataSource");
  Artifact a;
  auto name = ArtifactName(entry, "ChannelName", path);
  if (!name.ok()) return name.status();
  a.name = *name;
  a.path = kChannelRoot + a.name + "/";
  Status status = SetInputSource(Member(*s3, "S3Uri"), in.names, Field(at, "S3Uri"), &a);
  if (!status.ok()) return status;
  status = CheckOptions(*s3, at, in.warnings);
  if (!status.ok()) return status;
  step->input_artifacts.push_back(std::move(a));
  return Status::Ok();
}

}  // namespace

k8s::Status CompileModelOutput(const StepInput& in, const Json& args, Step* step) {
  const std::string path = Field(Field(in.path, "Arguments"), "OutputDataConfig");
  const Json* config = Member(args, "OutputDataConfig");
  if (config == nullptr) return Status::Ok();
  // The bucket alone is a valid S3OutputPath: the job's name follows.
  auto base = S3UriOf(Member(*config, "S3OutputPath"), in.names, Field(path, "S3OutputPath"),
                      /*key_required=*/false);
  if (!base.ok()) return base.status();
  const bool compressed = TextOf(Member(*config, "CompressionType")) != "NONE";
  Artifact a;
  a.name = "model";
  a.path = kModelDirectory;
  a.s3 = *base + (base->ends_with("/") ? "" : "/") + "{{execution.name}}-" + step->name +
         (compressed ? "/output/model.tar.gz" : "/output/model/");
  a.archive = compressed ? "tgz" : "";
  step->output_artifacts.push_back(std::move(a));
  std::string ignored;
  for (auto it = config->begin(); it != config->end(); ++it) {
    if (it.key() == "S3OutputPath" || it.key() == "CompressionType") continue;
    ignored += (ignored.empty() ? "" : ", ") + it.key() + " " + Describe(it.value());
  }
  if (!ignored.empty()) in.warnings->push_back(path + ": not used by Stepline: " + ignored);
  return Status::Ok();
}

k8s::Status CompileProcessingData(const StepInput& in, const Json& args, Step* step) {
  const std::string path = Field(in.path, "Arguments");
  auto inputs = ListOf(&args, "ProcessingInputs", path);
  if (!inputs.ok()) return inputs.status();
  for (size_t i = 0; i < (*inputs)->size(); ++i) {
    Status status =
        CompileProcessingInput(in, (**inputs)[i], Item(Field(path, "ProcessingInputs"), i), step);
    if (!status.ok()) return status;
  }
  const std::string config = Field(path, "ProcessingOutputConfig");
  auto outputs = ListOf(Member(args, "ProcessingOutputConfig"), "Outputs", config);
  if (!outputs.ok()) return outputs.status();
  for (size_t i = 0; i < (*outputs)->size(); ++i) {
    Status status =
        CompileProcessingOutput(in, (**outputs)[i], Item(Field(config, "Outputs"), i), step);
    if (!status.ok()) return status;
  }
  if (const Json* key = Member(Member(args, "ProcessingOutputConfig"), "KmsKeyId")) {
    in.warnings->push_back(Field(config, "KmsKeyId") + ": not used by Stepline: " + Describe(*key));
  }
  return Status::Ok();
}

k8s::Status CompileTrainingChannels(const StepInput& in, const Json& args, Step* step) {
  const std::string path = Field(in.path, "Arguments");
  auto channels = ListOf(&args, "InputDataConfig", path);
  if (!channels.ok()) return channels.status();
  for (size_t i = 0; i < (*channels)->size(); ++i) {
    Status status =
        CompileChannel(in, (**channels)[i], Item(Field(path, "InputDataConfig"), i), step);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace stepline::reconcilers::sagemaker
