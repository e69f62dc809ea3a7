#include "reconcilers/read_your_writes.h"

#include <algorithm>
#include <set>

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

bool HasOwner(const Object& obj, const std::string& uid) {
  const Object& refs = obj.value("/metadata/ownerReferences"_json_pointer, Object::array());
  if (!refs.is_array()) return false;
  return std::any_of(refs.begin(), refs.end(), [&](const Object& ref) {
    return ref.is_object() && ref.value("uid", std::string()) == uid;
  });
}

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

template <typename Wanted>
std::vector<ObjectPtr> ReadYourWritesCache::Merge(std::vector<ObjectPtr> cached,
                                                  Wanted wanted) const {
  std::set<Name> listed;
  for (const ObjectPtr& obj : cached) listed.insert({k8s::NamespaceOf(*obj), k8s::NameOf(*obj)});
  const k8s::MonoTime now = clock_.MonotonicNow();
  k8s::MutexLock lock(mu_);
  if (!replaced_.empty()) {
    for (ObjectPtr& obj : cached) obj = OverlayLocked(obj, now);
  }
  for (auto it = created_.begin(); it != created_.end();) {
    if (!wanted(*it->second.object)) {
      ++it;
    } else if (listed.count(it->first) > 0 || Expired(it->second.at, now)) {
      it = created_.erase(it);  // the cache shows it now, or the hint is too old
    } else {
      cached.push_back(it->second.object);
      ++it;
    }
  }
  return cached;
}

std::vector<ObjectPtr> ReadYourWritesCache::List(const std::string& ns) const {
  return Merge(cache_.List(ns),
               [&](const Object& obj) { return ns.empty() || k8s::NamespaceOf(obj) == ns; });
}

std::vector<ObjectPtr> ReadYourWritesCache::ListByOwner(const std::string& owner_uid) const {
  return Merge(cache_.ListByOwner(owner_uid),
               [&](const Object& obj) { return HasOwner(obj, owner_uid); });
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
  k8s::MutexLock lock(mu_);
  created_[std::move(name)] = {std::move(created), now};
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
  for (const auto& [name, creation] : created_) {
    if (!HasOwner(*creation.object, owner_uid)) continue;
    oldest = oldest ? std::min(*oldest, creation.at) : creation.at;
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
  std::erase_if(created_, [&](const auto& entry) { return Expired(entry.second.at, now); });
}

}  // namespace stepline::reconcilers
