// ScriptedWriter: a k8s::ObjectWriter that records every call and answers from a script, for
// the unit tests of the reconcilers' pieces (job_applier, status_writer). A create, status write,
// patch or delete answers what answer_for[name] says (popped front; OK when nothing is
// scripted); an OK create or status write answers the object with a new resourceVersion (and a
// uid for a create).
//
// Thread-safe (a JobApplier's creates run at once on several threads); the recorded calls are
// read once the code under test has returned.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/resource.h"

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
  void Script(const std::string& name, k8s::Status answer) {
    std::lock_guard lock(mu_);
    answer_for[name].push_back(std::move(answer));
  }
  // The calls of one verb, in the order they were made.
  std::vector<Call> CallsOf(const std::string& verb) const {
    std::lock_guard lock(mu_);
    std::vector<Call> out;
    for (const Call& c : calls) {
      if (c.verb == verb) out.push_back(c);
    }
    return out;
  }

  std::vector<Call> calls;                                    // guarded by mu_
  std::map<std::string, std::deque<k8s::Status>> answer_for;  // guarded by mu_

 private:
  k8s::Result<k8s::Object> Answer(Call call, bool create) {
    std::lock_guard lock(mu_);
    calls.push_back(call);
    auto scripted = answer_for.find(call.name);
    if (scripted != answer_for.end() && !scripted->second.empty()) {
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

  mutable std::mutex mu_;
  int version_ = 100;
};

}  // namespace stepline::fakes
