#include "reconcilers/cache_trim.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "k8sclient/job_state.h"
#include "reconcilers/attempt.h"
#include "reconcilers/job_builder.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using Keys = std::initializer_list<std::string_view>;

constexpr std::string_view kOwnPrefix = "stepline.dev/";

// Erases every member of obj whose key is not in keep.
void KeepOnly(Object& obj, Keys keep) {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end();) {
    if (std::find(keep.begin(), keep.end(), it.key()) == keep.end()) {
      it = obj.erase(it);
    } else {
      ++it;
    }
  }
}

// obj[key] restricted to `keep`, erased when it ends up empty or is no object.
void KeepOnlyIn(Object& obj, const char* key, Keys keep) {
  auto it = obj.find(key);
  if (it == obj.end()) return;
  KeepOnly(*it, keep);
  if (!it->is_object() || it->empty()) obj.erase(it);
}

// Keeps only the entries of the string map obj[key] whose key starts with "stepline.dev/", and
// Kueue's queue label (a Job under Kueue waits for admission: planner_units.cc).
void KeepOwnKeys(Object& obj, const char* key) {
  auto map = obj.find(key);
  if (map == obj.end()) return;
  if (map->is_object()) {
    for (auto it = map->begin(); it != map->end();) {
      if (it.key().rfind(kOwnPrefix, 0) == 0 || it.key() == kLabelKueueQueueName) {
        ++it;
      } else {
        it = map->erase(it);
      }
    }
  }
  if (!map->is_object() || map->empty()) obj.erase(map);
}

void TrimMetadata(Object& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end()) return;
  KeepOnly(*meta, {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                   "deletionTimestamp", "ownerReferences", "finalizers", "labels", "annotations"});
  if (!meta->is_object()) return;
  KeepOwnKeys(*meta, "labels");
  KeepOwnKeys(*meta, "annotations");
  auto owners = meta->find("ownerReferences");
  if (owners == meta->end() || !owners->is_array()) return;
  for (Object& o : *owners) KeepOnly(o, {"apiVersion", "kind", "name", "uid", "controller"});
}

// Keeps the conditions whose type is in `types` (all when empty), each without lastProbeTime.
void TrimConditions(Object& status, Keys types) {
  auto conds = status.find("conditions");
  if (conds == status.end()) return;
  if (!conds->is_array()) {
    status.erase(conds);
    return;
  }
  Object kept = Object::array();
  for (Object& c : *conds) {
    if (!c.is_object()) continue;
    auto type = c.find("type");
    if (type == c.end() || !type->is_string()) continue;
    const auto& name = type->get_ref<const std::string&>();
    if (types.size() > 0 && std::find(types.begin(), types.end(), name) == types.end()) continue;
    KeepOnly(c, {"type", "status", "reason", "message", "lastTransitionTime"});
    kept.push_back(std::move(c));
  }
  if (kept.empty()) {
    status.erase(conds);
  } else {
    *conds = std::move(kept);
  }
}

// The first container status (the step's container), with its name and state only.
void TrimContainerStatuses(Object& status) {
  auto list = status.find("containerStatuses");
  if (list == status.end()) return;
  if (!list->is_array() || list->empty()) {
    status.erase(list);
    return;
  }
  Object first = std::move((*list)[0]);
  KeepOnly(first, {"name", "state"});
  *list = Object::array({std::move(first)});
}

// The staging containers' statuses (artifact-*: a failed download or upload is ArtifactError),
// with their name and state only; the other init containers' are dropped.
void TrimInitContainerStatuses(Object& status) {
  auto list = status.find("initContainerStatuses");
  if (list == status.end()) return;
  Object kept = Object::array();
  for (Object& c : list->is_array() ? *list : Object::array()) {
    if (!c.is_object() || c.value("name", "").rfind(kArtifactContainerPrefix, 0) != 0) continue;
    KeepOnly(c, {"name", "state"});
    kept.push_back(std::move(c));
  }
  if (kept.empty()) {
    status.erase(list);
  } else {
    *list = std::move(kept);
  }
}

}  // namespace

void TrimJob(Object& job) {
  if (!job.is_object()) return;
  KeepOnly(job, {"apiVersion", "kind", "metadata", "spec", "status"});
  TrimMetadata(job);
  KeepOnlyIn(job, "spec", {"suspend"});
  auto status = job.find("status");
  if (status == job.end()) return;
  KeepOnly(*status, {"conditions", "completionTime", "active"});  // active: attempt.cc
  if (status->is_object()) TrimConditions(*status, {});
  if (!status->is_object() || status->empty()) job.erase(status);
}

void TrimPod(Object& pod) {
  if (!pod.is_object()) return;
  KeepOnly(pod, {"apiVersion", "kind", "metadata", "status"});
  TrimMetadata(pod);
  auto status = pod.find("status");
  if (status == pod.end()) return;
  KeepOnly(*status, {"phase", "reason", "message", "conditions", "containerStatuses",
                     "initContainerStatuses"});
  if (!status->is_object()) return;
  TrimConditions(*status, {"PodScheduled", "DisruptionTarget"});
  TrimContainerStatuses(*status);
  TrimInitContainerStatuses(*status);
}

void TrimJobEvent(Object& event) {
  if (!event.is_object()) return;
  KeepOnly(event, {"apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "type",
                   "lastTimestamp", "eventTime"});
  TrimMetadata(event);
  auto involved = event.find("involvedObject");
  if (involved != event.end()) {
    KeepOnly(*involved, {"apiVersion", "kind", "namespace", "name", "uid"});
  }
}

namespace {

// A status that says Succeeded while a step has not finished was not written by the planner (an
// admin's patch, say): the execution is still managed, so its cached copy stays whole.
bool HasUnfinishedStep(const Object& status) {
  auto steps = status.find("steps");
  if (steps == status.end() || !steps->is_array()) return false;
  for (const Object& step : *steps) {
    const std::string phase = step.is_object() ? step.value("phase", "") : "";
    if (phase != "Succeeded" && phase != "Failed" && phase != "Skipped" && phase != "Stopped") {
      return true;
    }
  }
  return false;
}

}  // namespace

bool IsFinishedExecution(const Object& execution) {
  if (!execution.is_object()) return false;
  auto status = execution.find("status");
  if (status == execution.end() || !status->is_object()) return false;
  auto phase = status->find("pipelineExecutionStatus");
  if (phase == status->end() || !phase->is_string()) return false;
  const auto& p = phase->get_ref<const std::string&>();
  if (p == "Succeeded" && HasUnfinishedStep(*status)) return false;  // not the planner's Succeeded
  return p == "Succeeded" || p == "Failed" || p == "Stopped";
}

void TrimExecution(Object& execution) {
  if (!IsFinishedExecution(execution)) return;
  const k8s::Object* owner = k8s::ControllerOf(execution);
  const bool scheduled = owner != nullptr && owner->value("kind", "") == "PipelineSchedule";
  KeepOnly(execution, {"apiVersion", "kind", "metadata", "spec", "status"});
  KeepOnlyIn(execution, "spec", {"ttlSecondsAfterFinished"});  // cleanup.h
  auto meta = execution.find("metadata");
  if (meta != execution.end()) {
    KeepOnly(*meta, {"name", "namespace", "uid", "resourceVersion", "generation",
                     "deletionTimestamp", "ownerReferences", "finalizers", "annotations"});
    if (meta->is_object()) KeepOwnKeys(*meta, "annotations");
    if (!scheduled && meta->is_object()) meta->erase("annotations");
  }
  Object& status = execution["status"];
  if (execution.contains("spec")) {  // a cleanup to come (cleanup.h) reads these
    KeepOnly(status, {"pipelineExecutionStatus", "observedGeneration", "completionTime",
                      "jobsDeletedTime"});
  } else if (scheduled) {  // the schedule's history and lastSuccessfulTime
    KeepOnly(status, {"pipelineExecutionStatus", "observedGeneration", "completionTime"});
  } else {
    KeepOnly(status, {"pipelineExecutionStatus", "observedGeneration"});
  }
  // An empty snapshot: the reconciler looks up the Pipeline only for executions without one.
  status["pipelineSnapshot"] = Object::object();
  if (meta != execution.end() && meta->is_object()) {
    auto generation = meta->find("generation");
    if (generation != meta->end() && generation->is_number_integer()) {
      status["observedGeneration"] = *generation;
    }
  }
}

namespace {

const std::string* StringAt(const Object& obj, const char* a, const char* b) {
  auto outer = obj.find(a);
  if (outer == obj.end() || !outer->is_object()) return nullptr;
  auto inner = outer->find(b);
  return inner != outer->end() && inner->is_string() ? &inner->get_ref<const std::string&>()
                                                     : nullptr;
}

// A Job with Complete or Failed True, or a pod in phase Succeeded or Failed: nothing runs.
bool Ended(const Object& obj) {
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->is_string()) return false;
  if (*kind == "Pod") {
    const std::string* phase = StringAt(obj, "status", "phase");
    return phase != nullptr && (*phase == "Succeeded" || *phase == "Failed");
  }
  return *kind == "Job" && k8s::HasEnded(k8s::ClassifyJob(obj));
}

}  // namespace

bool FinishedWithItsExecution(const Object& obj, const k8s::CacheReader& executions) {
  if (!obj.is_object() || !Ended(obj)) return false;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return false;
  const std::string* execution = StringAt(*meta, "labels", kLabelExecution);
  const std::string* ns = StringAt(obj, "metadata", "namespace");
  if (execution == nullptr) return false;
  k8s::ObjectPtr owner = executions.Get(ns == nullptr ? "" : *ns, *execution);
  return owner != nullptr && IsFinishedExecution(*owner);
}

std::function<void(Object&)> CacheTrimFor(const k8s::Resource& resource) {
  if (resource == k8s::resources::kJobs) return TrimJob;
  if (resource == k8s::resources::kPods) return TrimPod;
  if (resource == k8s::resources::kEvents) return TrimJobEvent;
  if (resource == k8s::resources::kPipelineExecutions) return TrimExecution;
  return {};
}

}  // namespace stepline::reconcilers
