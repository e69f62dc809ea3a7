#include "localagent/pod_util.h"

#include "k8sclient/object_fields.h"
#include "localagent/conditions.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::ObjectField;
using k8s::StringField;
using k8s::TimeField;

std::string PodPhase(const k8s::Object& pod) {
  return StringField(ObjectField(pod, "status"), "phase");
}

bool IsPodTerminal(const k8s::Object& pod) {
  const std::string phase = PodPhase(pod);
  return phase == "Succeeded" || phase == "Failed";
}

bool HasFinalizer(const k8s::Object& obj, const std::string& finalizer) {
  for (const auto& f : ArrayField(ObjectField(obj, "metadata"), "finalizers")) {
    if (f.is_string() && f.get<std::string>() == finalizer) return true;
  }
  return false;
}

bool IsPodReady(const k8s::Object& pod) {
  return ConditionIsTrue(ObjectField(pod, "status"), "Ready");
}

std::optional<k8s::WallTime> PodFinishTime(const k8s::Object& pod) {
  std::optional<k8s::WallTime> latest;
  for (const auto& cs : ArrayField(ObjectField(pod, "status"), "containerStatuses")) {
    auto t = TimeField(ObjectField(ObjectField(cs, "state"), "terminated"), "finishedAt");
    if (t && (!latest || *t > *latest)) latest = t;
  }
  if (latest) return latest;
  return TimeField(ObjectField(pod, "metadata"), "deletionTimestamp");
}

int64_t TerminationGraceSeconds(const k8s::Object& pod) {
  const auto& spec = ObjectField(pod, "spec");
  auto it = spec.find("terminationGracePeriodSeconds");
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : 30;
}

}  // namespace stepline::localagent
