// ExecutionReconciler's step cache I/O (execution_reconciler.h, step_cache_store.h).
#include "reconcilers/execution_reconciler.h"
#include "reconcilers/log.h"
#include "reconcilers/status_bounds.h"
#include "reconcilers/step_cache_store.h"

namespace stepline::reconcilers {

StepCacheIndex ExecutionReconciler::ReadStepCacheOf(const k8s::Object& execution) {
  if (options_.reader == nullptr) return {};
  const std::string ns = k8s::NamespaceOf(execution);
  k8s::Result<StepCacheIndex> index = ReadStepCache(*options_.reader, ns);
  if (index.ok()) return std::move(index).value();
  Log()->warn("step cache unreadable namespace={} error={}", ns, index.status().ToString());
  events_.Record(execution, EventType::kWarning, "StepCacheUnavailable",
                 BoundText("cannot read ConfigMap " + std::string(kStepCacheConfigMap) + ": " +
                               index.status().message() + "; cached steps run",
                           kMaxMessageBytes));
  return {};
}

void ExecutionReconciler::WriteStepCacheEntries(const k8s::Object& execution,
                                                const PlanResult& result) {
  if (options_.reader == nullptr) return;
  const std::string ns = k8s::NamespaceOf(execution);
  for (const StepCacheEntry& entry : result.step_cache_writes) {
    k8s::Status written = WriteStepCacheEntry(*options_.reader, writer_, ns, entry, clock_.Now());
    if (written.ok()) continue;
    Log()->warn("step cache write failed namespace={} step={} error={}", ns, entry.step,
                written.ToString());
    events_.Record(
        execution, EventType::kWarning, "StepCacheWriteFailed",
        BoundText("step \"" + entry.step + "\": its result is not cached: " + written.message(),
                  kMaxMessageBytes));
  }
}

}  // namespace stepline::reconcilers
