// Step caching (issue #19; docs/api.md, "Step caching"): the pure half.
//
// A step with `cache: {enabled: true}` whose resolved inputs hash to the key of a successful
// earlier attempt in its namespace reuses that attempt's outputs and artifacts instead of running.
// - The key (StepCacheKey): SHA-256 over what the step's container sees and what it was given
//   (see StepCacheKeyInput); the same inputs give the same key in every execution.
// - The index: one ConfigMap per namespace, kStepCacheConfigMap, labelled kStepCacheLabel; each
//   data entry is one cached attempt (key -> JSON). It is bounded (entries, bytes) and written
//   only by the controller, with resourceVersion-checked updates (step_cache_store.h).
//
// Pure; plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "k8sclient/status.h"
#include "reconcilers/api_types.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {

inline constexpr const char* kStepCacheConfigMap = "stepline-step-cache";
inline constexpr const char* kStepCacheLabel = "stepline.dev/step-cache";
// The status field of a step whose result came from the cache: {execution, step, attempt}.
inline constexpr const char* kCachedFromField = "cachedFrom";

// The index's bounds: a ConfigMap holds at most 1 MiB. An entry larger than kMaxEntryBytes is
// not cached; past the others, the oldest entries are dropped first.
inline constexpr size_t kMaxStepCacheEntries = 1000;
inline constexpr size_t kMaxStepCacheBytes = size_t{512} * 1024;
inline constexpr size_t kMaxStepCacheEntryBytes = size_t{16} * 1024;

// An ISO-8601 duration as SageMaker's ExpireAfter takes it: [P][nY][nM][nW][nD][T[nH][nM][nS]],
// whole numbers, letters in either case, the leading P optional ("30d", "T12H" are SageMaker's
// own examples); a year is 365 days, a month 30. Invalid: the message says what is wrong.
k8s::Result<std::chrono::seconds> ParseIsoDuration(std::string_view text);

// True when the effective step is cached: a Container or Notebook step without forEach,
// cache.enabled.
bool StepCached(const Step& s);

// What the key is made of. Pointers are non-null and outlive the call.
struct StepCacheKeyInput {
  std::string pipeline;  // the Pipeline's name
  // The step with its templates rendered (command, args, env values, artifact s3 URIs). Read:
  // name, image, command, args, workingDir, env (a value, or a secretKeyRef/configMapKeyRef by
  // name and key: never the secret's value), resources, nodeSelector, input artifacts, output
  // artifacts (name, path, explicit s3), a Notebook step's notebook (path, kernel, rendered
  // parameters). Not read: timeoutSeconds, retryPolicy, onFailure, when,
  // tolerations, securityContext, cache, outputs' names.
  const Step* step = nullptr;
  // Every parameter of the run (each reaches the container as STEPLINE_PARAM_<NAME>).
  std::vector<std::pair<std::string, std::string>> parameters;
  // The step's direct dependencies: phase, outputs and output artifact URIs.
  std::map<std::string, StepValues> dependencies;
  // Each input artifact's URI: its s3, or the upstream URI its `from` names ("" if unknown); for a
  // `from` naming an upstream value, "value " and the value, or "stored " and the item count and
  // ConfigMaps of a stored fan-in.
  std::map<std::string, std::string> input_uris;
};

// 64 lower-case hex digits.
std::string StepCacheKey(const StepCacheKeyInput& in);

// One cached attempt.
struct StepCacheEntry {
  std::string key;
  std::string pipeline;
  std::string execution;
  std::string step;
  int64_t attempt = 0;
  k8s::WallTime finished;                // when the attempt succeeded
  std::optional<k8s::WallTime> expires;  // from the writer's expireAfter; unset: never
  StringMap outputs;
  StringMap artifacts;
};

struct StepCacheIndex {
  std::map<std::string, StepCacheEntry> entries;  // by key
  std::string resource_version;                   // of the ConfigMap read; "" when none
};

// The index in a ConfigMap (kStepCacheConfigMap). Entries that cannot be read are left out.
StepCacheIndex ParseStepCacheIndex(const k8s::Object& config_map);

// The entry of key if it may be used at `now`: not past its own expiry, and, when max_age is
// given (the reader's expireAfter), finished no longer than max_age ago. nullptr otherwise.
const StepCacheEntry* FindUsableEntry(const StepCacheIndex& index, const std::string& key,
                                      k8s::WallTime now,
                                      std::optional<std::chrono::seconds> max_age);

// Adds entry to index: drops expired entries, keeps an existing usable entry of the same key
// (two executions racing: the first write wins, both results are equally valid), and drops the
// oldest entries past the bounds. Returns true when the index changed. An entry larger than
// kMaxStepCacheEntryBytes is not added (returns false unless expired entries were dropped).
bool AddStepCacheEntry(StepCacheIndex* index, const StepCacheEntry& entry, k8s::WallTime now);

// The ConfigMap's data of index (key -> entry JSON).
k8s::Object StepCacheData(const StepCacheIndex& index);
// A new ConfigMap holding index, in namespace ns.
k8s::Object NewStepCacheConfigMap(const std::string& ns, const StepCacheIndex& index);

}  // namespace stepline::reconcilers
