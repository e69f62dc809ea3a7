// Builds the batch/v1 Job for one attempt of one step (DESIGN.md section 3): deterministic name,
// labels, owner reference to the execution, backoffLimit 0, activeDeadlineSeconds from the
// step's timeout, restartPolicy Never, FallbackToLogsOnError, restricted security defaults and
// the STEPLINE_* environment. The pod gets only the fields a step exposes.
//
// Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/labels.h"
#include "reconcilers/snapshot.h"

namespace stepline::reconcilers {

inline constexpr const char* kContainerName = "step";

struct JobInput {
  std::string execution_name;
  std::string execution_namespace;
  std::string execution_uid;
  const Snapshot* snapshot = nullptr;
  // The effective step with command, args and env values already rendered.
  const Step* step = nullptr;
  std::optional<int> index;  // fan-out child
  std::string item;          // the child's item as JSON text ("" when not a fan-out)
  int attempt = 1;
  // The attempt's artifacts (init containers, upload sidecars, volumes, the step container's
  // mounts, and the annotation kAnnotationArtifacts); null: none.
  const StagedArtifacts* artifacts = nullptr;
};

// A parameter whose value is longer than this is not passed as STEPLINE_PARAM_<NAME>: Linux
// refuses to start a process with one environment string past 128 KiB, and a fan-out over a
// List parameter would copy the whole list into each child's Job (n children, n copies).
inline constexpr size_t kMaxParameterEnvBytes = size_t{32} * 1024;

k8s::Object BuildStepJob(const JobInput& in);

// "STEPLINE_PARAM_" + the name upper-cased, with every other character than [A-Z0-9_] as '_'.
std::string ParameterEnvName(const std::string& parameter);

}  // namespace stepline::reconcilers
