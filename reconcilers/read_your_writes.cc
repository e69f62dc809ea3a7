#include "reconcilers/read_your_writes.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "k8sclient/object_fields.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

}  // namespace

ReadYourWritesCache::ReadYourWritesCache(const k8s::CacheReader& cache, const k8s::Clock& clock,
                                         std::chrono::milliseconds memory)
    : cache_(cache), clock_(clock), memory_(memory) {}

ObjectPtr ReadYourWritesCache::OverlayLocked(const ObjectPtr& cached, k8s::MonoTime now) const {
  auto it = replaced_.find({k8s::NamespaceOf(*cached), k8s::NameOf(*cached)});
  if (it == replaced_.end()) return cached;
  if (k8s::ResourceVersionOf(*cached) == it->second.from_resource_version &&
      !Expired(it->second.at, now)) {
    return it->second.object;
  }
  replaced_.erase(it);  // the cache caught up, someone else wrote, or the hint is too old
  return cached;
}

ObjectPtr ReadYourWritesCache::Get(const std::string& ns, const std::string& name) const {
  ObjectPtr cached = cache_.Get(ns, name);
  if (!cached) return nullptr;
  k8s::MutexLock lock(mu_);
  return OverlayLocked(cached, clock_.MonotonicNow());
}

std::vector<ObjectPtr> ReadYourWritesCache::Merge(std::vector<ObjectPtr> cached,
                                                  const std::string& ns,
                                                  const std::string* owner_uid) const {
  std::set<Name> listed;
  for (const ObjectPtr& obj : cached) listed.insert({k8s::NamespaceOf(*obj), k8s::NameOf(*obj)});
  const k8s::MonoTime now = clock_.MonotonicNow();
  k8s::MutexLock lock(mu_);
  if (!replaced_.empty()) {
    for (ObjectPtr& obj : cached) obj = OverlayLocked(obj, now);
  }
  std::vector<Name> names;  // the candidates, before any is forgotten
  if (owner_uid != nullptr) {
    if (auto it = created_by_owner_.find(*owner_uid); it != created_by_owner_.end()) {
      names.assign(it->second.begin(), it->second.end());
    }
  } else {
    for (const auto& entry : created_) {
      if (ns.empty() || entry.first.first == ns) names.push_back(entry.first);
    }
  }
  for (const Name& name : names) {
    auto it = created_.find(name);
    if (it == created_.end()) continue;  // the index names only what created_ holds
    if (listed.count(name) > 0 || Expired(it->second.at, now)) {
      EraseCreatedLocked(it);  // the cache shows it now, or the hint is too old
    } else {
      cached.push_back(it->second.object);
    }
  }
  return cached;
}

ReadYourWritesCache::Creations::iterator ReadYourWritesCache::EraseCreatedLocked(
    Creations::iterator it) const {
  for (const std::string& uid : it->second.owners) {
    auto owned = created_by_owner_.find(uid);
    if (owned == created_by_owner_.end()) continue;
    owned->second.erase(it->first);
    if (owned->second.empty()) created_by_owner_.erase(owned);
  }
  return created_.erase(it);
}

std::vector<ObjectPtr> ReadYourWritesCache::List(const std::string& ns) const {
  return Merge(cache_.List(ns), ns, nullptr);
}

std::vector<ObjectPtr> ReadYourWritesCache::ListByOwner(const std::string& owner_uid) const {
  return Merge(cache_.ListByOwner(owner_uid), "", &owner_uid);
}

void ReadYourWritesCache::Replaced(const Object& before, ObjectPtr after) {
  const k8s::MonoTime now = clock_.MonotonicNow();
  k8s::MutexLock lock(mu_);
  replaced_[{k8s::NamespaceOf(before), k8s::NameOf(before)}] = {k8s::ResourceVersionOf(before),
                                                                std::move(after), now};
  SweepLocked(now);
}

void ReadYourWritesCache::Created(ObjectPtr created) {
  const k8s::MonoTime now = clock_.MonotonicNow();
  Name name{k8s::NamespaceOf(*created), k8s::NameOf(*created)};
  std::vector<std::string> owners = k8s::OwnerUids(*created);
  k8s::MutexLock lock(mu_);
  if (auto it = created_.find(name); it != created_.end()) EraseCreatedLocked(it);
  for (const std::string& uid : owners) created_by_owner_[uid].insert(name);
  created_.emplace(std::move(name), Creation{std::move(created), now, std::move(owners)});
  SweepLocked(now);
}

void ReadYourWritesCache::Forget(const std::string& ns, const std::string& name) {
  k8s::MutexLock lock(mu_);
  replaced_.erase({ns, name});
}

std::optional<std::chrono::milliseconds> ReadYourWritesCache::CreatedExpiry(
    const std::string& owner_uid) const {
  std::optional<k8s::MonoTime> oldest;
  k8s::MutexLock lock(mu_);
  auto owned = created_by_owner_.find(owner_uid);
  if (owned == created_by_owner_.end()) return std::nullopt;
  for (const Name& name : owned->second) {
    const k8s::MonoTime at = created_.at(name).at;
    oldest = oldest ? std::min(*oldest, at) : at;
  }
  if (!oldest) return std::nullopt;
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(*oldest + memory_ - clock_.MonotonicNow());
  return std::max(left, std::chrono::milliseconds(0));
}

// An owner that is gone is never listed again to forget its creations, and a written object
// that is deleted is never read again: the sweep bounds what they leave behind.
void ReadYourWritesCache::SweepLocked(k8s::MonoTime now) {
  if (now - last_sweep_ < memory_) return;
  last_sweep_ = now;
  std::erase_if(replaced_, [&](const auto& entry) { return Expired(entry.second.at, now); });
  for (auto it = created_.begin(); it != created_.end();) {
    it = Expired(it->second.at, now) ? EraseCreatedLocked(it) : std::next(it);
  }
}

}  // namespace stepline::reconcilers
