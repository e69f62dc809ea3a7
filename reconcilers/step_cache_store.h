// Step caching, the I/O half: reads and writes the namespace's step cache ConfigMap
// (kStepCacheConfigMap, step_cache.h) on the API server.
//
// A write reads the ConfigMap, adds the entry (AddStepCacheEntry) and writes it back with the
// resourceVersion it read: a concurrent writer's change makes the update fail with Conflict, and
// the write starts again from a fresh read, so two executions writing at once both land and
// neither overwrites the other. A missing ConfigMap is created (AlreadyExists: start again).
//
// Stateless functions; thread-safe when the reader and writer are.
#pragma once

#include <string>

#include "k8sclient/client.h"
#include "k8sclient/status.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers {

// How many read-modify-write rounds a write tries before it gives up with the last Conflict.
inline constexpr int kStepCacheWriteAttempts = 8;

// The namespace's index; empty (no entries) when the ConfigMap does not exist.
k8s::Result<StepCacheIndex> ReadStepCache(k8s::ObjectReader& reader, const std::string& ns);

// Adds entry to the namespace's index (see above). OK when written or when nothing needed to
// change (a usable entry of the same key is there already, or the entry is too large to cache).
k8s::Status WriteStepCacheEntry(k8s::ObjectReader& reader, k8s::ObjectWriter& writer,
                                const std::string& ns, const StepCacheEntry& entry,
                                k8s::WallTime now);

}  // namespace stepline::reconcilers
