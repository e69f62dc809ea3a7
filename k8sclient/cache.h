// Read access to an informer's local cache. Objects are immutable and shared: never modify one;
// copy it first (sample-controller: "NEVER modify objects from the store").
//
// Implementations are safe to call from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "k8sclient/resource.h"

namespace stepline::k8s {

class CacheReader {
 public:
  virtual ~CacheReader() = default;
  // nullptr when the object is not in the cache.
  virtual ObjectPtr Get(const std::string& ns, const std::string& name) const = 0;
  // All objects in ns ("" = every namespace).
  virtual std::vector<ObjectPtr> List(const std::string& ns) const = 0;
  // Objects with an ownerReference (controller or not) to this UID.
  virtual std::vector<ObjectPtr> ListByOwner(const std::string& owner_uid) const = 0;
};

// Callbacks an informer calls, in order, from its own thread. They should only enqueue keys.
struct EventHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

}  // namespace stepline::k8s
