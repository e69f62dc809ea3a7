// The PipelineExecution reconciler: the thin shell around the planner. A reconcile reads the
// execution and everything the plan needs from the informer caches, calls Plan (planner.h), and
// hands the outcome to three pieces with names of their own:
//   - ReadYourWritesCache (read_your_writes.h): the caches of executions and Jobs as this
//     reconciler's own writes left them, so that a reconcile that runs before the informers
//     caught up neither creates a Job again nor acts on a status it replaced;
//   - JobApplier (job_applier.h): deletes, patches (suspends), and creates in slow-start
//     batches, idempotently; a create refused by a ResourceQuota becomes a wait;
//   - StatusWriter (status_writer.h): status through /status, only when it changed, a change
//     that records no progress coalesced (options' transient_status_delay), a status the server
//     refuses reduced (status_bounds.h).
// The shell itself records the plan's Events, reports quota waits and dispatches, reads and
// writes the step cache, cleans up a finished execution, and says when to look again. It never
// sleeps: every wait is a requeue-after.
//
// Thread-safety: Reconcile may run on several workers at once, never for the same key. The
// pieces are thread-safe; the reconciler's own maps (Job record memos, refused fan-in stores)
// are GUARDED_BY(mu_). The
// writer must be safe to call from several threads at once (a reconcile's creates run on
// threads of their own).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"
#include "reconcilers/api_types.h"
#include "reconcilers/dispatch_observer.h"
#include "reconcilers/job_applier.h"
#include "reconcilers/job_record_memo.h"
#include "reconcilers/planner.h"
#include "reconcilers/quota_queue.h"
#include "reconcilers/read_your_writes.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/status_writer.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers {

struct ExecutionCaches {
  const k8s::CacheReader* executions = nullptr;
  const k8s::CacheReader* pipelines = nullptr;
  const k8s::CacheReader* jobs = nullptr;  // Jobs managed by Stepline
  const k8s::CacheReader* pods = nullptr;  // Pods labelled stepline.dev/execution
  // Warning events with reason FailedCreate, where ListByOwner(uid) answers the events whose
  // involvedObject.uid is uid. May be null (quota waits are then seen only on Job creates).
  const k8s::CacheReader* job_events = nullptr;
  // ConfigMaps named kArtifactRepositoryConfigMap (artifact_repository.h). May be null (then no
  // namespace has an artifact repository).
  const k8s::CacheReader* artifact_repositories = nullptr;
};

struct ExecutionReconcilerOptions {
  PlanOptions plan;
  // "" when the Pipeline is valid, else the message saying why not (the Pipeline reconciler's
  // validation). Unset: every Pipeline is taken as valid.
  std::function<std::string(const Pipeline&)> validate;
  std::string field_manager = "stepline-controller";
  // A status change that records no progress (no action taken, the same execution phase,
  // progress and condition reasons: a step's pod started, a message) waits until this long
  // after the execution's last status write, so that a step that finishes meanwhile costs one
  // status write, not two, and such changes cost at most one write per delay. 0: at once.
  std::chrono::milliseconds transient_status_delay{10'000};
  // Records the routine StepStarted and StepSucceeded Events too. Off: the Events are what
  // needs a look (retries, waits, failures) and the outcome, and the writes per step stay at
  // the Job create and one status write; status.steps holds every step's state either way.
  bool routine_step_events = false;
  // Told of the dispatches (dispatch latency); null: nobody is. Must outlive the reconciler.
  DispatchObserver* dispatch = nullptr;
  // Reads a re-run's finished source from the server (the cache trims finished executions,
  // cache_trim.h), and the Jobs and record of a finished execution whose Jobs are cleaned up
  // (cleanup.h), the Job holding a name a create found taken (an unlabelled Job the cache
  // cannot show), and the namespace's step cache (step_cache_store.h); null: re-runs use the
  // cache's copy, no Jobs are cleaned up, only labelled foreign Jobs are found, and the step
  // cache is empty and never written. Must outlive the reconciler; thread-safe.
  k8s::ObjectReader* reader = nullptr;
};

class ExecutionReconciler : public Reconciler {
 public:
  // Everything must outlive the reconciler.
  ExecutionReconciler(ExecutionCaches caches, k8s::ObjectWriter& writer, EventRecorder& events,
                      const k8s::Clock& clock, ExecutionReconcilerOptions options);

  const std::string& Name() const override { return name_; }
  ReconcileOutcome Reconcile(const std::string& key) override;
  // The order of the quota waits of each namespace: the watch of ResourceQuotas and pods
  // reports to it (thread-safe); Reconcile hands its grants to the planner.
  QuotaQueue& quota_queue() { return quota_; }

 private:
  // The storage the plan's inputs point into, and what Plan answered. Not movable: inputs
  // points into it.
  struct Planned {
    Planned() = default;
    Planned(const Planned&) = delete;
    Planned& operator=(const Planned&) = delete;

    std::vector<k8s::ObjectPtr> jobs;  // the execution's Jobs
    Pipeline pipeline;                 // what inputs.pipeline points to
    PipelineExecution rerun_source;    // what inputs.rerun_source points to
    StepCacheIndex step_cache;         // what inputs.step_cache points to
    k8s::Status error;                 // reading the re-run's source failed (not NotFound): retry
    PlanInputs inputs;
    PlanResult result;
    // When to look again for what applying the plan found (a name taken, a quota refusal).
    std::optional<std::chrono::milliseconds> requeue;
  };

  // The reconcile, in order (execution_reconciler.cc).
  k8s::Status PlanExecution(const std::string& key, const PipelineExecution& ex,
                            const k8s::Object& current, Planned* planned);
  // The plan's Job actions and Events, the step cache writes and the quota and dispatch reports.
  k8s::Status Apply(const std::string& key, const k8s::Object& execution, Planned* planned,
                    std::optional<k8s::MonoTime> dispatch_since);
  // When to look again: the plan's requeue-after, and for a running execution the periodic
  // recheck and the expiry of its created-Job hints.
  std::optional<std::chrono::milliseconds> Wake(const PipelineExecution& ex,
                                                const PlanResult& result) const;
  // Writes the planned status if it changed, or holds a transient change back (and lowers
  // *wake to when it is due).
  k8s::Status SettleStatus(const k8s::Object& current, const PipelineExecutionStatus& old_status,
                           const PlanResult& result,
                           std::optional<std::chrono::milliseconds>* wake);
  ReconcileOutcome Outcome(const std::string& key, const PipelineExecution& ex,
                           const PlanResult& result, std::optional<std::chrono::milliseconds> wake);

  // Reading the plan's inputs (execution_inputs.cc).
  // The execution's Jobs, from the cache and its own recent creates; adopted by owner UID only.
  std::vector<k8s::ObjectPtr> OwnedJobs(const PipelineExecution& ex) const;
  void Inputs(const std::string& key, const PipelineExecution& ex, JobRecordMemo* memo,
              Planned* planned);
  const Pipeline* FindPipeline(const PipelineExecution& ex, Pipeline* storage,
                               std::string* problem) const;
  // The execution ex's re-run request names, if it names one that exists (rerun.h).
  const PipelineExecution* FindRerunSource(const PipelineExecution& ex, Planned* storage) const;
  // The namespace's artifact repository into in (artifact_repository or its problem).
  void ReadArtifactRepository(const std::string& ns, PlanInputs* in) const;
  // The Jobs that hold a name of the execution's and are not its own: Job name -> who controls
  // them. Looked for only after a create found its name taken.
  void FindForeignJobs(const std::string& key, const PipelineExecution& ex, PlanInputs* in);

  // After the plan (execution_reconciler.cc).
  void RecordEvents(const k8s::Object& execution, const std::vector<Action>& actions);
  // Tells the namespace's QuotaQueue what the plan left waiting for quota.
  void ReportQuotaWaits(const std::string& key, const PlanInputs& in, const PlanResult& result,
                        std::vector<QuotaRefusal> refusals);
  // For StatusWriter: the smaller status to write after the server refused one.
  std::optional<k8s::Object> ReduceRefused(const k8s::Object& current,
                                           const PipelineExecutionStatus& status,
                                           const k8s::Status& refusal, int attempt);
  // A finished execution: deletes it once spec.ttlSecondsAfterFinished has passed
  // (cleanup.h), or says when to look again.
  ReconcileOutcome CleanUpFinished(const std::string& key, const PipelineExecution& ex);
  // The namespace's step cache, read from the server (step_cache_store.h); empty, with a
  // Warning Event on the execution, when it cannot be read (cached steps then run).
  StepCacheIndex ReadStepCacheOf(const k8s::Object& execution);
  // Adds result's step_cache_writes to the namespace's step cache; a write that fails is a
  // Warning Event (the step's result is then not cached), never a failed reconcile.
  void WriteStepCacheEntries(const k8s::Object& execution, const PlanResult& result);

  // Creates the plan's ConfigMaps (fan-ins the status does not keep, fan_in_store.h), each
  // once: AlreadyExists is done. A refusal (403, 400, 413, 422) is remembered for the key's
  // next plans (PlanInputs::fan_in_store_refusals), which then say why the fan-in is not
  // stored. Not OK (a refusal or a failure): the plan, whose status names the ConfigMaps, must
  // not be acted on; the reconcile is retried.
  k8s::Status StoreFanIns(const std::string& key, const PlanResult& result) EXCLUDES(mu_);
  std::map<std::string, std::string> FanInRefusals(const std::string& key) const EXCLUDES(mu_);

  // The execution's memo (made on first use); valid until Forget or ForgetRecords of key.
  JobRecordMemo* Memo(const std::string& key) EXCLUDES(mu_);
  void ForgetRecords(const std::string& key) EXCLUDES(mu_);
  // The execution is gone.
  void Forget(const std::string& key);

  // Constant after construction.
  const std::string name_ = "pipelineexecution";
  const ExecutionCaches caches_;
  k8s::ObjectWriter& writer_;
  EventRecorder& events_;
  const k8s::Clock& clock_;
  const ExecutionReconcilerOptions options_;

  // Thread-safe.
  ReadYourWritesCache executions_;  // caches_.executions and the statuses written
  ReadYourWritesCache jobs_;        // caches_.jobs and the Jobs created
  JobApplier applier_;
  StatusWriter statuses_;
  QuotaQueue quota_;

  mutable k8s::Mutex mu_;
  // The Job records of the executions that run, by execution key; dropped when one finishes.
  // The lock covers the map; a memo itself is used only by the worker reconciling its key.
  std::map<std::string, std::unique_ptr<JobRecordMemo>> records_ GUARDED_BY(mu_);
  // The fan-in stores the server refused, by execution key, then FanInKey: its message. Kept
  // until the execution is gone.
  std::map<std::string, std::map<std::string, std::string>> fan_in_refusals_ GUARDED_BY(mu_);
};

}  // namespace stepline::reconcilers
