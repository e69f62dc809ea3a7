// FakeCache: an informer cache (k8s::CacheReader) holding what a test puts in it, for the
// reconcilers' unit tests. Not thread-safe: tests use it from one thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/resource.h"

namespace stepline::fakes {

class FakeCache : public k8s::CacheReader {
 public:
  void Put(const k8s::Object& obj) {
    objects_[{k8s::NamespaceOf(obj), k8s::NameOf(obj)}] = std::make_shared<const k8s::Object>(obj);
  }
  void Remove(const std::string& ns, const std::string& name) { objects_.erase({ns, name}); }

  k8s::ObjectPtr Get(const std::string& ns, const std::string& name) const override {
    auto it = objects_.find({ns, name});
    return it == objects_.end() ? nullptr : it->second;
  }
  std::vector<k8s::ObjectPtr> List(const std::string& ns) const override {
    std::vector<k8s::ObjectPtr> out;
    for (const auto& [key, obj] : objects_) {
      if (ns.empty() || key.first == ns) out.push_back(obj);
    }
    return out;
  }
  // The objects whose controller owner reference names uid.
  std::vector<k8s::ObjectPtr> ListByOwner(const std::string& uid) const override {
    std::vector<k8s::ObjectPtr> out;
    for (const auto& [key, obj] : objects_) {
      const k8s::Object* owner = k8s::ControllerOf(*obj);
      if (owner != nullptr && owner->value("uid", "") == uid) out.push_back(obj);
    }
    return out;
  }

 private:
  std::map<std::pair<std::string, std::string>, k8s::ObjectPtr> objects_;
};

}  // namespace stepline::fakes
