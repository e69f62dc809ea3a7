// The pod of a SageMaker Transform step (api_types.h TransformSpec; compiled by
// sagemaker_transform.cc): what BuildStepJob adds after the artifact staging.
//
// - The step's container (the model's image, args [serve], the model's environment, the
//   instance type's resources, the staging mounts: /opt/ml/model and the transform's input and
//   output directories) becomes the native sidecar `model-server` (an init container with
//   restartPolicy Always, after the download init containers, so the model is in place when it
//   starts), with its port declared.
// - The main container `step` runs `stepline-artifacts transform` from the staging image with the
//   same mounts: it waits for the server's /ping, sends the input artifact "input" to
//   /invocations as the spec says, and writes INPUT.out files into the output artifact
//   "output"'s directory, which the upload sidecar sends to S3OutputPath. Its exit is the
//   step's: a failed invocation is the step's Error, with the message in its termination log.
//   When it ends, the kubelet stops the sidecars (the upload runs then) and the Job ends.
//
// Pure.
#pragma once

#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"
#include "reconcilers/artifact_staging.h"

namespace stepline::reconcilers {

inline constexpr const char* kModelServerContainer = "model-server";
inline constexpr int64_t kDefaultModelServerPort = 8080;  // SageMaker's inference contract

// The transform client's command for step (a step with transform set).
std::vector<std::string> TransformCommand(const Step& step);

// Reshapes pod_spec (containers[0] the step's container, staging already added) as above;
// nothing when step has no transform.
void AddTransformContainers(const Step& step, const ArtifactStagingOptions& options,
                            k8s::Object* pod_spec);

}  // namespace stepline::reconcilers
