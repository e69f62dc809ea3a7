// Manager: the controller runtime, generic as controller-runtime's manager. It runs the informers
// it is given (AddInformer), turns their changes into keys through the watches each registered
// reconciler declared (controller/reconciler.h: Watch, a resource and a MapChange), waits for
// the caches to sync, and, once this replica leads (when leader election is on), runs the
// workers. It knows no resource, label or predicate of Stepline's: those live with the
// reconcilers (reconcilers/watches.h).
//
// Run() returns when asked to stop (graceful: workers stopped, Lease released, informers
// stopped) or at once when leadership is lost (workers stop taking keys; no release).
//
// Thread-safety: AddInformer/Cache/Register before Run, from the thread that will call Run. Run
// from one thread. RequestStop, CachesSynced, IsLeader from any thread. Event handlers run on
// informer threads and only map and enqueue. State for Run is GUARDED_BY mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/informer_source.h"
#include "controller/leader_election.h"
#include "controller/metrics.h"
#include "controller/reconcile_loop.h"
#include "controller/reconciler.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::controller {

struct ControllerOptions {
  int workers = 2;
  // What enqueues the reconciler's keys; its own kind is one of them, like any other.
  std::vector<Watch> watches;
};

struct ManagerOptions {
  std::string ns;  // "" = all namespaces
  std::chrono::milliseconds cache_sync_timeout{120'000};
};

class Manager {
 public:
  enum class RunResult { kStopped, kLeadershipLost, kCacheSyncFailed };

  // factory, clock and registry must outlive the manager.
  Manager(InformerFactory& factory, const k8s::Clock& clock, metrics::Registry& registry,
          ManagerOptions options);
  ~Manager();

  // Creates the informer of spec.resource in the manager's namespace (or spec.ns), one per
  // name (spec.name, by default the resource's plural). The handle lives as long as the
  // manager; the caller may add event handlers of its own before Run.
  InformerHandle& AddInformer(InformerSpec spec);
  // The cache of the informer named by the resource's plural; lives as long as the manager.
  // Reconcilers read from it.
  const k8s::CacheReader& Cache(const k8s::Resource& resource) const;
  // reconciler must outlive the manager. Every watched resource must have an informer.
  void Register(Reconciler& reconciler, ControllerOptions options);

  // elector: null when leader election is off. It is run on a thread of the manager.
  RunResult Run(const std::atomic<bool>& stop, LeaderElector* elector) EXCLUDES(mu_);
  void RequestStop() EXCLUDES(mu_);

  bool CachesSynced() const;
  bool IsLeader() const { return leading_.load(); }

 private:
  struct Registered {
    std::unique_ptr<ReconcileLoop> loop;
    ControllerOptions options;
  };

  void AddHandlers(InformerHandle& informer, const k8s::Resource& resource);
  // Maps the change through every watch of the resource and enqueues what they answer, each
  // key once (with its shortest delay), counting them by source.
  void OnChange(const k8s::Resource& resource, const Change& change);
  // Waits until synced() (checked every 50 ms), a stop, or the cache sync timeout.
  bool WaitForCacheSync(const std::atomic<bool>& stop, const std::function<bool()>& synced)
      EXCLUDES(mu_);
  // Waits until leading (true) or stop/lost (false).
  bool WaitToLead(const std::atomic<bool>& stop, LeaderElector& elector) EXCLUDES(mu_);
  void WaitForStopOrLoss(const std::atomic<bool>& stop) EXCLUDES(mu_);
  bool Lost() const EXCLUDES(mu_);
  void StartWorkers();
  void StopWorkers();
  void StopElector(LeaderElector* elector, bool release);
  void StopInformers();

  // Constant after construction (registered_ after Run starts).
  InformerFactory& factory_;
  const k8s::Clock& clock_;
  metrics::Registry& registry_;
  const ManagerOptions options_;
  std::map<std::string, std::unique_ptr<InformerHandle>> informers_;  // by name
  std::map<std::string, bool> owners_;                                // by name
  std::vector<Registered> registered_;
  metrics::ScalarFamily& leader_gauge_;
  metrics::ScalarFamily& enqueues_;  // by controller and the resource whose event enqueued

  std::atomic<bool> leading_{false};
  std::atomic<bool> elector_stop_{false};
  LeaderElector* elector_ = nullptr;  // set by Run before the elector thread starts
  std::thread elector_thread_;

  mutable k8s::Mutex mu_;
  k8s::CondVar
      changed_;  // signalled, with mu_ held, when leading_, lost_ or stop_requested_ change
  bool stop_requested_ GUARDED_BY(mu_) = false;
  bool lost_ GUARDED_BY(mu_) = false;
};

}  // namespace stepline::controller
