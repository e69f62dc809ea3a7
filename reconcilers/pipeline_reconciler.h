// The Pipeline reconciler: validates each Pipeline (validation.h) and reports the verdict in
// its status, through /status and only when it changed:
//   observedGeneration, stepCount (the STEPS printer column),
//   condition Ready: True (reason Valid) or False (reason InvalidDefinition, the message naming
//   the step and field), with observedGeneration; lastTransitionTime moves only when the
//   condition's status does.
// Cleanup (cleanup.h): spec.successfulHistoryLimit / failedHistoryLimit delete the oldest
// finished executions of the Pipeline beyond them (a HistoryDeleted Event on the Pipeline), and
// spec.executionDefaults.ttlSecondsAfterFinished deletes the Jobs of finished executions that
// have no TTL of their own (JobsDeleted on the execution); it wakes itself when the next is due.
// Events on the Pipeline, only when the Ready condition changes: a Warning InvalidDefinition with
// the message (so once per distinct message), and a Normal Valid when a Pipeline that was
// invalid becomes valid again.
//
// Informer caches lag the writes that cause them. So that a reconcile that runs before the cache
// has caught up neither writes the same status again nor re-emits its event, the reconciler reads
// the Pipelines through a ReadYourWritesCache (read_your_writes.h) and writes status with a
// StatusWriter (status_writer.h), the pieces the execution reconciler uses too.
//
// Thread-safety: Reconcile may run on several workers at once, never for the same key; the
// pieces are thread-safe.
#pragma once

#include <string>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "reconcilers/api_types.h"
#include "reconcilers/pod_policy.h"
#include "reconcilers/read_your_writes.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/status_writer.h"

namespace stepline::reconcilers {

inline constexpr const char* kReasonValid = "Valid";
inline constexpr const char* kReasonInvalidDefinition = "InvalidDefinition";
// A Warning Event on a valid Pipeline whose SageMaker definition compiled with warnings (fields
// with no effect, renamed steps): the Ready message lists them.
inline constexpr const char* kReasonDefinitionWarnings = "DefinitionWarnings";

class PipelineReconciler : public Reconciler {
 public:
  // Everything must outlive the reconciler.
  // reader: lists the Pipeline's executions for its cleanup fields (cleanup.h); null: no
  // cleanup.
  PipelineReconciler(const k8s::CacheReader& pipelines, k8s::ObjectWriter& writer,
                     EventRecorder& events, const k8s::Clock& clock,
                     std::string field_manager = "stepline-controller", PodPolicy policy = {},
                     k8s::ObjectReader* reader = nullptr);

  const std::string& Name() const override { return name_; }
  ReconcileOutcome Reconcile(const std::string& key) override;

 private:
  // The history limits and the Jobs TTL default of spec (cleanup.h), on its executions listed
  // from the server (the cache trims finished ones).
  ReconcileOutcome CleanUp(const k8s::Object& pipeline);
  k8s::Result<std::vector<k8s::Object>> ExecutionsOf(const k8s::Object& pipeline);
  // warnings: the Pipeline's definition compiled with warnings (listed in after.message).
  void RecordTransition(const k8s::Object& pipeline, const Condition* before,
                        const Condition& after, bool warnings);

  // Constant after construction.
  const std::string name_ = "pipeline";
  k8s::ObjectWriter& writer_;
  EventRecorder& events_;
  const k8s::Clock& clock_;
  const std::string field_manager_;
  const PodPolicy policy_;
  k8s::ObjectReader* const reader_;

  // Thread-safe.
  ReadYourWritesCache pipelines_;  // the Pipelines cache and the statuses written
  StatusWriter statuses_;
};

}  // namespace stepline::reconcilers
