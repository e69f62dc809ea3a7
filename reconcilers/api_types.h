// The typed API of stepline.dev/v1alpha1: Pipeline and PipelineExecution (DESIGN.md section 1),
// their JSON conversion, the merge of stepDefaults under a step, and Kubernetes conditions.
//
// Conventions of every struct here:
// - Field names follow the JSON names (pipelineName -> pipeline_name).
// - "Unset" is nullopt for numbers, booleans and enums, empty for strings, lists and maps; unset
//   fields are omitted when serialized (the canonical form), so Parse(ToJson(x)) == x and
//   ToJson(Parse(j)) == j for a canonical j.
// - `extra` holds the fields of that JSON object that the struct does not know (metadata's
//   annotations and ownerReferences, fields of a newer API version, ...), written back verbatim.
// - Parse functions check JSON types only (the CRD schema and the controller's validation check
//   values); an error is InvalidArgument "<field path>: <what>", e.g.
//   "spec.steps[2].retryPolicy.maxAttempts: must be an integer". They never throw.
//
// Plain values: safe to share between threads when not modified.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/status.h"
#include "reconcilers/api_json.h"

namespace stepline::reconcilers {

inline constexpr const char* kApiGroup = "stepline.dev";
inline constexpr const char* kApiVersion = "stepline.dev/v1alpha1";
inline constexpr const char* kPipelineKind = "Pipeline";
inline constexpr const char* kPipelineExecutionKind = "PipelineExecution";

// Bounds shared with the CRD schemas (crds/): keep them equal.
inline constexpr size_t kMaxSteps = 500;
inline constexpr size_t kMaxStepNameLength = 40;
// failedChildren / runningChildren of a fan-out step record at most this many entries each;
// ToJson drops the rest, so status stays far below etcd's object size limit.
inline constexpr size_t kMaxChildDetails = 50;

// The bounds of the numeric fields, the same in the CRD schemas (admission) and in the planner,
// which saturates at them should an object predate the schema's bounds.
inline constexpr int64_t kMaxTimeoutSeconds = 31'536'000;       // a year
inline constexpr int64_t kMaxRetryAttempts = 1000;              // retryPolicy.maxAttempts
inline constexpr int64_t kMaxRetryIntervalSeconds = 2'592'000;  // 30 days
inline constexpr int64_t kMaxExpireAfterMinutes = 525'600;      // a year
inline constexpr double kMaxBackoffRate = 1000;                 // retryPolicy.backoffRate
inline constexpr int64_t kMaxParallelism = 10'000;              // maxParallel(ExecutionSteps)
// inputs.artifacts[].raw.data, rendered: an init container's environment variable holds it, and
// Linux limits one to 128 KiB.
inline constexpr size_t kMaxRawArtifactBytes = 65'536;

// value clamped into [lo, hi].
constexpr int64_t Saturate(int64_t value, int64_t lo, int64_t hi) {
  return value < lo ? lo : (value > hi ? hi : value);
}

// ---- enums and their API spellings ----

enum class ParameterType { kString, kInteger, kFloat, kBoolean, kList };
enum class StepType { kContainer, kApproval, kFail, kNotebook, kRecord };
enum class OnFailure { kFail, kContinue };
enum class SignalOutcome { kSucceeded, kFailed };
enum class ExecutionStatus { kPending, kExecuting, kStopping, kStopped, kFailed, kSucceeded };
// The run has ended: Succeeded, Failed or Stopped (the one definition every reader uses).
inline bool IsFinishedPhase(const std::optional<ExecutionStatus>& phase) {
  return phase == ExecutionStatus::kSucceeded || phase == ExecutionStatus::kFailed ||
         phase == ExecutionStatus::kStopped;
}
enum class StepPhase {
  kPending,
  kWaitingForQuota,
  kRunning,
  kRetrying,
  kSucceeded,
  kFailed,
  kSkipped,
  kWaiting,  // an Approval step waiting for its signal
  kStopped,
  kWaitingForAdmission,  // its Job waits, suspended, for Kueue to admit it (spec.queueName)
};

inline constexpr std::array<EnumName<ParameterType>, 5> kParameterTypeNames{{
    {ParameterType::kString, "String"},
    {ParameterType::kInteger, "Integer"},
    {ParameterType::kFloat, "Float"},
    {ParameterType::kBoolean, "Boolean"},
    {ParameterType::kList, "List"},
}};
inline constexpr std::array<EnumName<StepType>, 5> kStepTypeNames{{
    {StepType::kContainer, "Container"},
    {StepType::kApproval, "Approval"},
    {StepType::kFail, "Fail"},
    {StepType::kNotebook, "Notebook"},
    {StepType::kRecord, "Record"},
}};
inline constexpr std::array<EnumName<OnFailure>, 2> kOnFailureNames{{
    {OnFailure::kFail, "Fail"},
    {OnFailure::kContinue, "Continue"},
}};
inline constexpr std::array<EnumName<SignalOutcome>, 2> kSignalOutcomeNames{{
    {SignalOutcome::kSucceeded, "Succeeded"},
    {SignalOutcome::kFailed, "Failed"},
}};
inline constexpr std::array<EnumName<ExecutionStatus>, 6> kExecutionStatusNames{{
    {ExecutionStatus::kPending, "Pending"},
    {ExecutionStatus::kExecuting, "Executing"},
    {ExecutionStatus::kStopping, "Stopping"},
    {ExecutionStatus::kStopped, "Stopped"},
    {ExecutionStatus::kFailed, "Failed"},
    {ExecutionStatus::kSucceeded, "Succeeded"},
}};
inline constexpr std::array<EnumName<StepPhase>, 10> kStepPhaseNames{{
    {StepPhase::kPending, "Pending"},
    {StepPhase::kWaitingForQuota, "WaitingForQuota"},
    {StepPhase::kRunning, "Running"},
    {StepPhase::kRetrying, "Retrying"},
    {StepPhase::kSucceeded, "Succeeded"},
    {StepPhase::kFailed, "Failed"},
    {StepPhase::kSkipped, "Skipped"},
    {StepPhase::kWaiting, "Waiting"},
    {StepPhase::kStopped, "Stopped"},
    {StepPhase::kWaitingForAdmission, "WaitingForAdmission"},
}};

const char* ToString(ParameterType v);
const char* ToString(StepType v);
const char* ToString(OnFailure v);
const char* ToString(SignalOutcome v);
const char* ToString(ExecutionStatus v);
const char* ToString(StepPhase v);

// The failure classes retried when a retryPolicy gives no retryOn (DESIGN.md section 2).
inline constexpr std::array<const char*, 4> kDefaultRetryOn{"Error", "OOMKilled", "Disrupted",
                                                            "DeadlineExceeded"};

// ---- metadata and conditions ----

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // JSON "namespace"
  std::string uid;
  std::string resource_version;
  std::optional<int64_t> generation;
  StringMap labels;
  Json extra = Json::object();  // annotations, ownerReferences, creationTimestamp, ...
};

inline constexpr const char* kConditionTrue = "True";
inline constexpr const char* kConditionFalse = "False";
inline constexpr const char* kConditionUnknown = "Unknown";
inline constexpr const char* kConditionReady = "Ready";
inline constexpr const char* kConditionSucceeded = "Succeeded";
// The conditions kstatus (Flux, kpt, cli-utils) reads: Reconciling True = InProgress, Stalled
// True = Failed, neither = Current.
inline constexpr const char* kConditionReconciling = "Reconciling";
inline constexpr const char* kConditionStalled = "Stalled";

struct Condition {
  std::string type;    // "Ready", "Succeeded"
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  std::optional<k8s::WallTime> last_transition_time;
  std::optional<int64_t> observed_generation;
  Json extra = Json::object();
};

// The condition of that type, or nullptr.
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
// Adds or updates the condition of condition.type (Kubernetes' meta.SetStatusCondition):
// lastTransitionTime becomes now when the status changes or the condition is new, and is kept
// otherwise (whatever condition.last_transition_time says). Returns true if anything changed.
bool SetCondition(std::vector<Condition>* conditions, Condition condition, k8s::WallTime now);
// Reconciling and Stalled from the outcome (the status of Ready/Succeeded): "Unknown" (still
// working) sets Reconciling True; "False" (a terminal failure, an invalid definition) sets
// Stalled True; "True" sets both False. The True one carries reason and message.
void SetKstatusConditions(std::vector<Condition>* conditions, const std::string& outcome,
                          const std::string& reason, const std::string& message,
                          std::optional<int64_t> generation, k8s::WallTime now);

// ---- Pipeline ----

struct Tag {
  std::string key;
  std::string value;
  Json extra = Json::object();
};

struct Parameter {
  std::string name;
  std::optional<ParameterType> type;         // unset means String
  std::optional<std::string> default_value;  // JSON "default"; unset: the parameter is required
  std::vector<std::string> enum_values;      // JSON "enum"
  std::string description;
  Json extra = Json::object();
};

struct ParallelismConfiguration {
  std::optional<int64_t> max_parallel_execution_steps;
  Json extra = Json::object();
};

struct KeySelector {  // secretKeyRef / configMapKeyRef
  std::string name;
  std::string key;
  std::optional<bool> optional;
  Json extra = Json::object();
};

struct EnvVarSource {
  std::optional<KeySelector> secret_key_ref;
  std::optional<KeySelector> config_map_key_ref;
  Json extra = Json::object();
};

struct EnvVar {
  std::string name;
  std::optional<std::string> value;
  std::optional<EnvVarSource> value_from;
  Json extra = Json::object();
};

struct ResourceRequirements {
  StringMap requests;  // quantities as written ("4", "16Gi"); numbers become their spelling
  StringMap limits;
  Json extra = Json::object();
};

struct RetryPolicy {
  std::optional<int64_t> max_attempts;  // counts all attempts
  std::optional<int64_t> interval_seconds;
  std::optional<double> backoff_rate;
  std::optional<int64_t> max_interval_seconds;
  std::optional<int64_t> expire_after_minutes;
  std::vector<std::string> retry_on;  // failure class names; empty: kDefaultRetryOn
  Json extra = Json::object();
};

// The pod securityContext fields a step may set: the identity that ML images need and that Pod
// Security "restricted" asks for (runAsNonRoot), nothing that widens privilege. The pod always
// gets seccomp RuntimeDefault, and its container no privilege escalation and no capabilities.
struct PodSecurity {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::optional<int64_t> fs_group;
  std::optional<std::vector<int64_t>> supplemental_groups;
};

// One artifact of a step (docs/api.md, "Artifacts"): a file or directory at `path` in the step's
// containers, moved to or from S3-compatible storage by `stepline-artifacts` in the step's pod.
// - An input (`inputs.artifacts[]`) gives exactly one of `s3` (an s3:// URI; templates allowed),
//   `from` (exactly "{{steps.STEP.artifacts.NAME}}": an output artifact of an upstream step; or
//   a value of one, written as a file: "{{steps.STEP.outputs.NAME}}",
//   "{{steps.STEP.artifacts.NAME.uri}}") and `raw` (the file's text).
// - An output (`outputs.artifacts[]`) may give `s3`; without it the URI is the default under the
//   namespace's artifact repository (artifact_repository.h). `from` is not allowed.
struct Artifact {
  std::string name;
  std::string path;  // absolute path in the containers
  std::string s3;    // "s3://bucket/key", may hold templates
  std::string from;  // inputs only: "{{steps.STEP.artifacts.NAME}}"
  // outputs: "tgz" (one .tar.gz object), "none" or "" (as it is); inputs: "tgz" (a .tar.gz
  // object unpacked into the directory path) or ""
  std::string archive;
  // inputs only: JSON raw.data, the file's text (templates allowed), written into the pod by an
  // init container instead of downloaded (Argo's raw artifacts)
  std::optional<std::string> raw;
  Json extra = Json::object();
};

// A Notebook step's notebook (docs/api.md, "Notebook steps"; reconcilers/notebook.h): run by
// stepline-notebook (papermill) in the step's container.
struct NotebookSpec {
  std::string path;    // the .ipynb in the container: in the image or under an input artifact
  std::string kernel;  // empty: the notebook's own kernelspec
  // A JSON object, name -> any JSON value; strings may hold templates. Null when unset.
  Json parameters;
  Json extra = Json::object();
};

// A SageMaker Transform step's batch transform (docs/api.md, "SageMaker pipeline definitions";
// reconcilers/transform_job.h): the step's container (image, args [serve], env, resources) is the
// model server, run as a native sidecar; `stepline-artifacts transform` is the main container and
// sends the input artifact "input" to it, writing the output artifact "output". Compiled from a
// definition's Transform step only (no CRD field: a native step cannot set it).
struct TransformSpec {
  std::string content_type;    // TransformInput.ContentType; "": no Content-Type header
  std::string split_type;      // None | Line | RecordIO | TFRecord ("": None)
  std::string batch_strategy;  // MultiRecord | SingleRecord ("": MultiRecord)
  std::optional<int64_t> max_payload_in_mb;               // unset: 6
  std::string accept;                                     // TransformOutput.Accept
  std::string assemble_with;                              // None | Line ("": None)
  std::optional<int64_t> port;                            // the model server's port; unset: 8080
  std::optional<int64_t> invocations_timeout_in_seconds;  // ModelClientConfig; unset: 600
  std::optional<int64_t> invocations_max_retries;         // ModelClientConfig; unset: 3
  Json extra = Json::object();
};

// A SageMaker Lambda step's function call (docs/api.md, "SageMaker pipeline definitions";
// reconcilers/function_job.h): the step's pod runs `stepline-artifacts invoke` from the staging
// image, which POSTs the event (the step's args: --arg/--json-arg members) to the function's URL,
// read from the key `name` of the namespace's ConfigMap stepline-functions, and writes the
// OutputParameters it answered as the step's outputs. Compiled from a definition's Lambda step
// only (no CRD field: a native step cannot set it).
struct FunctionSpec {
  std::string name;  // the function's name: the ConfigMap key
  std::string arn;   // FunctionArn as written
  Json extra = Json::object();
};

// Step caching (docs/api.md, "Step caching"; step_cache.h): a step whose resolved inputs hash to
// the key of a successful earlier attempt in the namespace's cache reuses that attempt's outputs
// instead of running. Off unless enabled.
struct StepCache {
  std::optional<bool> enabled;  // unset: false
  // How old a cached result may be: an ISO-8601 duration ("P30D", "PT12H", "P1DT6H"), as
  // SageMaker's CacheConfig.ExpireAfter. Empty: cached results never expire.
  std::string expire_after;
  Json extra = Json::object();
};

struct Step {
  std::string name;
  std::optional<StepType> type;  // unset means Container
  std::vector<std::string> depends_on;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::string working_dir;
  std::optional<ResourceRequirements> resources;
  StringMap node_selector;
  Json tolerations;  // a list of core/v1 Tolerations as given; null when unset
  std::optional<PodSecurity> security_context;
  std::optional<int64_t> timeout_seconds;
  std::optional<RetryPolicy> retry_policy;
  std::optional<OnFailure> on_failure;  // unset means Fail
  std::optional<StepCache> cache;
  std::string when;
  std::string for_each;  // a JSON list, or a template that resolves to one
  std::optional<int64_t> max_parallel;
  // JSON "outputs": the list of declared output names, or an object {parameters: [names],
  // artifacts: [...]}; serialized as the list when there are no output artifacts.
  std::vector<std::string> outputs;
  std::vector<Artifact> output_artifacts;  // JSON outputs.artifacts
  std::vector<Artifact> input_artifacts;   // JSON inputs.artifacts
  std::string message;                     // Fail steps
  // Record steps: output name -> template; the step succeeds at once with these outputs.
  StringMap values;
  std::optional<NotebookSpec> notebook;    // Notebook steps
  std::optional<TransformSpec> transform;  // SageMaker Transform steps (compiled only)
  std::optional<FunctionSpec> function;    // SageMaker Lambda steps (compiled only)
  Json extra = Json::object();
};

// The step as it runs: defaults merged under step (DESIGN.md: "merged under every step").
// - image, workingDir, timeoutSeconds, onFailure: the step's if set, else the defaults'.
// - command, args, tolerations: the step's list if non-empty, else the defaults'.
// - resources.requests/limits and nodeSelector: merged key by key, the step's value wins.
// - securityContext: merged field by field, the step's field wins.
// - env: merged by name; a step entry replaces the default of the same name in place, others
//   are appended after the defaults (so $(VAR) references to defaults keep working).
// - retryPolicy: merged field by field, the step's field wins (retryOn as a whole list).
// - cache: merged field by field, the step's field wins.
// - name, type, dependsOn, when, forEach, maxParallel, outputs, inputs, message, values: the
//   step's only.
// - A Notebook step: notebook.path and notebook.kernel the step's if set, else the defaults';
//   notebook.parameters merged name by name, the step's value wins; command and args are not
//   inherited (stepline-notebook is its command), and the output artifact "notebook" (the
//   executed copy) is added (notebook.h).
// Finally type and onFailure get their design defaults (Container, Fail) when still unset.
Step EffectiveStep(const Step& defaults, const Step& step);

struct PipelineSpec {
  std::string pipeline_name;  // ACK: an alias executions may reference
  std::string pipeline_display_name;
  std::string pipeline_description;
  std::string role_arn;  // JSON "roleARN"; recorded, otherwise unused
  std::vector<Tag> tags;
  std::vector<Parameter> parameters;
  std::optional<ParallelismConfiguration> parallelism_configuration;
  std::string service_account_name;
  // A Kueue LocalQueue of the namespace: the Jobs carry kueue.x-k8s.io/queue-name and are
  // created suspended, for Kueue to admit. Empty: none (an execution may name one).
  std::string queue_name;
  std::optional<Step> step_defaults;  // name and graph fields unused
  std::vector<Step> steps;
  Json pipeline_definition;  // a SageMaker definition: JSON string or object; null when unset
  Json extra = Json::object();
};

struct PipelineStatus {
  std::optional<int64_t> observed_generation;
  std::optional<int64_t> step_count;
  std::vector<Condition> conditions;
  Json extra = Json::object();
};

struct Pipeline {
  ObjectMeta metadata;
  PipelineSpec spec;
  PipelineStatus status;
  Json extra = Json::object();  // apiVersion, kind, ...
};

// ---- PipelineExecution ----

struct PipelineParameter {
  std::string name;
  std::string value;
  Json extra = Json::object();
};

struct Signal {  // the answer to an Approval step
  std::string step;
  std::optional<SignalOutcome> outcome;
  std::string message;
  StringMap outputs;
  Json extra = Json::object();
};

struct SelectedStep {
  std::string step_name;
  Json extra = Json::object();
};

struct SelectiveExecutionConfig {
  std::string source_pipeline_execution_name;
  std::string source_pipeline_execution_arn;  // ACK spelling, JSON "sourcePipelineExecutionARN"
  std::vector<SelectedStep> selected_steps;
  Json extra = Json::object();
};

// spec.rerunOf: Stepline's short form of a re-run (issue #19).
struct RerunOf {
  std::string execution;                      // the source execution, in this namespace
  std::vector<std::string> steps;             // the steps to run again; empty: those that failed
  std::optional<bool> allow_pipeline_change;  // re-run the source's snapshot though it changed
  Json extra = Json::object();
};

struct PipelineExecutionSpec {
  std::string pipeline_name;
  std::string pipeline_execution_display_name;
  std::string pipeline_execution_description;
  std::vector<PipelineParameter> pipeline_parameters;
  std::optional<ParallelismConfiguration> parallelism_configuration;
  std::optional<int64_t> timeout_seconds;
  std::optional<bool> stop;
  std::vector<Signal> signals;
  std::optional<SelectiveExecutionConfig> selective_execution_config;
  std::optional<RerunOf> rerun_of;
  // Seconds after the run finished when its Jobs (and so their pods) are deleted; the
  // execution and its status stay. Unset: they stay until the execution is deleted.
  std::optional<int64_t> ttl_seconds_after_finished;
  std::string queue_name;  // the Kueue LocalQueue; overrides the Pipeline's spec.queueName
  Json extra = Json::object();
};

struct ChildCounts {  // always serialized whole
  int64_t total = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t running = 0;
  int64_t pending = 0;
  Json extra = Json::object();
};

struct ChildStatus {  // one fan-out child, in failedChildren / runningChildren
  int64_t index = 0;  // always serialized
  std::string item;   // the item, as JSON text
  std::optional<StepPhase> phase;
  int64_t attempts = 0;  // omitted when 0
  std::string job_name;
  std::string reason;
  std::string message;
  std::optional<k8s::WallTime> next_attempt_time;
  Json extra = Json::object();
};

// A fan-out step's fan-in that the status does not keep, stored in ConfigMaps instead
// (fan_in_store.h): the reference and a summary.
struct StoredFanIn {
  std::string name;                      // the output (or output artifact) it is the fan-in of
  int64_t bytes = 0;                     // the whole JSON list's size
  int64_t items = 0;                     // its length: the step's children
  std::vector<std::string> config_maps;  // in item order; each holds values.json, a JSON list
  Json extra = Json::object();
};

struct StepStatus {
  std::string name;
  std::optional<StepPhase> phase;
  int64_t attempts = 0;  // omitted when 0
  std::string job_name;
  std::string reason;  // the last failure class, if any
  std::string message;
  std::optional<k8s::WallTime> next_attempt_time;
  std::optional<k8s::WallTime> start_time;
  std::optional<k8s::WallTime> completion_time;
  StringMap outputs;
  // Output artifact name -> its s3:// URI, set when the step succeeded (a fan-out step: the JSON
  // list of its children's URIs, in item order, null for a child without one).
  StringMap artifacts;
  // A fan-out step's output lists and artifact URI lists too large for the status, stored in
  // ConfigMaps (fan_in_store.h), in name order.
  std::vector<StoredFanIn> stored_outputs;
  std::vector<StoredFanIn> stored_artifacts;
  std::optional<ChildCounts> children;        // fan-out steps only
  std::vector<ChildStatus> failed_children;   // at most kMaxChildDetails serialized
  std::vector<ChildStatus> running_children;  // at most kMaxChildDetails serialized
  Json extra = Json::object();
};

struct PipelineExecutionStatus {
  std::optional<int64_t> observed_generation;
  std::optional<ExecutionStatus> pipeline_execution_status;
  std::string failure_reason;
  std::string progress;  // "3/7"
  std::optional<k8s::WallTime> start_time;
  std::optional<k8s::WallTime> completion_time;
  std::optional<k8s::WallTime> last_modified_time;
  std::optional<int64_t> pipeline_generation;
  Json pipeline_snapshot;  // the compiled spec the run uses; null when unset
  std::vector<StepStatus> steps;
  std::vector<Condition> conditions;
  Json extra = Json::object();
};

struct PipelineExecution {
  ObjectMeta metadata;
  PipelineExecutionSpec spec;
  PipelineExecutionStatus status;
  Json extra = Json::object();  // apiVersion, kind, ...
};

// ---- JSON conversion ----
// path: the field path of `json` in error messages ("" for a whole object).

k8s::Result<ObjectMeta> ParseObjectMeta(const Json& json, const std::string& path);
k8s::Result<Condition> ParseCondition(const Json& json, const std::string& path);
k8s::Result<ParallelismConfiguration> ParseParallelismConfiguration(const Json& json,
                                                                    const std::string& path);
k8s::Result<Step> ParseStep(const Json& json, const std::string& path);
k8s::Result<PipelineSpec> ParsePipelineSpec(const Json& json, const std::string& path);
k8s::Result<PipelineStatus> ParsePipelineStatus(const Json& json, const std::string& path);
k8s::Result<Pipeline> ParsePipeline(const Json& json);
k8s::Result<PipelineExecutionSpec> ParsePipelineExecutionSpec(const Json& json,
                                                              const std::string& path);
k8s::Result<PipelineExecutionStatus> ParsePipelineExecutionStatus(const Json& json,
                                                                  const std::string& path);
k8s::Result<PipelineExecution> ParsePipelineExecution(const Json& json);

Json ToJson(const ObjectMeta& meta);
Json ToJson(const Condition& condition);
Json ToJson(const ParallelismConfiguration& p);
Json ToJson(const Step& step);
Json ToJson(const PipelineSpec& spec);
Json ToJson(const PipelineStatus& status);
// apiVersion and kind are set when extra lacks them; an empty status is omitted.
Json ToJson(const Pipeline& object);
Json ToJson(const PipelineExecutionSpec& spec);
Json ToJson(const PipelineExecutionStatus& status);
Json ToJson(const PipelineExecution& object);

}  // namespace stepline::reconcilers
