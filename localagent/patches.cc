#include "localagent/patches.h"

#include "k8sclient/object_fields.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::ObjectField;
using k8s::StringField;

std::optional<std::string> RemoveFinalizerPatch(const k8s::Object& obj,
                                                const std::string& finalizer) {
  const auto& finalizers = ArrayField(ObjectField(obj, "metadata"), "finalizers");
  for (size_t i = 0; i < finalizers.size(); ++i) {
    if (finalizers[i] != finalizer) continue;
    const std::string path = "/metadata/finalizers/" + std::to_string(i);
    k8s::Object ops = k8s::Object::array({{{"op", "test"}, {"path", path}, {"value", finalizer}},
                                          {{"op", "remove"}, {"path", path}}});
    return ops.dump();
  }
  return std::nullopt;
}

std::optional<std::string> RemoveOwnerReferencePatch(const k8s::Object& obj,
                                                     const std::string& owner_uid) {
  const auto& meta = ObjectField(obj, "metadata");
  const auto& refs = ArrayField(meta, "ownerReferences");
  k8s::Object kept = k8s::Object::array();
  for (const auto& ref : refs) {
    if (StringField(ref, "uid") != owner_uid) kept.push_back(ref);
  }
  if (kept.size() == refs.size()) return std::nullopt;
  k8s::Object ops = k8s::Object::array({{{"op", "test"},
                                         {"path", "/metadata/resourceVersion"},
                                         {"value", StringField(meta, "resourceVersion")}}});
  if (kept.empty()) {
    ops.push_back({{"op", "remove"}, {"path", "/metadata/ownerReferences"}});
  } else {
    ops.push_back({{"op", "replace"}, {"path", "/metadata/ownerReferences"}, {"value", kept}});
  }
  return ops.dump();
}

}  // namespace stepline::localagent
