// ReadYourWritesCache: an informer cache (k8s::CacheReader) as this process's own writes left
// it: the read-your-writes memory of the reconcilers, kept in one place.
//
// An informer shows a write some time after the server answered it. A reconcile that runs in
// between would act on the object as it was before the write: write the same status again,
// create the same Job again, record the same Event again. This decorator lays the answers of
// recent writes over the cache:
//   - Get(ns, name), after Replaced(before, after): answers `after` while the cache still holds
//     the resourceVersion `before` had; once the cache shows any other version (it caught up,
//     or someone else wrote), the cache's object, and the memory is dropped.
//   - List and ListByOwner, after Created(object): also answer the created object while the
//     cache does not list it; once the cache lists it, the memory is dropped.
// Every memory is a hint with a short life (`memory`, measured on the clock's monotonic time):
// the Jobs and the cache are the truth. A created Job that is deleted before the informer
// showed it is forgotten after `memory`, so that the next plan creates it again (a create of a
// Job that does exist answers AlreadyExists: names are deterministic, never a duplicate).
//
// Ownership: the cache and the clock are held by reference and must outlive the decorator; the
// remembered objects are shared and immutable, like the cache's.
// Thread-safety: every method may be called from any thread at once (workers reconciling
// different keys, the creates of one reconcile); the memories are GUARDED_BY mu_. The const
// readers drop memories the cache made stale, so they lock too.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::reconcilers {

class ReadYourWritesCache final : public k8s::CacheReader {
 public:
  ReadYourWritesCache(const k8s::CacheReader& cache, const k8s::Clock& clock,
                      std::chrono::milliseconds memory);

  // The cache's object, or the answer of this process's last write in its place (see above).
  // nullptr when the cache does not hold the object (deleted: a remembered write does not
  // bring it back).
  k8s::ObjectPtr Get(const std::string& ns, const std::string& name) const override EXCLUDES(mu_);
  // The cache's objects, with each replaced one as Get answers it, plus the created objects in
  // ns ("" = every namespace) that the cache does not list yet.
  std::vector<k8s::ObjectPtr> List(const std::string& ns) const override EXCLUDES(mu_);
  // The cache's objects with an ownerReference to owner_uid, with each replaced one as Get
  // answers it, plus the created objects with such a reference that the cache does not list yet.
  std::vector<k8s::ObjectPtr> ListByOwner(const std::string& owner_uid) const override
      EXCLUDES(mu_);

  // A write (an update, a status write) replaced `before`, as read from this cache, and the
  // server answered `after`.
  void Replaced(const k8s::Object& before, k8s::ObjectPtr after) EXCLUDES(mu_);
  // A create answered `created`.
  void Created(k8s::ObjectPtr created) EXCLUDES(mu_);
  // Forgets what was remembered of ns/name (its replacement; not the objects it created).
  void Forget(const std::string& ns, const std::string& name) EXCLUDES(mu_);
  // How long until the oldest remembered create with an ownerReference to owner_uid is
  // forgotten (at least zero); nullopt when none is remembered. Then the owner should be looked
  // at again: the create the cache never showed is planned anew.
  std::optional<std::chrono::milliseconds> CreatedExpiry(const std::string& owner_uid) const
      EXCLUDES(mu_);

 private:
  struct Replacement {
    std::string from_resource_version;  // the cached version the write replaced
    k8s::ObjectPtr object;              // what the server answered
    k8s::MonoTime at;                   // when
  };
  struct Creation {
    k8s::ObjectPtr object;            // what the server answered
    k8s::MonoTime at;                 // when
    std::vector<std::string> owners;  // the uids of its ownerReferences
  };
  using Name = std::pair<std::string, std::string>;  // namespace, name
  using Creations = std::map<Name, Creation>;

  // The object to answer for `cached` (the cache's copy).
  k8s::ObjectPtr OverlayLocked(const k8s::ObjectPtr& cached, k8s::MonoTime now) const REQUIRES(mu_);
  // cached with the overlays, plus the creations `names` lists (in ns, "" = every namespace, or
  // with an ownerReference to owner_uid when it is set) that cached does not hold (those cached
  // holds, and old ones, are forgotten).
  std::vector<k8s::ObjectPtr> Merge(std::vector<k8s::ObjectPtr> cached, const std::string& ns,
                                    const std::string* owner_uid) const EXCLUDES(mu_);
  // Forgets a creation, from the owner index too; the next one.
  Creations::iterator EraseCreatedLocked(Creations::iterator it) const REQUIRES(mu_);
  bool Expired(k8s::MonoTime at, k8s::MonoTime now) const { return now - at >= memory_; }
  // Drops every expired memory, at most once per `memory`.
  void SweepLocked(k8s::MonoTime now) REQUIRES(mu_);

  // Constant after construction.
  const k8s::CacheReader& cache_;
  const k8s::Clock& clock_;
  const std::chrono::milliseconds memory_;

  mutable k8s::Mutex mu_;
  mutable std::map<Name, Replacement> replaced_ GUARDED_BY(mu_);
  mutable Creations created_ GUARDED_BY(mu_);
  // owner uid -> the names in created_ with an ownerReference to it: a reconcile of one owner
  // looks at its own creations, not at every owner's (1,000 executions running at once).
  mutable std::map<std::string, std::set<Name>, std::less<>> created_by_owner_ GUARDED_BY(mu_);
  k8s::MonoTime last_sweep_ GUARDED_BY(mu_){};
};

}  // namespace stepline::reconcilers
