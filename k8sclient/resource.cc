#include "k8sclient/resource.h"
#include "k8sclient/object_fields.h"

namespace stepline::k8s {

std::string Resource::CollectionPath(const std::string& ns) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) path += "/namespaces/" + ns;
  return path + "/" + resource;
}

std::string Resource::ObjectPath(const std::string& ns, const std::string& name) const {
  return CollectionPath(ns) + "/" + name;
}

namespace resources {
const Resource kPods{"", "v1", "pods", "Pod", true};
const Resource kEvents{"", "v1", "events", "Event", true};
const Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
const Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const Resource kSecrets{"", "v1", "secrets", "Secret", true};
const Resource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
const Resource kResourceQuotas{"", "v1", "resourcequotas", "ResourceQuota", true};
const Resource kJobs{"batch", "v1", "jobs", "Job", true};
const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const Resource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                          "CustomResourceDefinition", false};
const Resource kPipelines{"stepline.dev", "v1alpha1", "pipelines", "Pipeline", true};
const Resource kPipelineExecutions{"stepline.dev", "v1alpha1", "pipelineexecutions",
                                   "PipelineExecution", true};
const Resource kPipelineSchedules{"stepline.dev", "v1alpha1", "pipelineschedules",
                                  "PipelineSchedule", true};
}  // namespace resources

namespace {
const std::string& StringAt(const Object& obj, const char* field) {
  return StringField(Child(obj, "metadata"), field);
}
}  // namespace

const std::string& NameOf(const Object& obj) { return StringAt(obj, "name"); }
const std::string& NamespaceOf(const Object& obj) { return StringAt(obj, "namespace"); }
const std::string& UidOf(const Object& obj) { return StringAt(obj, "uid"); }
const std::string& ResourceVersionOf(const Object& obj) { return StringAt(obj, "resourceVersion"); }

std::string KeyOf(const Object& obj) {
  const std::string& ns = NamespaceOf(obj);
  return ns.empty() ? NameOf(obj) : ns + "/" + NameOf(obj);
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

const Object* ControllerOf(const Object& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return nullptr;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return nullptr;
  for (const auto& ref : *refs) {
    auto c = ref.find("controller");
    if (c != ref.end() && c->is_boolean() && c->get<bool>()) return &ref;
  }
  return nullptr;
}

}  // namespace stepline::k8s
