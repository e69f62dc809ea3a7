// Validation of a Pipeline beyond what admission (the CRD schema and its CEL rules) can check
// (DESIGN.md section 1: "A Pipeline is validated when applied").
//
// Every problem is one line "<field path>: <what is wrong>", the path naming the step by index
// and name:
//   spec.steps[2] (train).dependsOn: unknown step "prep"
//   spec.steps: dependency cycle: a -> b -> a
//   spec.steps[1] (train).command[2]: unknown parameter "horizn" in {{parameters.horizn}}
//
// What is checked:
// - spec: steps given (a pipelineDefinition alone is not supported yet), not both, at most
//   kMaxSteps; parallelismConfiguration.maxParallelExecutionSteps positive; tags usable as Job
//   labels (valid label keys and values).
// - parameters: unique names; default and enum values of the declared type (Integer, Float,
//   Boolean, List as a JSON list); the default one of the enum values.
// - steps: names unique, of letters, digits, '-' and '_' (alphanumeric at both ends) and at most
//   kMaxStepNameLength, and unique as StepJobPart (job_name.h); dependsOn names known
//   steps other than itself; no dependency cycle (named).
// - templates in command, args, env[].value, when, forEach and a Fail step's message (and in
//   stepDefaults' command, args and env): they parse; {{parameters.X}} names a declared
//   parameter; {{steps.S...}} names a step upstream of this one (a direct or transitive
//   dependency) and, when S declares `outputs`, one of them; {{item}} only in the command,
//   args and env of a forEach step. `when` parses as an expression.
// - forEach: a JSON list literal, or exactly one {{parameters.X}} reference to a List parameter
//   or one {{steps.S.outputs.N}} reference.
// - resources: requests and limits parse as non-negative quantities; a request does not exceed
//   its limit (after stepDefaults are merged).
// - a Container step has an image (on the step or in stepDefaults); Approval and Fail steps set
//   no field they would ignore (image, command, args, env, workingDir, resources, nodeSelector,
//   tolerations, timeoutSeconds, retryPolicy, forEach, maxParallel); a Fail step has a message
//   and only a Fail step has one.
// - numbers: timeoutSeconds and maxParallel positive (maxParallel only with forEach);
//   retryPolicy maxAttempts >= 1, intervalSeconds and maxIntervalSeconds >= 0, backoffRate >= 1,
//   expireAfterMinutes >= 1, retryOn only known failure classes.
// - env names are C identifiers; secretKeyRef / configMapKeyRef name a valid object name and key.
// - parameter names that would become the same STEPLINE_PARAM_ variable (my-p, my_p).
//
// Pure: no I/O, no clock, no logging. Safe to call from several threads at once.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "k8sclient/status.h"
#include "reconcilers/api_types.h"
#include "reconcilers/pod_policy.h"

namespace stepline::reconcilers {

// The failure classes a retryPolicy may name in retryOn (DESIGN.md section 2).
inline constexpr std::array<const char*, 7> kRetryableFailureClasses{
    "Error",     "OOMKilled",     "DeadlineExceeded", "Disrupted",
    "ImagePull", "Unschedulable", "ArtifactError"};

// Every problem, in order: spec-level fields, parameters, tags, stepDefaults, each step in
// declaration order, then a dependency cycle. Empty when the Pipeline is valid.
std::vector<std::string> PipelineProblems(const Pipeline& pipeline);

// At most this many problems, of at most this many bytes in all, are listed in the message.
inline constexpr size_t kMaxListedProblems = 10;
inline constexpr size_t kMaxProblemsBytes = 1500;

// lines joined by "; ", at most kMaxListedProblems of them and kMaxProblemsBytes in all (a
// first line longer than that is cut), followed by " (and N more)" when some were left out.
std::string JoinBounded(const std::vector<std::string>& lines);

// OK, or Invalid with every problem, joined by JoinBounded.
// policy: what the cluster admin allows the pods (pod_policy.h); its problems are listed too.
k8s::Status ValidatePipeline(const Pipeline& pipeline, const PodPolicy& policy = {});

}  // namespace stepline::reconcilers
