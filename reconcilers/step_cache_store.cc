// Step caching, the I/O half (step_cache_store.h).
#include "reconcilers/step_cache_store.h"

namespace stepline::reconcilers {
namespace {

// One read-modify-write round: Conflict or AlreadyExists when another writer came first.
k8s::Status WriteOnce(k8s::ObjectReader& reader, k8s::ObjectWriter& writer, const std::string& ns,
                      const StepCacheEntry& entry, k8s::WallTime now) {
  k8s::Result<k8s::Object> current =
      reader.Get(k8s::resources::kConfigMaps, ns, kStepCacheConfigMap);
  if (!current.ok() && !current.status().IsNotFound()) return current.status();
  StepCacheIndex index = current.ok() ? ParseStepCacheIndex(*current) : StepCacheIndex{};
  if (!AddStepCacheEntry(&index, entry, now)) return k8s::Status::Ok();
  if (!current.ok()) {
    return writer.Create(k8s::resources::kConfigMaps, ns, NewStepCacheConfigMap(ns, index))
        .status();
  }
  k8s::Object updated = *current;  // resourceVersion kept: the update is checked against it
  updated["data"] = StepCacheData(index);
  return writer.Update(k8s::resources::kConfigMaps, ns, updated).status();
}

}  // namespace

k8s::Result<StepCacheIndex> ReadStepCache(k8s::ObjectReader& reader, const std::string& ns) {
  k8s::Result<k8s::Object> cm = reader.Get(k8s::resources::kConfigMaps, ns, kStepCacheConfigMap);
  if (!cm.ok() && cm.status().IsNotFound()) return StepCacheIndex{};
  if (!cm.ok()) return cm.status();
  return ParseStepCacheIndex(*cm);
}

k8s::Status WriteStepCacheEntry(k8s::ObjectReader& reader, k8s::ObjectWriter& writer,
                                const std::string& ns, const StepCacheEntry& entry,
                                k8s::WallTime now) {
  k8s::Status last;
  for (int attempt = 0; attempt < kStepCacheWriteAttempts; ++attempt) {
    last = WriteOnce(reader, writer, ns, entry, now);
    if (!last.IsConflict() && !last.IsAlreadyExists()) return last;
  }
  return last;
}

}  // namespace stepline::reconcilers
