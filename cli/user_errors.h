// Failed API calls and bad requests explained in the user's terms: which run or step does not
// exist, which verb on which resource the user's credentials may not use. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "cli/run_view.h"
#include "k8sclient/status.h"

namespace stepline::cli {

// What a call was about: "patch" "pipelineexecutions.stepline.dev" in "default", the run "x".
struct CallTarget {
  std::string verb;      // get, list, watch, create, patch, delete
  std::string resource;  // as RBAC names it: "pipelineexecutions.stepline.dev", "pods/log"
  std::string ns;        // "" = every namespace
  std::string noun;      // how the user calls the object: "run", "pipeline", "pod"
  std::string name;      // "" for collections
};

// One line: `run "x" not found in namespace "default"`, `you may not patch
// pipelineexecutions.stepline.dev in namespace "ml" (forbidden: ...)`, ...
std::string Explain(const k8s::Status& status, const CallTarget& target);
// `step "x" not found in run "r"; its steps: a, b, c`.
std::string UnknownStep(const RunView& run, const std::string& step);
// "" when the step waits for approval, else why it cannot be answered now.
std::string NotWaitingForApproval(const RunView& run, const StepView& step);

}  // namespace stepline::cli
