// The pod of a SageMaker Lambda step (api_types.h FunctionSpec; compiled by
// sagemaker_lambda.cc): what BuildStepJob changes in the step's container.
//
// - The image is the staging image (the controller's, which ships stepline-artifacts) and the
//   command `stepline-artifacts invoke`; the step's args (compiled: --function NAME, the event's
//   members as --arg/--json-arg, the OutputParameters as --output) follow it.
// - The step's env stays (stepDefaults may give proxies), except a PATH: the image is not the
//   step's.
// - STEPLINE_FUNCTION_URL comes from the key NAME of the ConfigMap kFunctionsConfigMap in the
//   execution's namespace (optional: without it the step fails saying where to set the URL).
// - The outputs the function answered, and a failure's message, are the container's termination
//   message, where a step's outputs are read.
//
// Pure.
#pragma once

#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"
#include "reconcilers/artifact_staging.h"

namespace stepline::reconcilers {

// Per namespace: function name -> its URL.
inline constexpr const char* kFunctionsConfigMap = "stepline-functions";
inline constexpr const char* kFunctionUrlEnv = "STEPLINE_FUNCTION_URL";

// Reshapes pod_spec (containers[0] the step's container) as above; nothing when step has no
// function.
void AddFunctionCall(const Step& step, const std::string& ns, const ArtifactStagingOptions& options,
                     k8s::Object* pod_spec);

}  // namespace stepline::reconcilers
