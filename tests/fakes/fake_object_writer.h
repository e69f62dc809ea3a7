// A fake ObjectWriter that stores what is written in memory, keyed by resource/ns/name, applies
// merge patches to top-level fields, and can be told to fail. Thread-safe (the state is GUARDED_BY
// mu_).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::fakes {

class FakeObjectWriter final : public k8s::ObjectWriter {
 public:
  struct Call {
    std::string verb;  // create, update, update-status, patch, delete
    std::string resource, ns, name, body;
  };

  k8s::Result<k8s::Object> Create(const k8s::Resource& res, const std::string& ns,
                                  const k8s::Object& obj, const k8s::WriteOptions& = {}) override {
    k8s::MutexLock lock(mu_);
    calls_.push_back({"create", res.resource, ns, k8s::NameOf(obj), obj.dump()});
    if (!fail_.ok()) return fail_;
    const std::string key = Key(res, ns, k8s::NameOf(obj));
    if (objects_.count(key)) return k8s::Status::AlreadyExists(key);
    objects_[key] = obj;
    return obj;
  }
  k8s::Result<k8s::Object> Update(const k8s::Resource& res, const std::string& ns,
                                  const k8s::Object& obj, const k8s::WriteOptions& = {}) override {
    k8s::MutexLock lock(mu_);
    calls_.push_back({"update", res.resource, ns, k8s::NameOf(obj), obj.dump()});
    if (!fail_.ok()) return fail_;
    objects_[Key(res, ns, k8s::NameOf(obj))] = obj;
    return obj;
  }
  k8s::Result<k8s::Object> UpdateStatus(const k8s::Resource& res, const std::string& ns,
                                        const k8s::Object& obj,
                                        const k8s::WriteOptions& opts = {}) override {
    return Update(res, ns, obj, opts);
  }
  k8s::Result<k8s::Object> Patch(const k8s::Resource& res, const std::string& ns,
                                 const std::string& name, k8s::PatchType, const std::string& body,
                                 const k8s::WriteOptions& = {}, const std::string& = {}) override {
    k8s::MutexLock lock(mu_);
    calls_.push_back({"patch", res.resource, ns, name, body});
    if (!fail_.ok()) return fail_;
    auto it = objects_.find(Key(res, ns, name));
    if (it == objects_.end()) return k8s::Status::NotFound(name);
    const k8s::Object parsed = k8s::Object::parse(body);
    for (auto field = parsed.begin(); field != parsed.end(); ++field) {
      it->second[field.key()] = *field;
    }
    return it->second;
  }
  k8s::Status Delete(const k8s::Resource& res, const std::string& ns, const std::string& name,
                     const k8s::DeleteOptions& = {}) override {
    k8s::MutexLock lock(mu_);
    calls_.push_back({"delete", res.resource, ns, name, ""});
    if (!fail_.ok()) return fail_;
    return objects_.erase(Key(res, ns, name)) ? k8s::Status::Ok() : k8s::Status::NotFound(name);
  }

  void FailWith(k8s::Status s) {
    k8s::MutexLock lock(mu_);
    fail_ = std::move(s);
  }
  std::vector<Call> calls() {
    k8s::MutexLock lock(mu_);
    return calls_;
  }
  std::vector<k8s::Object> Objects(const k8s::Resource& res) {
    k8s::MutexLock lock(mu_);
    std::vector<k8s::Object> out;
    for (const auto& [key, obj] : objects_) {
      if (key.rfind(res.resource + "/", 0) == 0) out.push_back(obj);
    }
    return out;
  }
  void Remove(const k8s::Resource& res, const std::string& ns, const std::string& name) {
    k8s::MutexLock lock(mu_);
    objects_.erase(Key(res, ns, name));
  }

 private:
  static std::string Key(const k8s::Resource& res, const std::string& ns, const std::string& n) {
    return res.resource + "/" + ns + "/" + n;
  }

  k8s::Mutex mu_;
  std::map<std::string, k8s::Object> objects_ GUARDED_BY(mu_);
  std::vector<Call> calls_ GUARDED_BY(mu_);
  k8s::Status fail_ GUARDED_BY(mu_);
};

}  // namespace stepline::fakes
