// ScriptedWriter: a k8s::ObjectWriter that records every call and answers from a script, for
// the unit tests of the reconcilers' pieces (job_applier, status_writer). A create, status write,
// patch or delete answers what Script(name, ...) said (popped front; OK when nothing is
// scripted); an OK create or status write answers the object with a new resourceVersion (and a
// uid for a create).
//
// Thread-safe (a JobApplier's creates run at once on several threads): the script and the
// recorded calls are GUARDED_BY mu_, and tests read the calls through Calls() and CallsOf().
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/resource.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::fakes {

class ScriptedWriter : public k8s::ObjectWriter {
 public:
  struct Call {
    std::string verb;  // "create", "update", "status", "patch", "delete"
    std::string resource;
    std::string ns;
    std::string name;
    k8s::Object body;  // the object written, or {"patch": body} / {"propagation": policy}
  };

  k8s::Result<k8s::Object> Create(const k8s::Resource& res, const std::string& ns,
                                  const k8s::Object& obj, const k8s::WriteOptions&) override {
    return Answer({"create", res.resource, ns, k8s::NameOf(obj), obj}, true);
  }
  k8s::Result<k8s::Object> Update(const k8s::Resource& res, const std::string& ns,
                                  const k8s::Object& obj, const k8s::WriteOptions&) override {
    return Answer({"update", res.resource, ns, k8s::NameOf(obj), obj}, false);
  }
  k8s::Result<k8s::Object> UpdateStatus(const k8s::Resource& res, const std::string& ns,
                                        const k8s::Object& obj, const k8s::WriteOptions&) override {
    return Answer({"status", res.resource, ns, k8s::NameOf(obj), obj}, false);
  }
  k8s::Result<k8s::Object> Patch(const k8s::Resource& res, const std::string& ns,
                                 const std::string& name, k8s::PatchType, const std::string& body,
                                 const k8s::WriteOptions&, const std::string&) override {
    return Answer({"patch", res.resource, ns, name, {{"patch", body}}}, false);
  }
  k8s::Status Delete(const k8s::Resource& res, const std::string& ns, const std::string& name,
                     const k8s::DeleteOptions& opts) override {
    k8s::Object body = {{"propagation", opts.propagation_policy.value_or("")}};
    return Answer({"delete", res.resource, ns, name, body}, false).status();
  }

  // The next answer to a call naming `name` (first in, first out).
  void Script(const std::string& name, k8s::Status answer) EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    answer_for_[name].push_back(std::move(answer));
  }
  // Every call, in the order they were made.
  std::vector<Call> Calls() const EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    return calls_;
  }
  // The calls of one verb, in the order they were made.
  std::vector<Call> CallsOf(const std::string& verb) const EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    std::vector<Call> out;
    for (const Call& c : calls_) {
      if (c.verb == verb) out.push_back(c);
    }
    return out;
  }

 private:
  k8s::Result<k8s::Object> Answer(Call call, bool create) EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    calls_.push_back(call);
    auto scripted = answer_for_.find(call.name);
    if (scripted != answer_for_.end() && !scripted->second.empty()) {
      k8s::Status answer = scripted->second.front();
      scripted->second.pop_front();
      if (!answer.ok()) return answer;
    }
    k8s::Object stored = call.body;
    if (!stored.is_object() || !stored.contains("metadata")) return stored;
    stored["metadata"]["resourceVersion"] = std::to_string(++version_);
    if (create) stored["metadata"]["uid"] = "uid-" + call.name;
    return stored;
  }

  mutable k8s::Mutex mu_;
  std::vector<Call> calls_ GUARDED_BY(mu_);
  std::map<std::string, std::deque<k8s::Status>> answer_for_ GUARDED_BY(mu_);  // by name
  int version_ GUARDED_BY(mu_) = 100;
};

}  // namespace stepline::fakes
