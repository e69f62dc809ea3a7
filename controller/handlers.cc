#include "controller/handlers.h"

#include <initializer_list>
#include <string_view>

namespace stepline::controller {

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

std::optional<std::string> ControllerOwnerKey(const k8s::Object& obj, const k8s::Resource& owner) {
  const k8s::Object* ref = k8s::ControllerOf(obj);
  if (ref == nullptr) return std::nullopt;
  auto kind = ref->find("kind");
  auto api_version = ref->find("apiVersion");
  auto name = ref->find("name");
  if (kind == ref->end() || *kind != owner.kind || name == ref->end() || !name->is_string()) {
    return std::nullopt;
  }
  if (api_version != ref->end() && api_version->is_string() &&
      api_version->get<std::string>().rfind(owner.group + "/", 0) != 0) {
    return std::nullopt;
  }
  return k8s::NamespaceOf(obj) + "/" + name->get<std::string>();
}

Watch ForObjects(const k8s::Resource& resource) {
  return {resource, [](const Change& c) -> std::vector<Request> {
            if (!c.added() && !c.deleted() && OnlyStatusChanged(*c.old_obj, *c.new_obj)) return {};
            return {{k8s::KeyOf(c.object())}};
          }};
}

std::vector<Request> OwnerRequests(const Change& change, const k8s::Resource& owner) {
  std::vector<Request> out;
  for (const k8s::Object* obj : {change.new_obj, change.old_obj}) {
    if (obj == nullptr) continue;
    if (auto key = ControllerOwnerKey(*obj, owner)) out.push_back({*key});
  }
  return out;
}

}  // namespace stepline::controller
