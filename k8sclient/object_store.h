// ObjectStore: the informer's cache — immutable objects by "namespace/name", indexed by
// namespace and by owner UID.
//
// Thread-safety: every method may be called from any thread; readers share mu_, writers (the
// informer thread) take it exclusively (the fields are GUARDED_BY mu_).
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

class ObjectStore {
 public:
  ObjectPtr Get(const std::string& key) const EXCLUDES(mu_);
  // ns "" = all namespaces. Sorted by key.
  std::vector<ObjectPtr> List(const std::string& ns) const EXCLUDES(mu_);
  std::vector<ObjectPtr> ListByOwner(const std::string& owner_uid) const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);
  // Stores obj under KeyOf(obj); returns what it replaced (nullptr if new).
  ObjectPtr Upsert(ObjectPtr obj) EXCLUDES(mu_);
  // Removes the object stored under key; returns it (nullptr if absent).
  ObjectPtr Remove(const std::string& key) EXCLUDES(mu_);

 private:
  void IndexLocked(const std::string& key, const Object& obj) REQUIRES(mu_);
  void UnindexLocked(const std::string& key, const Object& obj) REQUIRES(mu_);
  // Appends the objects stored under keys to out.
  void CollectLocked(const std::set<std::string>& keys, std::vector<ObjectPtr>& out) const
      REQUIRES_SHARED(mu_);

  mutable SharedMutex mu_;
  std::unordered_map<std::string, ObjectPtr> objects_ GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> by_namespace_ GUARDED_BY(mu_);  // ns -> keys
  std::map<std::string, std::set<std::string>> by_owner_ GUARDED_BY(mu_);      // uid -> keys
};

}  // namespace stepline::k8s
