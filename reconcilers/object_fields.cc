#include "reconcilers/object_fields.h"

namespace stepline::reconcilers {

using k8s::Object;
using k8s::WallTime;

const Object& Child(const Object& obj, const char* key) {
  static const Object kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string StringField(const Object& obj, const char* key) {
  const Object& v = Child(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::optional<WallTime> TimeField(const Object& obj, const char* key) {
  const Object& v = Child(obj, key);
  WallTime t;
  if (v.is_string() && k8s::ParseRfc3339(v.get_ref<const std::string&>(), &t)) return t;
  return std::nullopt;
}

const Object* ConditionOf(const Object& obj, const char* type) {
  const Object& conds = Child(Child(obj, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    const Object& t = Child(c, "type");
    if (t.is_string() && t.get_ref<const std::string&>() == type) return &c;
  }
  return nullptr;
}

const Object* TrueCondition(const Object& obj, const char* type) {
  const Object& conds = Child(Child(obj, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    if (StringField(c, "type") == type && StringField(c, "status") == "True") return &c;
  }
  return nullptr;
}

std::optional<WallTime> CreationTime(const Object& obj) {
  return TimeField(Child(obj, "metadata"), "creationTimestamp");
}

const std::string& Annotation(const Object& obj, const char* key) {
  static const std::string kEmpty;
  const Object& v = Child(Child(Child(obj, "metadata"), "annotations"), key);
  return v.is_string() ? v.get_ref<const std::string&>() : kEmpty;
}

std::optional<WallTime> AnnotationTime(const Object& obj, const char* key) {
  WallTime t;
  if (k8s::ParseRfc3339(Annotation(obj, key), &t)) return t;
  return std::nullopt;
}

}  // namespace stepline::reconcilers
