// Joining a fan-in stored in ConfigMaps (reconcilers/fan_in_store.h) back into one JSON list: what
// `stepline-artifacts join` does in the init container of a step whose input artifact reads such
// a fan-in (`from: "{{steps.STEP.outputs.NAME}}"`, reconcilers/artifact_staging.h).
//
// Each part (a ConfigMap's values.json, mounted as a file) is a JSON list of consecutive items.
// The joined list holds their items in the parts' order, each written as its part spells it, so
// the file is the list the controller split, byte for byte. Synchronous; file system only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::artifacts {

struct JoinedFanIn {
  int64_t items = 0;
  uint64_t bytes = 0;  // the file's size
};

// Joins `parts` (paths, in item order) into the file `dest`, creating its directory. Errors
// (InvalidArgument) name the part: a missing file (the directory it is mounted in is named after
// its ConfigMap, which was deleted or never made), a part that is no JSON list, and a total of
// items other than `expected_items` (a ConfigMap changed since it was stored). Internal when dest
// cannot be written.
k8s::Result<JoinedFanIn> JoinFanIn(const std::vector<std::string>& parts, int64_t expected_items,
                                   const std::string& dest);

}  // namespace stepline::artifacts
