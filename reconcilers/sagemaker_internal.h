// The pieces of CompileSageMakerDefinition (sagemaker_definition.h), shared by its files:
// values and conditions (sagemaker_values.cc), step types and retry policies
// (sagemaker_steps.cc), data channels (sagemaker_channels.cc). Not an interface for other modules.
//
// Every error is Invalid "<path>: <what>", path inside the definition. Pure; thread-compatible.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "k8sclient/status.h"
#include "reconcilers/api_types.h"
#include "reconcilers/sagemaker_definition.h"

namespace stepline::reconcilers::sagemaker {

// Nesting of values, conditions and Arguments deeper than this is an error, never a deep
// recursion.
inline constexpr int kMaxNesting = 64;

// The names a definition declares, which values are compiled against.
struct Names {
  std::set<std::string> parameters;
  std::map<std::string, ParameterType> parameter_types;  // the typed ones (String when absent)
  std::map<std::string, std::string> steps;  // SageMaker step name -> Stepline step name
  std::map<std::string, std::string> types;  // SageMaker step name -> its Type
  std::set<std::string> conditions;          // Condition steps: no Stepline step of their own
  // SageMaker step name -> its PropertyFiles' names
  std::map<std::string, std::set<std::string>> property_files;
  // SageMaker step name -> its step object and its path ("Steps[1] (Train)"): what a step may
  // read of another (a Transform step, its Model step's container)
  std::map<std::string, const Json*> jsons;
  std::map<std::string, std::string> paths;
  // The Model steps a Transform step runs (their PrimaryContainer.Environment is used).
  std::set<std::string> served_models;
};

k8s::Status Error(const std::string& path, const std::string& what);
// "\"text\"": for messages.
std::string Quote(const std::string& text);
// A value in a message: a string quoted, a number or boolean as JSON, else "an object" or "a
// list" (never a deep dump of hostile input).
std::string Describe(const Json& value);
// The member of a JSON object, or nullptr when object is no object (or nullptr) or lacks it (or
// it is null).
const Json* Member(const Json& object, const char* key);
const Json* Member(const Json* object, const char* key);
// Letters, digits, '_' and '-': what a Stepline reference may name.
bool IsReferenceName(std::string_view text);
// path + "." + key / path + "[index]".
std::string Field(const std::string& path, const std::string& key);
std::string Item(const std::string& path, size_t index);

// ---- values (sagemaker_values.cc) ----

// A value as Stepline template text: literals as their text, Get and Std:Join as described in
// sagemaker_definition.h.
k8s::Result<std::string> RenderValue(const Json& value, const Names& names,
                                     const std::string& path);
// A JSON list of values; absent (nullptr) is an empty list.
k8s::Result<std::vector<std::string>> RenderList(const Json* list, const Names& names,
                                                 const std::string& path);
// A ConditionStep's Conditions (all must hold) as a `when` expression whose top level has no
// `||`, so that `a && <it>` and `!(<it>)` keep their meaning.
k8s::Result<std::string> RenderConditions(const Json& conditions, const Names& names,
                                          const std::string& path);
// Appends the step S of every {"Get": "Steps.S..."} inside value (in order, each once).
k8s::Status CollectStepReferences(const Json& value, const std::string& path,
                                  std::vector<std::string>* steps);

// ---- step types (sagemaker_steps.cc) ----

struct StepInput {
  const Json& json;  // the SageMaker step object
  std::string path;  // "Steps[1] (Train)"
  std::string name;  // its SageMaker name
  const Names& names;
  std::vector<std::string>* warnings;
  std::vector<ParameterField>* fields;  // fields that run parameters give
  bool fail_without_image = false;      // SageMakerCompileOptions::fail_steps_without_image
};

k8s::Status CompileProcessing(const StepInput& in, Step* step);
k8s::Status CompileTraining(const StepInput& in, Step* step);
k8s::Status CompileFail(const StepInput& in, Step* step);
// The step's Arguments object; an absent one reads as empty.
k8s::Result<const Json*> Arguments(const StepInput& in);
// An optional object member of args (path: where args is).
k8s::Result<const Json*> Object(const Json& args, const char* key, const std::string& path);
// ClusterConfig / ResourceConfig / TransformResources (config: nullptr when absent):
// InstanceType -> resources (sagemaker_instances.h), InstanceCount 1; a warning for the rest.
k8s::Status CompileInstances(const StepInput& in, const Json* config, const std::string& path,
                             Step* step);
// Appends the names and values of map (an Environment-like object at path; nullptr: none) to
// the step's env, each name through rename when given; with replace, a name already there gets
// the new value in its place instead.
k8s::Status AppendEnvironment(const StepInput& in, const Json* map, const std::string& path,
                              std::string (*rename)(const std::string&), bool replace, Step* step);
// One warning naming the members of args (at path; "": the step's Arguments) that are not in
// used.
void WarnUnused(const StepInput& in, const Json& args, std::initializer_list<std::string_view> used,
                const std::string& path = "");

// ---- steps that run no Job (sagemaker_records.cc): Record steps ----

// Model: its PrimaryContainer's Image and ModelDataUrl recorded as outputs image, modelDataUrl.
k8s::Status CompileModel(const StepInput& in, Step* step);
// RegisterModel: its package group, approval status and first container recorded.
k8s::Status CompileRegisterModel(const StepInput& in, Step* step);
// Lineage: nothing recorded (lineage is not tracked).
k8s::Status CompileLineage(const StepInput& in, Step* step);
// What a Get of property (after "Steps.S.", without "Properties.") of a Model or RegisterModel
// step reads, as the rest of {{steps.s.<it>}}; nullopt when Stepline has no such value.
std::optional<std::string> RecordedProperty(std::string_view type, std::string_view property);
// The properties RecordedProperty knows for type, for messages ("" for other types).
std::string RecordedProperties(std::string_view type);

// ---- batch transform (sagemaker_transform.cc) ----

// Transform: the Model step's container as the model server of a batch transform
// (TransformSpec), the input and output as artifacts "input" and "output", the model's
// ModelDataUrl as the artifact "model" unpacked into /opt/ml/model.
k8s::Status CompileTransform(const StepInput& in, Step* step);
// The step S of a Transform's ModelName {"Get": "Steps.S[.Properties].ModelName"}; "" for any
// other value.
std::string ModelNameStep(const Json& model_name);

// ---- data channels as artifacts (sagemaker_channels.cc) ----

// ProcessingInputs and ProcessingOutputConfig.Outputs -> the step's input and output artifacts.
k8s::Status CompileProcessingData(const StepInput& in, const Json& args, Step* step);
// InputDataConfig channels -> input artifacts at /opt/ml/input/data/CHANNEL/.
k8s::Status CompileTrainingChannels(const StepInput& in, const Json& args, Step* step);
// OutputDataConfig -> the output artifact "model" (/opt/ml/model as model.tar.gz).
k8s::Status CompileModelOutput(const StepInput& in, const Json& args, Step* step);
// ---- the configuration files SageMaker writes (sagemaker_config.cc) ----

// hyperparameters.json, resourceconfig.json and inputdataconfig.json in /opt/ml/input/config/,
// as raw input artifacts.
k8s::Status CompileTrainingConfigFiles(const StepInput& in, const Json& args, Step* step);
// processingjobconfig.json and resourceconfig.json in /opt/ml/config/, as raw input artifacts.
k8s::Status CompileProcessingConfigFiles(const StepInput& in, const Json& args, Step* step);

k8s::Status CompileCallback(const StepInput& in, Step* step);
// The step's OutputParameters [{OutputName}] as its declared outputs.
k8s::Status CompileOutputParameters(const StepInput& in, Step* step);

// ---- function calls (sagemaker_lambda.cc) ----

// Lambda: a call of the function over HTTP (FunctionSpec; reconcilers/function_job.h), its
// Arguments the event, its OutputParameters read from the answer.
k8s::Status CompileLambda(const StepInput& in, Step* step);
// The step's CacheConfig {Enabled, ExpireAfter (an ISO-8601 duration)} (nullptr: none) as the
// step's cache; nullopt when none is given.
k8s::Result<std::optional<StepCache>> CompileCacheConfig(const Json* config,
                                                         const std::string& path);
// The step's RetryPolicies (nullptr: none) as one Stepline policy; nullopt when none is needed.
k8s::Result<std::optional<RetryPolicy>> CompileRetryPolicies(const Json* policies,
                                                             const std::string& path,
                                                             std::vector<std::string>* warnings);

}  // namespace stepline::reconcilers::sagemaker
