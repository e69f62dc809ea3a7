#include "localagent/pod_util.h"

#include "localagent/conditions.h"
#include "localagent/json_util.h"

namespace stepline::localagent {

namespace {

const k8s::Object& Field(const k8s::Object& obj, const char* name) { return ObjField(obj, name); }

std::optional<k8s::WallTime> TimeAt(const k8s::Object& obj, const char* field) {
  auto it = obj.find(field);
  k8s::WallTime t;
  if (it == obj.end() || !it->is_string() || !k8s::ParseRfc3339(it->get<std::string>(), &t)) {
    return std::nullopt;
  }
  return t;
}

}  // namespace

std::string PodPhase(const k8s::Object& pod) { return StrField(Field(pod, "status"), "phase"); }

bool IsPodTerminal(const k8s::Object& pod) {
  const std::string phase = PodPhase(pod);
  return phase == "Succeeded" || phase == "Failed";
}

bool IsBeingDeleted(const k8s::Object& obj) {
  const auto& meta = Field(obj, "metadata");
  auto it = meta.find("deletionTimestamp");
  return it != meta.end() && !it->is_null();
}

bool HasFinalizer(const k8s::Object& obj, const std::string& finalizer) {
  const auto& meta = Field(obj, "metadata");
  auto it = meta.find("finalizers");
  if (it == meta.end() || !it->is_array()) return false;
  for (const auto& f : *it) {
    if (f.is_string() && f.get<std::string>() == finalizer) return true;
  }
  return false;
}

bool IsPodReady(const k8s::Object& pod) { return ConditionIsTrue(Field(pod, "status"), "Ready"); }

std::optional<k8s::WallTime> PodFinishTime(const k8s::Object& pod) {
  std::optional<k8s::WallTime> latest;
  auto statuses = Field(pod, "status").find("containerStatuses");
  if (statuses != Field(pod, "status").end() && statuses->is_array()) {
    for (const auto& cs : *statuses) {
      auto t = TimeAt(Field(Field(cs, "state"), "terminated"), "finishedAt");
      if (t && (!latest || *t > *latest)) latest = t;
    }
  }
  if (latest) return latest;
  return TimeAt(Field(pod, "metadata"), "deletionTimestamp");
}

std::optional<k8s::WallTime> CreationTime(const k8s::Object& obj) {
  return TimeAt(Field(obj, "metadata"), "creationTimestamp");
}

int64_t TerminationGraceSeconds(const k8s::Object& pod) {
  const auto& spec = Field(pod, "spec");
  auto it = spec.find("terminationGracePeriodSeconds");
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : 30;
}

}  // namespace stepline::localagent
