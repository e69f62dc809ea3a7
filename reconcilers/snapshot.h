// The snapshot an execution runs: the Pipeline compiled (stepDefaults merged into every step)
// together with the run's resolved parameter values, taken once when the execution starts and
// recorded in status.pipelineSnapshot. Editing or deleting the Pipeline later does not change a
// running execution.
//
// Pure; plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8sclient/status.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

struct ResolvedParameter {
  std::string name;
  ParameterType type = ParameterType::kString;
  std::string value;
  bool from_execution = false;  // given by spec.pipelineParameters (not a default)
};

// A parameter value given by the execution and longer than this is not copied into
// status.pipelineSnapshot: the snapshot names it ("valueFrom": "spec.pipelineParameters") with
// a hash of the value, and the run reads it from the execution's spec (docs/api.md).
inline constexpr size_t kMaxSnapshotValueBytes = 256;

struct Snapshot {
  std::string pipeline;  // the Pipeline's metadata.name
  std::string pipeline_uid;
  int64_t pipeline_generation = 0;
  std::vector<ResolvedParameter> parameters;            // in declaration order
  std::optional<int64_t> max_parallel_execution_steps;  // the execution's override, else the
                                                        // pipeline's; unset: unlimited
  std::string service_account_name;
  std::string queue_name;   // the execution's spec.queueName, else the pipeline's; "": none
  StringMap tags;           // become labels on the Jobs (valid label keys/values only)
  std::vector<Step> steps;  // effective steps (stepDefaults merged), in declaration order

  const ResolvedParameter* FindParameter(const std::string& name) const;
};

// Resolves and checks the run's parameters against the pipeline's declarations: unknown names,
// missing required values, values outside `enum`, values not of the declared type. The error
// (InvalidArgument) names the parameter and the problem.
k8s::Result<std::vector<ResolvedParameter>> ResolveParameters(
    const std::vector<Parameter>& declared, const std::vector<PipelineParameter>& given);

// Checks one value against a parameter type; "" when fine, else the problem
// ("must be an integer").
std::string CheckParameterValue(ParameterType type, const std::string& value);

// Compiles the snapshot. Errors: InvalidArgument with the parameter problem (the caller reports
// InvalidParameters); Invalid when the pipeline cannot be compiled (InvalidPipeline).
k8s::Result<Snapshot> CompileSnapshot(const Pipeline& pipeline,
                                      const PipelineExecutionSpec& execution);

Json ToJson(const Snapshot& snapshot);
// spec: the execution's, for the parameter values the snapshot names rather than holds; a value
// changed since the run started is an error (Invalid) naming the parameter.
k8s::Result<Snapshot> ParseSnapshot(const Json& json, const PipelineExecutionSpec& spec);

// True when text is a valid label value (<= 63 characters, alphanumeric at both ends, '-', '_',
// '.' inside). An empty value is valid.
bool IsValidLabelValue(const std::string& text);
// True when text is a valid label key ([prefix/]name).
bool IsValidLabelKey(const std::string& text);

}  // namespace stepline::reconcilers
