#include "localagent/agent_pods.h"

#include "localagent/json_util.h"

namespace stepline::localagent {

k8s::Status EditPodStatus(k8s::Client& client, const std::string& ns, const std::string& name,
                          const std::function<bool(k8s::Object& pod)>& edit) {
  k8s::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto pod = client.Get(k8s::resources::kPods, ns, name);
    if (!pod.ok()) return pod.status();
    k8s::Object edited = *pod;
    if (!edit(edited)) return k8s::Status::Ok();
    auto r = client.UpdateStatus(k8s::resources::kPods, ns, edited);
    if (r.ok() || !r.status().IsConflict()) return r.status();
    last = r.status();
  }
  return last;
}

k8s::Status SetPodCondition(k8s::Client& client, const std::string& ns, const std::string& name,
                            const ConditionValue& condition, k8s::WallTime now) {
  return EditPodStatus(client, ns, name, [&](k8s::Object& pod) {
    const k8s::Object* existing = FindCondition(ObjField(pod, "status"), condition.type);
    if (existing != nullptr && StrField(*existing, "status") == condition.status &&
        StrField(*existing, "reason") == condition.reason &&
        StrField(*existing, "message") == condition.message) {
      return false;
    }
    if (!pod["status"].is_object()) pod["status"] = k8s::Object::object();
    SetCondition(&pod["status"], condition, now, false);
    return true;
  });
}

}  // namespace stepline::localagent
