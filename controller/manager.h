// Manager: the controller runtime. It owns the informers (Pipelines, PipelineExecutions, Jobs
// labelled app.kubernetes.io/managed-by=stepline, Pods labelled stepline.dev/execution,
// FailedCreate Events indexed by their involvedObject's uid, ResourceQuotas, whose changes
// only the controllers' ChangeHooks read, and PipelineSchedules; in one namespace or all), turns
// their events into keys for the registered reconcilers, waits for the caches to sync, and — once
// this replica leads, when leader election is on — runs the workers.
//
// Run() returns when asked to stop (graceful: workers stopped, Lease released, informers
// stopped) or at once when leadership is lost (workers stop taking keys; no release).
//
// Thread-safety: Cache/Register before Run, from the thread that will call Run. Run from one
// thread. RequestStop, CachesSynced, IsLeader from any thread. Event handlers run on informer
// threads and only enqueue. State for Run is guarded by mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/dispatch_latency.h"
#include "controller/informer_source.h"
#include "controller/leader_election.h"
#include "controller/metrics.h"
#include "controller/reconcile_loop.h"
#include "k8sclient/clock.h"
#include "reconcilers/reconciler.h"

namespace stepline::controller {

// Which changes besides its own kind's enqueue a reconciler's keys.
enum class Watch {
  kOwnedJobs,            // a Job -> its controller owner of the primary kind
  kExecutionPods,        // a Pod -> the execution named by its stepline.dev/execution label
  kReferencedPipelines,  // a Pipeline -> the executions whose spec.pipelineName names it
  kJobEvents,            // a FailedCreate Event on a Job -> the Job's controller owner
};

// Told of every change of a watched object (old_obj null when added, new_obj null when
// deleted), before any predicate drops it; answers more keys to enqueue. Runs on informer
// threads: must be thread-safe and quick.
using ChangeHook = std::function<std::vector<std::string>(
    const k8s::Resource& resource, const k8s::Object* old_obj, const k8s::Object* new_obj)>;

struct ControllerOptions {
  k8s::Resource primary;  // resources::kPipelines or resources::kPipelineExecutions
  int workers = 2;
  std::vector<Watch> watches;
  ChangeHook on_change;  // may be empty
};

struct ManagerOptions {
  std::string ns;  // "" = all namespaces
  std::chrono::milliseconds cache_sync_timeout{120'000};
  // A pod update that only says the pod started (ClassifyPodChange: kStarted) enqueues its
  // execution this much later, and the execution's next reconcile cancels that wake-up: a step
  // that finishes meanwhile costs no reconcile for its start. The execution reconciler's
  // transient status delay; 0: at once.
  std::chrono::milliseconds started_pod_delay{0};
  // The controller's own namespace: the ConfigMap of the cluster's SageMaker instance types
  // (reconcilers/sagemaker_instances.h) is watched there, by its name; its changes reach the
  // controllers' ChangeHooks only. "": not watched.
  std::string controller_namespace;
};

class Manager {
 public:
  enum class RunResult { kStopped, kLeadershipLost, kCacheSyncFailed };

  // factory, clock and registry must outlive the manager.
  Manager(InformerFactory& factory, const k8s::Clock& clock, metrics::Registry& registry,
          ManagerOptions options);
  ~Manager();

  // The cache of a watched resource (pipelines, executions, jobs, pods, events); lives as long
  // as the manager. Reconcilers read from it. Cache(kEvents).ListByOwner(uid) answers the
  // FailedCreate events about the object with that uid.
  const k8s::CacheReader& Cache(const k8s::Resource& resource) const;
  // reconciler must outlive the manager.
  void Register(reconcilers::Reconciler& reconciler, ControllerOptions options);

  // elector: null when leader election is off. It is run on a thread of the manager.
  RunResult Run(const std::atomic<bool>& stop, LeaderElector* elector);
  void RequestStop();

  bool CachesSynced() const;
  bool IsLeader() const { return leading_.load(); }
  // Fed by the Job informer (a Job of an execution turning finished); the execution reconciler
  // reports its dispatches to it.
  DispatchLatency& dispatch_latency() { return dispatch_latency_; }

 private:
  struct Registered {
    std::unique_ptr<ReconcileLoop> loop;
    ControllerOptions options;
    bool Watches(Watch w) const;
  };

  void CreateInformers();
  void AddHandlers(InformerHandle& informer, const k8s::Resource& resource);
  void OnAdd(const k8s::Resource& resource, const k8s::Object& obj);
  bool JobWillTellOfPod(const k8s::Object& old_pod, const k8s::Object& new_pod) const;
  void OnUpdate(const k8s::Resource& resource, const k8s::ObjectPtr& old_obj,
                const k8s::Object& new_obj);
  void OnObject(const k8s::Resource& resource, const k8s::Object& obj);
  // Runs the controllers' ChangeHooks and enqueues what they answer.
  void Hooks(const k8s::Resource& resource, const k8s::Object* old_obj, const k8s::Object* new_obj);
  // The keys obj's event enqueues, with the loop each goes to.
  using Keys = std::vector<std::pair<ReconcileLoop*, std::string>>;
  Keys KeysFor(const k8s::Resource& resource, const k8s::Object& obj);
  // Enqueues them (after delay when it is positive), each once, counting them by source.
  void Enqueue(const k8s::Resource& resource, Keys keys,
               std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // Waits until synced() (checked every 50 ms), a stop, or the cache sync timeout.
  bool WaitForCacheSync(const std::atomic<bool>& stop, const std::function<bool()>& synced);
  // Waits until leading (true) or stop/lost (false).
  bool WaitToLead(const std::atomic<bool>& stop, LeaderElector& elector);
  void WaitForStopOrLoss(const std::atomic<bool>& stop);
  bool Lost() const;
  void StartWorkers();
  void StopWorkers();
  void StopElector(LeaderElector* elector, bool release);
  void StopInformers();

  // Constant after construction (registered_ after Run starts).
  InformerFactory& factory_;
  const k8s::Clock& clock_;
  metrics::Registry& registry_;
  const ManagerOptions options_;
  std::map<std::string, std::unique_ptr<InformerHandle>> informers_;  // by resource plural
  std::vector<Registered> registered_;
  metrics::ScalarFamily& leader_gauge_;
  metrics::ScalarFamily& enqueues_;   // by controller and the resource whose event enqueued
  DispatchLatency dispatch_latency_;  // thread-safe

  std::atomic<bool> leading_{false};
  std::atomic<bool> elector_stop_{false};
  LeaderElector* elector_ = nullptr;  // set by Run before the elector thread starts
  std::thread elector_thread_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stop_requested_ = false;  // guarded by mu_
  bool lost_ = false;            // guarded by mu_
};

}  // namespace stepline::controller
