// GarbageCollector: deletes Jobs and Pods whose owners (by UID) are gone, as the cluster's
// garbage collector does:
//   - all owners absent -> delete the dependent (Background; Foreground when an owner is being
//     deleted in the foreground and the dependent has dependents of its own); some absent ->
//     remove the dangling ownerReferences;
//   - an owner being deleted with the foregroundDeletion finalizer -> delete its dependents,
//     then remove the finalizer once no dependent with blockOwnerDeletion=true is left;
//   - an owner being deleted with the orphan finalizer -> remove the ownerReferences to it from
//     its dependents, then the finalizer.
// Owners of any kind are looked up through informers started on first need (the owner's kind
// mapped to its resource), confirmed by a live GET before anything is deleted.
//
// Thread-safety: handlers may be called from any thread; Sync runs on the loop's worker.
// owner_informers_ is GUARDED_BY mu_; the informers themselves are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/informer.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/agent_loop.h"

namespace stepline::localagent {

class GarbageCollector {
 public:
  // pods and jobs: the agent's informers (dependents, and owners of their kinds). They and the
  // client must outlive the collector.
  GarbageCollector(k8s::Client& client, k8s::Informer& pods, k8s::Informer& jobs,
                   const k8s::Clock& clock);
  ~GarbageCollector();
  void Start() { loop_.Start(1); }
  void Stop() EXCLUDES(mu_);

  // A Pod or Job was added or changed: check its owners; and if it is itself an owner being
  // deleted, process that.
  void OnDependent(const k8s::ObjectPtr& obj);
  // Any watched object went away: its dependents and its own owners need a look.
  void OnDeleted(const k8s::ObjectPtr& obj);

 private:
  enum class OwnerState { kPresent, kAbsent, kDeletingForeground, kUnknown };

  SyncOutcome Sync(const std::string& key);
  SyncOutcome SyncDependent(const k8s::Resource& res, const std::string& ns,
                            const std::string& name);
  SyncOutcome SyncOwner(const k8s::Resource& res, const std::string& ns, const std::string& name);
  OwnerState Lookup(const std::string& ns, const k8s::Object& ref);
  k8s::CacheReader* InformerFor(const k8s::Resource& res, bool* synced) EXCLUDES(mu_);
  std::vector<k8s::ObjectPtr> DependentsOf(const std::string& uid,
                                           std::vector<k8s::Resource>* kinds) const;
  bool HasDependents(const std::string& uid) const;
  void EnqueueObject(const char* role, const k8s::Object& obj);
  void EnqueueOwners(const k8s::Object& obj);

  k8s::Client& client_;
  k8s::Informer& pods_;
  k8s::Informer& jobs_;
  const k8s::Clock& clock_;
  k8s::Mutex mu_;
  std::map<std::string, std::unique_ptr<k8s::Informer>> owner_informers_ GUARDED_BY(mu_);
  SyncLoop loop_;
};

}  // namespace stepline::localagent
