// An in-memory informer: tests put objects in and fire the handlers by hand; HasSynced is what
// the test says. Of its options only keep is applied, by Recheck. Thread-safe (guarded by mu_).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controller/informer_source.h"

namespace stepline::controller::testing {

class FakeInformer final : public InformerHandle {
 public:
  explicit FakeInformer(k8s::InformerOptions options = {}) : options_(std::move(options)) {}
  void AddEventHandlers(k8s::EventHandlers h) override { handlers_.push_back(std::move(h)); }
  void Start() override {
    std::lock_guard lock(mu_);
    started_ = true;
  }
  void Stop() override {
    std::lock_guard lock(mu_);
    started_ = false;
  }
  bool HasSynced() const override {
    std::lock_guard lock(mu_);
    return synced_;
  }
  void SetSynced(bool synced) {
    std::lock_guard lock(mu_);
    synced_ = synced;
  }
  bool started() const {
    std::lock_guard lock(mu_);
    return started_;
  }

  // Stores obj without telling the handlers (an object the cache already held).
  void Put(k8s::Object obj) {
    auto ptr = std::make_shared<const k8s::Object>(std::move(obj));
    std::lock_guard lock(mu_);
    objects_[k8s::KeyOf(*ptr)] = ptr;
  }
  // Stores obj and calls on_add (or on_update when it was there).
  void Upsert(k8s::Object obj) {
    auto ptr = std::make_shared<const k8s::Object>(std::move(obj));
    k8s::ObjectPtr old;
    {
      std::lock_guard lock(mu_);
      auto& slot = objects_[k8s::KeyOf(*ptr)];
      old = slot;
      slot = ptr;
    }
    for (auto& h : handlers_) {
      if (old && h.on_update) h.on_update(old, ptr);
      if (!old && h.on_add) h.on_add(ptr);
    }
  }
  void Remove(const std::string& key) {
    k8s::ObjectPtr old;
    {
      std::lock_guard lock(mu_);
      old = objects_[key];
      objects_.erase(key);
    }
    for (auto& h : handlers_) {
      if (old && h.on_delete) h.on_delete(old);
    }
  }

  void Recheck(const std::vector<k8s::ObjectPtr>& objects) override {
    if (!options_.keep) return;
    std::lock_guard lock(mu_);
    for (const k8s::ObjectPtr& obj : objects) {
      if (!options_.keep(*obj)) objects_.erase(k8s::KeyOf(*obj));
    }
  }

  k8s::ObjectPtr Get(const std::string& ns, const std::string& name) const override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(ns.empty() ? name : ns + "/" + name);
    return it == objects_.end() ? nullptr : it->second;
  }
  std::vector<k8s::ObjectPtr> List(const std::string& ns) const override {
    std::lock_guard lock(mu_);
    std::vector<k8s::ObjectPtr> out;
    for (const auto& [key, obj] : objects_) {
      if (ns.empty() || k8s::NamespaceOf(*obj) == ns) out.push_back(obj);
    }
    return out;
  }
  std::vector<k8s::ObjectPtr> ListByOwner(const std::string& uid) const override {
    std::lock_guard lock(mu_);
    std::vector<k8s::ObjectPtr> out;
    for (const auto& [key, obj] : objects_) {
      const k8s::Object* owner = k8s::ControllerOf(*obj);
      if (owner && owner->value("uid", "") == uid) out.push_back(obj);
    }
    return out;
  }

 private:
  const k8s::InformerOptions options_;
  std::vector<k8s::EventHandlers> handlers_;  // before Start only
  mutable std::mutex mu_;
  std::map<std::string, k8s::ObjectPtr> objects_;  // guarded by mu_
  bool synced_ = true;                             // guarded by mu_
  bool started_ = false;                           // guarded by mu_
};

class FakeInformerFactory final : public InformerFactory {
 public:
  std::unique_ptr<InformerHandle> Create(const k8s::Resource& res,
                                         const k8s::InformerOptions& opts) override {
    auto informer = std::make_unique<FakeInformer>(opts);
    informers[res.resource] = informer.get();
    options[res.resource] = opts;
    created.emplace_back(res.resource, opts);
    return informer;
  }
  std::map<std::string, FakeInformer*> informers;  // owned by the manager; the last of a resource
  std::map<std::string, k8s::InformerOptions> options;                // the last of a resource
  std::vector<std::pair<std::string, k8s::InformerOptions>> created;  // all, in order
};

}  // namespace stepline::controller::testing
