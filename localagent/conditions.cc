#include "localagent/conditions.h"

#include "k8sclient/object_fields.h"

namespace stepline::localagent {

using k8s::StringField;

const k8s::Object* FindCondition(const k8s::Object& status, const std::string& type) {
  auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return nullptr;
  for (const auto& c : *conditions) {
    if (c.is_object() && StringField(c, "type") == type) return &c;
  }
  return nullptr;
}

bool ConditionIsTrue(const k8s::Object& status, const std::string& type) {
  const k8s::Object* c = FindCondition(status, type);
  return c != nullptr && StringField(*c, "status") == "True";
}

void SetCondition(k8s::Object* status, const ConditionValue& value, k8s::WallTime now,
                  bool with_probe_time) {
  auto& conditions = (*status)["conditions"];
  if (!conditions.is_array()) conditions = k8s::Object::array();
  const std::string stamp = k8s::FormatRfc3339(now);
  k8s::Object* existing = nullptr;
  for (auto& c : conditions) {
    if (c.is_object() && StringField(c, "type") == value.type) existing = &c;
  }
  if (existing == nullptr) {
    conditions.push_back(k8s::Object::object());
    existing = &conditions.back();
  }
  k8s::Object& c = *existing;
  if (StringField(c, "status") != value.status || !c.contains("lastTransitionTime")) {
    c["lastTransitionTime"] = stamp;
  }
  c["type"] = value.type;
  c["status"] = value.status;
  if (value.reason.empty()) {
    c.erase("reason");
  } else {
    c["reason"] = value.reason;
  }
  if (value.message.empty()) {
    c.erase("message");
  } else {
    c["message"] = value.message;
  }
  c["lastProbeTime"] = with_probe_time ? k8s::Object(stamp) : k8s::Object(nullptr);
}

}  // namespace stepline::localagent
