#include "controller/event_mapping.h"

#include <initializer_list>
#include <string_view>

#include "k8sclient/job_state.h"

namespace stepline::controller {

namespace {

std::string StringAt(const k8s::Object& obj, const char* a, const char* b) {
  auto outer = obj.find(a);
  if (outer == obj.end() || !outer->is_object()) return {};
  auto inner = outer->find(b);
  return inner != outer->end() && inner->is_string() ? inner->get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> ControllerOwnerKey(const k8s::Object& obj,
                                              const std::string& owner_kind) {
  const k8s::Object* owner = k8s::ControllerOf(obj);
  if (owner == nullptr) return std::nullopt;
  auto kind = owner->find("kind");
  auto api_version = owner->find("apiVersion");
  auto name = owner->find("name");
  if (kind == owner->end() || *kind != owner_kind || name == owner->end() || !name->is_string()) {
    return std::nullopt;
  }
  if (api_version != owner->end() && api_version->is_string() &&
      api_version->get<std::string>().rfind("stepline.dev/", 0) != 0) {
    return std::nullopt;
  }
  return k8s::NamespaceOf(obj) + "/" + name->get<std::string>();
}

std::optional<std::string> ExecutionLabelKey(const k8s::Object& pod) {
  auto meta = pod.find("metadata");
  if (meta == pod.end() || !meta->is_object()) return std::nullopt;
  const std::string value = StringAt(*meta, "labels", kExecutionLabel);
  if (value.empty()) return std::nullopt;
  return k8s::NamespaceOf(pod) + "/" + value;
}

void IndexByInvolvedObject(k8s::Object& event) {
  auto involved = event.find("involvedObject");
  if (involved == event.end() || !involved->is_object()) return;
  const std::string uid = involved->value("uid", "");
  if (uid.empty()) return;
  event["metadata"]["ownerReferences"] = k8s::Object::array({{
      {"apiVersion", involved->value("apiVersion", "")},
      {"kind", involved->value("kind", "")},
      {"name", involved->value("name", "")},
      {"uid", uid},
  }});
}

std::optional<std::string> JobEventOwnerKey(const k8s::Object& event, const k8s::CacheReader& jobs,
                                            const std::string& owner_kind) {
  if (StringAt(event, "involvedObject", "kind") != "Job") return std::nullopt;
  const std::string ns = StringAt(event, "involvedObject", "namespace");
  k8s::ObjectPtr job = jobs.Get(ns.empty() ? k8s::NamespaceOf(event) : ns,
                                StringAt(event, "involvedObject", "name"));
  if (!job) return std::nullopt;
  return ControllerOwnerKey(*job, owner_kind);
}

std::vector<std::string> ExecutionsReferencing(const k8s::Object& pipeline,
                                               const k8s::CacheReader& executions) {
  const std::string& name = k8s::NameOf(pipeline);
  const std::string alias = StringAt(pipeline, "spec", "pipelineName");
  std::vector<std::string> keys;
  for (const k8s::ObjectPtr& exec : executions.List(k8s::NamespaceOf(pipeline))) {
    const std::string ref = StringAt(*exec, "spec", "pipelineName");
    if (!ref.empty() && (ref == name || ref == alias)) keys.push_back(k8s::KeyOf(*exec));
  }
  return keys;
}

namespace {

// a and b (objects) equal in every field but those named in skip.
bool EqualExcept(const k8s::Object& a, const k8s::Object& b,
                 std::initializer_list<std::string_view> skip) {
  if (!a.is_object() || !b.is_object()) return a == b;
  auto skipped = [&](const std::string& key) {
    for (auto s : skip) {
      if (key == s) return true;
    }
    return false;
  };
  size_t compared_a = 0;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (skipped(it.key())) continue;
    ++compared_a;
    auto other = b.find(it.key());
    if (other == b.end() || *other != it.value()) return false;
  }
  size_t compared_b = 0;
  for (auto it = b.begin(); it != b.end(); ++it) compared_b += skipped(it.key()) ? 0 : 1;
  return compared_a == compared_b;
}

}  // namespace

bool OnlyStatusChanged(const k8s::Object& old_obj, const k8s::Object& new_obj) {
  if (!EqualExcept(old_obj, new_obj, {"status", "metadata"})) return false;
  static const k8s::Object kNone = k8s::Object::object();
  auto meta = [](const k8s::Object& o) -> const k8s::Object& {
    auto it = o.find("metadata");
    return it == o.end() ? kNone : *it;
  };
  return EqualExcept(meta(old_obj), meta(new_obj), {"resourceVersion", "managedFields"});
}

namespace {

const k8s::Object& At(const k8s::Object& o, const char* a, const char* b = nullptr) {
  static const k8s::Object kNone;
  if (!o.is_object()) return kNone;
  auto outer = o.find(a);
  if (outer == o.end()) return kNone;
  if (b == nullptr) return *outer;
  if (!outer->is_object()) return kNone;
  auto inner = outer->find(b);
  return inner == outer->end() ? kNone : *inner;
}

void CopyMetadata(const k8s::Object& obj, k8s::Object* facts) {
  for (const char* field : {"labels", "annotations", "ownerReferences", "deletionTimestamp"}) {
    const k8s::Object& v = At(obj, "metadata", field);
    if (!v.is_null()) (*facts)["metadata"][field] = v;
  }
}

}  // namespace

k8s::Object JobFacts(const k8s::Object& job) {
  k8s::Object facts = k8s::Object::object();
  CopyMetadata(job, &facts);
  if (!At(job, "spec").is_null()) facts["spec"] = At(job, "spec");
  const k8s::Object& done = At(job, "status", "completionTime");
  if (!done.is_null()) facts["completionTime"] = done;
  const k8s::Object& conditions = At(job, "status", "conditions");
  if (!conditions.is_array()) return facts;
  for (const k8s::Object& c : conditions) {
    const std::string type = c.is_object() ? c.value("type", "") : "";
    if (k8s::IsJobOutcomeCondition(type)) {
      facts["conditions"].push_back(c);
    }
  }
  return facts;
}

k8s::Object PodFacts(const k8s::Object& pod) {
  k8s::Object facts = k8s::Object::object();
  CopyMetadata(pod, &facts);
  const k8s::Object& phase = At(pod, "status", "phase");
  if (!phase.is_null() && phase != "Pending") facts["phase"] = phase;
  for (const char* field : {"reason", "message"}) {
    const k8s::Object& v = At(pod, "status", field);
    if (!v.is_null()) facts[field] = v;
  }
  const k8s::Object& conditions = At(pod, "status", "conditions");
  for (const k8s::Object& c : conditions.is_array() ? conditions : k8s::Object::array()) {
    if (!c.is_object()) continue;
    if (c.value("status", "") != "True" || c.value("type", "") == "DisruptionTarget") {
      facts["conditions"].push_back(c);
    }
  }
  const k8s::Object& containers = At(pod, "status", "containerStatuses");
  for (const k8s::Object& c : containers.is_array() ? containers : k8s::Object::array()) {
    facts["containers"].push_back(At(c, "state"));
  }
  return facts;
}

namespace {

// PodFacts without what only says the pod is starting or running: phase Running, running
// containers, containers waiting to be created, and the conditions that are merely not True
// yet (Initialized, ContainersReady, Ready). What remains is what an attempt is judged by.
k8s::Object JudgedPodFacts(k8s::Object facts) {
  auto phase = facts.find("phase");
  if (phase != facts.end() && *phase == "Running") facts.erase(phase);
  auto conditions = facts.find("conditions");
  if (conditions != facts.end()) {
    k8s::Object kept = k8s::Object::array();
    for (const k8s::Object& c : *conditions) {
      const std::string type = c.value("type", "");
      if (type == "PodScheduled" || type == "DisruptionTarget") kept.push_back(c);
    }
    if (kept.empty()) {
      facts.erase(conditions);
    } else {
      *conditions = std::move(kept);
    }
  }
  auto containers = facts.find("containers");
  if (containers != facts.end()) {
    k8s::Object judged = k8s::Object::array();
    for (k8s::Object& state : *containers) {
      if (state.is_object()) {
        state.erase("running");
        auto waiting = state.find("waiting");
        const std::string reason =
            waiting != state.end() && waiting->is_object() ? waiting->value("reason", "") : "";
        if (waiting != state.end() &&
            (reason.empty() || reason == "ContainerCreating" || reason == "PodInitializing")) {
          state.erase(waiting);
        }
      }
      if (!state.is_object() || !state.empty()) judged.push_back(std::move(state));
    }
    if (judged.empty()) {
      facts.erase(containers);
    } else {
      *containers = std::move(judged);
    }
  }
  return facts;
}

}  // namespace

PodChange ClassifyPodChange(const k8s::Object& old_pod, const k8s::Object& new_pod) {
  k8s::Object before = PodFacts(old_pod);
  k8s::Object after = PodFacts(new_pod);
  if (before == after) return PodChange::kNone;
  if (JudgedPodFacts(std::move(before)) != JudgedPodFacts(std::move(after))) {
    return PodChange::kJudged;
  }
  return PodChange::kStarted;
}

bool JobChangeMatters(const k8s::Object& old_job, const k8s::Object& new_job) {
  return JobFacts(old_job) != JobFacts(new_job);
}

bool PodChangeMatters(const k8s::Object& old_pod, const k8s::Object& new_pod) {
  return PodFacts(old_pod) != PodFacts(new_pod);
}

}  // namespace stepline::controller
