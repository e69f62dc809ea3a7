#include "k8sclient/object_store.h"

#include "k8sclient/object_fields.h"

namespace stepline::k8s {

ObjectPtr ObjectStore::Get(const std::string& key) const {
  ReaderMutexLock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> ObjectStore::List(const std::string& ns) const {
  ReaderMutexLock lock(mu_);
  std::vector<ObjectPtr> out;
  if (!ns.empty()) {
    if (auto it = by_namespace_.find(ns); it != by_namespace_.end()) CollectLocked(it->second, out);
    return out;
  }
  out.reserve(objects_.size());
  for (const auto& [unused, keys] : by_namespace_) CollectLocked(keys, out);
  return out;
}

void ObjectStore::CollectLocked(const std::set<std::string>& keys,
                                std::vector<ObjectPtr>& out) const {
  for (const auto& key : keys) out.push_back(objects_.at(key));
}

std::vector<ObjectPtr> ObjectStore::ListByOwner(const std::string& owner_uid) const {
  ReaderMutexLock lock(mu_);
  std::vector<ObjectPtr> out;
  if (auto it = by_owner_.find(owner_uid); it != by_owner_.end()) CollectLocked(it->second, out);
  return out;
}

size_t ObjectStore::size() const {
  ReaderMutexLock lock(mu_);
  return objects_.size();
}

void ObjectStore::IndexLocked(const std::string& key, const Object& obj) {
  by_namespace_[NamespaceOf(obj)].insert(key);
  for (const auto& uid : OwnerUids(obj)) by_owner_[uid].insert(key);
}

void ObjectStore::UnindexLocked(const std::string& key, const Object& obj) {
  auto drop = [&](std::map<std::string, std::set<std::string>>& index, const std::string& value) {
    auto it = index.find(value);
    if (it == index.end()) return;
    it->second.erase(key);
    if (it->second.empty()) index.erase(it);
  };
  drop(by_namespace_, NamespaceOf(obj));
  for (const auto& uid : OwnerUids(obj)) drop(by_owner_, uid);
}

ObjectPtr ObjectStore::Upsert(ObjectPtr obj) {
  std::string key = KeyOf(*obj);
  WriterMutexLock lock(mu_);
  ObjectPtr& slot = objects_[key];
  ObjectPtr old = std::move(slot);
  if (old) UnindexLocked(key, *old);
  IndexLocked(key, *obj);
  slot = std::move(obj);
  return old;
}

ObjectPtr ObjectStore::Remove(const std::string& key) {
  WriterMutexLock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = std::move(it->second);
  objects_.erase(it);
  UnindexLocked(key, *old);
  return old;
}

}  // namespace stepline::k8s
