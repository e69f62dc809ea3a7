#include "localagent/agent_pods.h"

#include "k8sclient/object_fields.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

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
    const k8s::Object* existing = FindCondition(ObjectField(pod, "status"), condition.type);
    if (existing != nullptr && StringField(*existing, "status") == condition.status &&
        StringField(*existing, "reason") == condition.reason &&
        StringField(*existing, "message") == condition.message) {
      return false;
    }
    if (!pod["status"].is_object()) pod["status"] = k8s::Object::object();
    SetCondition(&pod["status"], condition, now, false);
    return true;
  });
}

}  // namespace stepline::localagent
