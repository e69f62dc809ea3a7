// Where a fan-in goes that the status does not keep (docs/api.md, "Status size"): a fan-out
// step's output list (or list of its children's artifact URIs) larger than kMaxOutputBytes is
// stored in ConfigMaps of the execution's namespace, owned by the execution (deleted with it),
// and the step's status keeps a reference and a summary (StoredFanIn: the ConfigMaps, the size,
// the number of items).
//
// Each ConfigMap's data key `values.json` holds a JSON list of consecutive items of the fan-in,
// at most kFanInChunkBytes; the lists joined in the order the status names them are the fan-in.
// A fan-in larger than kMaxStoredFanInBytes is not stored (etcd keeps every byte; the step's
// message says so and where the values stay).
//
// Why ConfigMaps and not the artifact repository: the controller holds no storage credentials
// (it never reads Secrets, and a namespace may have no repository), and a fan-in is small
// values (a termination message is at most 4 KiB) that kubectl shows and pods mount.
//
// Pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

inline constexpr size_t kFanInChunkBytes = size_t{768} * 1024;  // one ConfigMap's values.json
inline constexpr size_t kMaxStoredFanInBytes = size_t{8} * 1024 * 1024;
inline constexpr const char* kFanInDataKey = "values.json";
// An annotation of each ConfigMap: its place among the step's ConfigMaps of that fan-in and the
// first item's index, "K/N from I".
inline constexpr const char* kAnnotationFanInPart = "stepline.dev/fan-in-part";

// What a fan-in is of: a fan-out step's output, or the URIs of its output artifact.
enum class FanInKind { kOutput, kArtifact };

// What the planner needs to know of the execution to name and own the ConfigMaps.
struct FanInOwner {
  std::string execution;
  std::string namespace_;
  std::string uid;
};

// A ConfigMap to create, and the fan-in it is part of (FanInKey).
struct FanInConfigMap {
  std::string key;
  k8s::Object object;
};

// One fan-in to store: its status entry and the ConfigMaps to create.
struct FanInStore {
  StoredFanIn stored;
  std::vector<FanInConfigMap> config_maps;
};

// Splits `list` (a JSON list, as FanIn writes it) into ConfigMaps of at most kFanInChunkBytes
// of values each (an item is never split). Names: <execution>-<step>-<outputs|artifacts>-<name>
// -<kk> (kk: 00, 01, ...: the API lists them in item order), shortened with a hash past 253
// characters. Invalid: list is not a JSON list.
k8s::Result<FanInStore> StoreFanIn(const FanInOwner& owner, const std::string& step, FanInKind kind,
                                   const std::string& name, const std::string& list);

// A fan-in's key in PlanInputs::fan_in_store_refusals: "STEP/outputs.NAME",
// "STEP/artifacts.NAME".
std::string FanInKey(const std::string& step, FanInKind kind, const std::string& name);

// The label value of kLabelFanIn for a fan-in ("outputs.v", "artifacts.model").
std::string FanInLabel(FanInKind kind, const std::string& name);

// The kubectl command that prints a stored fan-in's values, one ConfigMap's list per line.
std::string FanInKubectl(const FanInOwner& owner, const std::string& step, FanInKind kind,
                         const std::string& name);

}  // namespace stepline::reconcilers
