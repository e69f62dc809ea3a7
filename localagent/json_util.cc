#include "localagent/json_util.h"

namespace stepline::localagent {

namespace {
const k8s::Object* Find(const k8s::Object& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}
}  // namespace

const k8s::Object& ObjField(const k8s::Object& obj, const char* key) {
  static const k8s::Object kEmpty = k8s::Object::object();
  const k8s::Object* v = Find(obj, key);
  return v != nullptr && v->is_object() ? *v : kEmpty;
}

const k8s::Object& ArrField(const k8s::Object& obj, const char* key) {
  static const k8s::Object kEmpty = k8s::Object::array();
  const k8s::Object* v = Find(obj, key);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

std::string StrField(const k8s::Object& obj, const char* key) {
  const k8s::Object* v = Find(obj, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::optional<int64_t> IntField(const k8s::Object& obj, const char* key) {
  const k8s::Object* v = Find(obj, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

bool BoolField(const k8s::Object& obj, const char* key, bool fallback) {
  const k8s::Object* v = Find(obj, key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

}  // namespace stepline::localagent
