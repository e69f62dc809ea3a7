// The pure parts of `logs`: which pods hold a step's attempts, and whether a log request makes
// sense for the step. The command itself is CmdLogs (commands.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/run_view.h"

namespace stepline::cli {

struct AttemptPod {
  int64_t attempt = 0;  // the pod's stepline.dev/attempt label (-1 when absent)
  std::string pod, phase, created;
};

// stepline.dev/execution=RUN,stepline.dev/step=STEP[,stepline.dev/index=N]
std::string PodSelector(const std::string& run, const std::string& step,
                        std::optional<int64_t> index);
// The pods in attempt order (then creation). Without index, fan-out children's pods are left out.
std::vector<AttemptPod> AttemptPods(const std::vector<k8s::Object>& pods,
                                    std::optional<int64_t> index);
// "" when logs of step (child index) can be read, else why not, in the user's terms.
std::string CheckLogTarget(const RunView& run, const std::string& step,
                           std::optional<int64_t> index);

}  // namespace stepline::cli
