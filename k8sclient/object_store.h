// ObjectStore: the informer's cache — immutable objects by "namespace/name", indexed by
// namespace and by owner UID.
//
// Thread-safety: every method may be called from any thread; readers share mu_, writers (the
// informer thread) take it exclusively.
#pragma once

#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "k8sclient/resource.h"

namespace stepline::k8s {

class ObjectStore {
 public:
  ObjectPtr Get(const std::string& key) const;
  // ns "" = all namespaces. Sorted by key.
  std::vector<ObjectPtr> List(const std::string& ns) const;
  std::vector<ObjectPtr> ListByOwner(const std::string& owner_uid) const;
  size_t size() const;
  // Stores obj under KeyOf(obj); returns what it replaced (nullptr if new).
  ObjectPtr Upsert(ObjectPtr obj);
  // Removes the object stored under key; returns it (nullptr if absent).
  ObjectPtr Remove(const std::string& key);

 private:
  void IndexLocked(const std::string& key, const Object& obj);
  void UnindexLocked(const std::string& key, const Object& obj);

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ObjectPtr> objects_;         // guarded by mu_
  std::map<std::string, std::set<std::string>> by_namespace_;  // guarded by mu_: ns -> keys
  std::map<std::string, std::set<std::string>> by_owner_;      // guarded by mu_: uid -> keys
};

// The UIDs of obj's ownerReferences.
std::vector<std::string> OwnerUids(const Object& obj);

}  // namespace stepline::k8s
