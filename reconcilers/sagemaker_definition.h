// Compiles a SageMaker pipeline definition (format version 2020-12-01: the JSON that SageMaker's
// CreatePipeline and the ACK controller take, and that spec.pipelineDefinition holds) into
// Stepline's own parameters and steps, so the rest of Stepline runs it like spec.steps
// (DESIGN.md section 1: "Both compile to the same internal step graph").
//
// Parameters [{Name, Type, DefaultValue}] become parameters of the same name and type (String
// when Type is absent); DefaultValue is rendered as text (1000 -> "1000", true -> "true"); no
// DefaultValue means the parameter is required.
//
// Step types:
//   Processing  AppSpecification.ImageUri -> image, ContainerEntrypoint -> command,
//               ContainerArguments -> args, Environment -> env
//   Training    AlgorithmSpecification.TrainingImage -> image (ContainerEntrypoint/Arguments as
//               above; AlgorithmName is an error), Environment -> env, HyperParameters -> env
//               SM_HP_<NAME> (upper case, characters other than letters and digits as '_')
//     both:     StoppingCondition.MaxRuntimeInSeconds -> timeoutSeconds (an integer, or a Get of
//               an Integer parameter, applied per execution); ClusterConfig /
//               ResourceConfig (InstanceType, InstanceCount, VolumeSizeInGB); ProcessingInputs,
//               ProcessingOutputConfig, InputDataConfig and OutputDataConfig -> input and output
//               artifacts (sagemaker_channels.cc); the configuration files SageMaker writes
//               (hyperparameters.json, ...) -> raw input artifacts (sagemaker_config.cc); the
//               fields Stepline has no use for (VPC, ...) only give a warning
//   Fail        Arguments.ErrorMessage -> a Fail step's message
//   Callback    an Approval step (answered through the execution's spec.signals; its
//               OutputParameters' names become the step's declared outputs)
//   Condition   no step of its own: each step of IfSteps gets `when: <conditions>`, each of
//               ElseSteps `when: !(<conditions>)`, joined by && to the `when` they already have,
//               and they depend on the condition's own dependencies (a DependsOn that names the
//               condition means its dependencies too). IfSteps/ElseSteps hold step definitions
//               (what the SageMaker SDK writes) or names of steps defined elsewhere.
//               Conditions (all must hold): Equals ==, GreaterThan >, GreaterThanOrEqualTo >=,
//               LessThan <, LessThanOrEqualTo <=, In (QueryValue in [Values]), Not !(..),
//               Or (.. || ..). Not's condition is its Expression (or Condition, which some
//               SDK versions write).
//   Model       a Record step (no Job; succeeds at once, sagemaker_records.cc) with outputs
//               image and modelDataUrl: PrimaryContainer.Image / .ModelDataUrl; a warning that
//               no SageMaker model is created (Containers without PrimaryContainer: an error)
//   RegisterModel  a Record step with outputs modelPackageGroupName, modelApprovalStatus
//               (default PendingManualApproval), image and modelDataUrl (the first
//               InferenceSpecification.Containers entry); a warning that nothing is registered
//   Lineage     a Record step with no outputs; a warning that lineage is not tracked
//   Transform   a batch transform (sagemaker_transform.cc, transform_job.h): ModelName must be
//               {"Get": "Steps.M.ModelName"} of a Model step M; M's PrimaryContainer Image runs
//               with args [serve] and its Environment (then the Transform's) as the model
//               server, ModelDataUrl -> input artifact "model" unpacked into /opt/ml/model,
//               TransformInput S3Uri -> input artifact "input", TransformOutput.S3OutputPath ->
//               output artifact "output", TransformResources as ResourceConfig, ContentType,
//               SplitType, BatchStrategy, MaxPayloadInMB, Accept, AssembleWith and
//               ModelClientConfig -> the step's transform spec; a literal ModelName, a manifest,
//               compressed input and DataProcessing filters are errors
//   Lambda      a call of the function over HTTP (sagemaker_lambda.cc, function_job.h): the
//               function's name (the last part of FunctionArn; a version or alias is ignored,
//               with a warning) is the key of its URL in the namespace's ConfigMap
//               stepline-functions; Arguments -> the event POSTed as JSON (strings and Get /
//               Std:Join values as text, numeric and boolean parameters and literals as JSON;
//               a Get inside a nested value is an error); OutputParameters -> the step's outputs,
//               read from the members of the JSON answer (a missing one fails the step)
//   anything else (Tuning, EMR, ClarifyCheck, QualityCheck, AutoML,
//   Notebook, ...): an error naming the step and its type, and what to use instead. So is a
//   Training step with ServerlessJobConfig (no container to run).
//
// Values (strings, numbers, booleans as their text):
//   {"Get": "Parameters.X"}                         {{parameters.X}}
//   {"Get": "Execution.PipelineExecutionId"}         {{execution.name}}
//   {"Get": "Execution.PipelineExecutionArn"}        {{execution.name}}
//   {"Get": "Execution.StartDateTime"}               {{execution.startTime}}
//   {"Get": "Steps.S.Properties.ProcessingOutputConfig.Outputs['N'].S3Output.S3Uri"}
//                                                    {{steps.s.artifacts.N.uri}}
//   {"Get": "Steps.S.Properties.FinalMetricDataList['N'].Value"}  {{steps.s.outputs.N}}
//   {"Get": "Steps.S.Properties.ModelArtifacts.S3ModelArtifacts"}
//                                                    {{steps.s.artifacts.model.uri}}
//   {"Get": "Steps.S.OutputParameters['N']"}         {{steps.s.outputs.N}}
//   {"Get": "Steps.S.Properties.TransformOutput.S3OutputPath"}
//                                                    {{steps.s.artifacts.output.uri}} (a Transform)
//   {"Get": "Steps.S.Properties.TrainingJobName"}    {{steps.s.jobName}} (a Training step)
//   {"Get": "Steps.S.Properties.ProcessingJobName"}  {{steps.s.jobName}} (a Processing step):
//                                                    the step's Job of its latest attempt
//   {"Get": "Steps.S.Properties.PrimaryContainer.Image"} (a Model step) {{steps.s.outputs.image}}
//     and the other recorded properties of Model and RegisterModel steps (sagemaker_records.cc);
//     any other property of them (ModelName, ModelPackageArn, ...) is an error
//   (each Steps.S.Properties.P also as Steps.S.P, the form the SageMaker SDK writes)
//   {"Std:Join": {"On": ",", "Values": [...]}}       the rendered values joined by On
// (a step's outputs are the JSON object it writes to /dev/termination-log, DESIGN.md section 2).
//   {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.S.PropertyFiles.F"}, "Path": "a.b[0]"}}
//                                                    {{steps.s.outputs.F.a.b.0}}
// (a Processing step with PropertyFiles publishes each file as its output F: see
// CompileProcessing in sagemaker_steps.cc). Any other Get and a literal containing "{{" are
// errors naming the value. Every Get of "Steps.S..." anywhere in a step's Arguments (even in
// fields that are not mapped) makes the step depend on S, as in SageMaker.
//
// RetryPolicies -> retryPolicy. ExceptionType (and FailureType, which the SDK folds into it):
//   Step.SERVICE_FAULT            Disrupted      (the platform failed while running the step)
//   SageMaker.JOB_INTERNAL_ERROR  Disrupted      (the job failed through no fault of its own)
//   SageMaker.CAPACITY_ERROR      Unschedulable  (no node with the capacity the step asks for)
//   Step.THROTTLING               none: the controller retries throttled API calls itself
//   SageMaker.RESOURCE_LIMIT      none: a ResourceQuota refusal (QuotaExceeded) is always a wait
// SageMaker's MaxAttempts counts retries, Stepline's maxAttempts all attempts: maxAttempts =
// MaxAttempts + 1 (SageMaker's default MaxAttempts 5 when neither it nor ExpireAfterMin is
// given; 21, SageMaker's cap of 20 retries, when only ExpireAfterMin is); ExpireAfterMin ->
// expireAfterMinutes; IntervalSeconds (default 1) and BackoffRate (default 2) as they are. A
// step keeps one policy: the numbers of the first policy that maps to a failure class, the
// classes of all. A policy whose types all map to none gives no retryPolicy, and a warning.
// CacheConfig {Enabled, ExpireAfter} of a Processing or Training step becomes the step's cache
// (step_cache.h); on other steps it is ignored with a warning, as are PropertyFiles on steps
// other than Processing.
//
// Step names: SageMaker allows names a Stepline step may not have; each name becomes a lower-case
// DNS-1123 label of at most kMaxStepNameLength characters ("AbaloneProcess" ->
// "abalone-process"); a name that is too long or would be shared by two steps keeps a prefix and
// ends in "-" + a 10-character hash of the SageMaker name. Dependencies and references use the
// new names; a warning says which step got which name.
//
// Pure: no I/O, no clock. Safe to call from several threads at once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8sclient/status.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

inline constexpr const char* kSageMakerDefinitionVersion = "2020-12-01";

// A step field that a run parameter gives ({"Get": "Parameters.X"}): known only when an
// execution resolves its parameters (ApplyParameterFields).
struct ParameterField {
  enum class Kind {
    kTimeout,        // MaxRuntimeInSeconds: a positive integer
    kInstanceType,   // InstanceType: a known ml.* type (sagemaker_instances.h)
    kInstanceCount,  // InstanceCount: 1
  };
  Kind kind = Kind::kTimeout;
  std::string step;       // the Stepline step
  std::string parameter;  // the parameter
  std::string path;       // "Steps[0] (Train).Arguments.StoppingCondition.MaxRuntimeInSeconds"
};

struct CompiledDefinition {
  std::vector<Parameter> parameters;
  std::vector<Step> steps;  // in declaration order (a Condition's branches in its place); empty
                            // when the definition has only Condition steps
  std::vector<std::string> warnings;  // "<path>: <what>": renamed steps, ignored fields
  std::vector<ParameterField> parameter_fields;
};

struct SageMakerCompileOptions {
  // A Training step whose Arguments give no image becomes a Fail step that fails the execution
  // when its turn comes, as the step fails in SageMaker (CreateTrainingJob's ValidationException),
  // with a warning. False: it stays a Container step without image (stepDefaults.image gives it).
  bool fail_steps_without_image = false;
};

// The options for a Pipeline: fail_steps_without_image unless its stepDefaults give an image.
// spec: the Pipeline's spec as parsed, or as JSON (the Pipeline reconciler's raw object).
SageMakerCompileOptions CompileOptionsFor(const PipelineSpec& spec);
SageMakerCompileOptions CompileOptionsFor(const Json& spec);

// definition: a JSON object, or a string holding one. Errors are Invalid "<path>: <what>", the
// path inside the definition, e.g.
//   Steps[2] (Deploy): step type "RegisterModel" is not supported by Stepline (...)
// Callers add the field's own path ("spec.pipelineDefinition: ").
k8s::Result<CompiledDefinition> CompileSageMakerDefinition(
    const Json& definition, const SageMakerCompileOptions& options = {});

// Sets each step field a parameter gives; values: the execution's resolved parameters (a
// parameter without a value is skipped). A value that does not fit (no positive integer, an
// unknown instance type, an instance count other than 1) is InvalidArgument, naming the
// parameter, the value and the definition's field.
k8s::Status ApplyParameterFields(const std::vector<ParameterField>& fields,
                                 const std::map<std::string, std::string>& values,
                                 std::vector<Step>* steps);

}  // namespace stepline::reconcilers
