// The PipelineExecution reconciler: the thin shell around the planner. It reads everything
// from the informer caches, calls Plan, applies the actions idempotently (create: AlreadyExists
// is success; delete: NotFound is success; a create refused by a ResourceQuota becomes a wait),
// records the events, and writes status through /status only when it changed. It never sleeps:
// every wait is a requeue-after.
//
// Informer caches lag the writes that cause them. So that a reconcile that runs before the
// cache has caught up neither re-creates a Job nor re-emits events, the reconciler remembers
// its own recent writes (the Jobs it created, the status it wrote) until the cache shows them.
//
// Status writes are coalesced: a change that records no progress (options'
// transient_status_delay) waits, so that "step k finished" and "step k+1 dispatched" share one
// write, and a step that starts and finishes within the delay is written once.
//
// A reconcile's Job creates (a fan-out's children) are made in slow-start batches, up to 16 in
// flight at once (slow_start.h), so that the last child does not wait for every other's round
// trip.
//
// Thread-safety: Reconcile may run on several workers at once, never for the same key; the
// memory of recent writes is guarded by mu_. The writer must be safe to call from several
// threads at once (a reconcile's creates run on threads of their own).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "reconcilers/api_types.h"
#include "reconcilers/dispatch_observer.h"
#include "reconcilers/job_record_memo.h"
#include "reconcilers/planner.h"
#include "reconcilers/quota_queue.h"
#include "reconcilers/reconciler.h"

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
  struct Dispatch {                      // one reconcile's dispatches
    std::optional<k8s::MonoTime> since;  // the pending finish when the reconcile began
    int created = 0;                     // Jobs created
    int quota_refused = 0;               // Job creates a ResourceQuota refused
  };
  struct Written {                      // a write the cache may not show yet
    std::string from_resource_version;  // the cached version the write replaced
    k8s::ObjectPtr object;              // what the server answered (trimmed once finished)
    k8s::MonoTime at;                   // when
  };

  k8s::ObjectPtr Fresh(const std::string& key, const k8s::ObjectPtr& cached);
  const Pipeline* FindPipeline(const PipelineExecution& ex, Pipeline* storage,
                               std::string* problem) const;
  std::vector<k8s::ObjectPtr> OwnedJobs(const std::string& key, const PipelineExecution& ex);
  // The storage holds what in.pipeline and in.rerun_source point to.
  struct Lookups {
    Pipeline pipeline;
    PipelineExecution rerun_source;
    k8s::Status error;  // reading the re-run's source failed (not NotFound): retry
  };
  // The namespace's artifact repository into in (artifact_repository or its problem).
  void ReadArtifactRepository(const std::string& ns, PlanInputs* in) const;
  PlanInputs Inputs(const std::string& key, const PipelineExecution& ex,
                    const std::vector<k8s::ObjectPtr>& jobs, Lookups* storage, JobRecordMemo* memo);
  // The execution ex's re-run request names, if it names one that exists (rerun.h).
  const PipelineExecution* FindRerunSource(const PipelineExecution& ex, Lookups* storage) const;
  // True once a Job create of key answered AlreadyExists (foreign Jobs are then looked for).
  bool Collided(const std::string& key);
  // The execution's memo (made on first use); valid until Forget or ForgetRecords of key.
  JobRecordMemo* Memo(const std::string& key);
  void ForgetRecords(const std::string& key);
  k8s::Status ApplyActions(const std::string& key, const k8s::Object& execution, PlanResult& result,
                           Dispatch* dispatch);
  struct CreateOutcome {  // one Job create's answer
    k8s::Status status;   // not ok: it failed (AlreadyExists is done, not a failure)
    bool created = false;
    bool already_exists = false;  // the name is taken (by this execution's Job, or a foreign one)
    std::optional<std::string> quota_refusal;  // a ResourceQuota refused it: the message
  };
  // Safe to call from several threads at once (the creates of one reconcile run concurrently).
  CreateOutcome CreateJob(const std::string& key, const Action& action,
                          std::optional<k8s::MonoTime> since);
  // After a create of `wanted` answered AlreadyExists: reads the Job holding the name and, if
  // the execution does not control it, keeps it for the next plan (TakeUnlistedForeignJobs).
  // The Jobs cache lists only labelled Jobs, so this is how an unlabelled one is found.
  void NoteUnlistedForeignJob(const std::string& key, const k8s::Object& wanted);
  // Moves what NoteUnlistedForeignJob kept for key into *into (Job name -> who controls it).
  void TakeUnlistedForeignJobs(const std::string& key, std::map<std::string, std::string>* into);
  k8s::Status CreateJobs(const std::string& key, const std::vector<const Action*>& creates,
                         PlanResult& result, Dispatch* dispatch);
  k8s::Status PatchOrDeleteJob(const std::string& ns, const Action& action);
  // A finished execution: deletes its Jobs once spec.ttlSecondsAfterFinished has passed
  // (cleanup.h), or says when to look again.
  ReconcileOutcome CleanUpFinished(const std::string& key, const PipelineExecution& ex);
  // The namespace's step cache, read from the server (step_cache_store.h); empty, with a
  // Warning Event on the execution, when it cannot be read (cached steps then run).
  StepCacheIndex ReadStepCacheOf(const k8s::Object& execution);
  // Adds result's step_cache_writes to the namespace's step cache; a write that fails is a
  // Warning Event (the step's result is then not cached), never a failed reconcile.
  void WriteStepCacheEntries(const k8s::Object& execution, const PlanResult& result);
  void ReportQuotaWaits(const std::string& key, const PlanInputs& in, const PlanResult& result,
                        const Dispatch& dispatch);
  // Writes the planned status if it changed, or holds a transient change back (and lowers
  // *wake to when it is due).
  k8s::Status SettleStatus(const std::string& key, const k8s::Object& current,
                           const PipelineExecutionStatus& old_status, const PlanResult& result,
                           std::optional<std::chrono::milliseconds>* wake);
  void Forget(const std::string& key);
  // How long to hold back this transient status change (until transient_status_delay after
  // the last write); nullopt: write it now.
  std::optional<std::chrono::milliseconds> HoldBack(const std::string& key,
                                                    const PipelineExecutionStatus& old_status,
                                                    const PlanResult& result);
  // Writes status; a status the server refuses (IsRefusedStatus) is reduced and written again.
  k8s::Status WriteStatus(const std::string& key, const k8s::Object& cached,
                          const PipelineExecutionStatus& status);
  k8s::Result<k8s::Object> UpdateStatus(const k8s::Object& cached,
                                        const PipelineExecutionStatus& status);
  void Remember(const std::string& key, const std::string& job_name, k8s::ObjectPtr job);
  std::optional<std::chrono::milliseconds> HintExpiry(const std::string& key);
  // Forgets status writes old enough that neither Fresh nor HoldBack needs them (an execution
  // that finished is never reconciled again to forget its last write). Requires mu_.
  void SweepWritesLocked(k8s::MonoTime now);

  const std::string name_ = "pipelineexecution";
  const ExecutionCaches caches_;
  k8s::ObjectWriter& writer_;
  EventRecorder& events_;
  const k8s::Clock& clock_;
  const ExecutionReconcilerOptions options_;
  QuotaQueue quota_;  // thread-safe

  std::mutex mu_;
  std::map<std::string, Written> written_status_;  // guarded by mu_; by execution key
  // guarded by mu_; execution key -> Jobs created and not yet seen in the cache
  std::map<std::string, std::map<std::string, std::pair<k8s::WallTime, k8s::ObjectPtr>>>
      created_jobs_;
  std::set<std::string> collided_;  // guarded by mu_; see Collided
  // guarded by mu_; execution key -> Job name -> who controls it (NoteUnlistedForeignJob)
  std::map<std::string, std::map<std::string, std::string>> unlisted_foreign_;
  // guarded by mu_; execution key -> when this replica last wrote its status
  std::map<std::string, k8s::MonoTime> last_write_;
  k8s::MonoTime last_sweep_{};  // guarded by mu_
  // guarded by mu_ (the map; a memo is used only by the worker reconciling its key): the Job
  // records of the executions that run, by execution key; dropped when one finishes
  std::map<std::string, std::unique_ptr<JobRecordMemo>> records_;
};

}  // namespace stepline::reconcilers
