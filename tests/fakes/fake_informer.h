// An in-memory informer: tests put objects in and fire the handlers by hand; HasSynced is what
// the test says. Of its options only keep is applied, by Recheck. Thread-safe (the state is
// GUARDED_BY mu_).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/informer_source.h"
#include "k8sclient/thread_annotations.h"
#include "tests/fakes/fake_cache.h"

namespace stepline::fakes {

class FakeInformer final : public controller::InformerHandle {
 public:
  explicit FakeInformer(k8s::InformerOptions options = {}) : options_(std::move(options)) {}
  void AddEventHandlers(k8s::EventHandlers h) override { handlers_.push_back(std::move(h)); }
  void Start() override {
    k8s::MutexLock lock(mu_);
    started_ = true;
  }
  void Stop() override {
    k8s::MutexLock lock(mu_);
    started_ = false;
  }
  bool HasSynced() const override {
    k8s::MutexLock lock(mu_);
    return synced_;
  }
  void SetSynced(bool synced) {
    k8s::MutexLock lock(mu_);
    synced_ = synced;
  }
  bool started() const {
    k8s::MutexLock lock(mu_);
    return started_;
  }

  // Stores obj without telling the handlers (an object the cache already held).
  void Put(const k8s::Object& obj) {
    k8s::MutexLock lock(mu_);
    cache_.Put(obj);
  }
  // Stores obj and calls on_add (or on_update when it was there).
  void Upsert(const k8s::Object& obj) {
    k8s::ObjectPtr old, now;
    {
      k8s::MutexLock lock(mu_);
      old = cache_.Get(k8s::NamespaceOf(obj), k8s::NameOf(obj));
      cache_.Put(obj);
      now = cache_.Get(k8s::NamespaceOf(obj), k8s::NameOf(obj));
    }
    for (auto& h : handlers_) {
      if (old && h.on_update) h.on_update(old, now);
      if (!old && h.on_add) h.on_add(now);
    }
  }
  // Removes the object with key ("namespace/name", or "name" for a cluster-scoped one) and
  // calls on_delete when it was there.
  void Remove(const std::string& key) {
    const auto [ns, name] = k8s::SplitKey(key);
    k8s::ObjectPtr old;
    {
      k8s::MutexLock lock(mu_);
      old = cache_.Get(ns, name);
      cache_.Remove(ns, name);
    }
    for (auto& h : handlers_) {
      if (old && h.on_delete) h.on_delete(old);
    }
  }

  void Recheck(const std::vector<k8s::ObjectPtr>& objects) override {
    if (!options_.keep) return;
    k8s::MutexLock lock(mu_);
    for (const k8s::ObjectPtr& obj : objects) {
      if (!options_.keep(*obj)) cache_.Remove(k8s::NamespaceOf(*obj), k8s::NameOf(*obj));
    }
  }

  k8s::ObjectPtr Get(const std::string& ns, const std::string& name) const override {
    k8s::MutexLock lock(mu_);
    return cache_.Get(ns, name);
  }
  std::vector<k8s::ObjectPtr> List(const std::string& ns) const override {
    k8s::MutexLock lock(mu_);
    return cache_.List(ns);
  }
  std::vector<k8s::ObjectPtr> ListByOwner(const std::string& uid) const override {
    k8s::MutexLock lock(mu_);
    return cache_.ListByOwner(uid);
  }

 private:
  const k8s::InformerOptions options_;
  std::vector<k8s::EventHandlers> handlers_;  // before Start only
  mutable k8s::Mutex mu_;
  FakeCache cache_ GUARDED_BY(mu_);
  bool synced_ GUARDED_BY(mu_) = true;
  bool started_ GUARDED_BY(mu_) = false;
};

class FakeInformerFactory final : public controller::InformerFactory {
 public:
  std::unique_ptr<controller::InformerHandle> Create(const k8s::Resource& res,
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

}  // namespace stepline::fakes
