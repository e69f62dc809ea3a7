#include "reconcilers/instance_types_config.h"

#include <map>
#include <memory>

#include "reconcilers/log.h"
#include "reconcilers/sagemaker_instances.h"

namespace stepline::reconcilers {
namespace {

// The string values of data (a value of another type cannot be in a ConfigMap).
std::map<std::string, std::string> DataOf(const k8s::Object* config_map) {
  std::map<std::string, std::string> out;
  if (config_map == nullptr) return out;
  auto data = config_map->find("data");
  if (data == config_map->end() || !data->is_object()) return out;
  for (const auto& [key, value] : data->items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

bool IsInstanceTypes(const k8s::Object* config_map) {
  return config_map != nullptr && k8s::NameOf(*config_map) == sagemaker::kInstanceTypesConfigMap;
}

}  // namespace

std::vector<std::string> OnInstanceTypesChange(const k8s::Object* old_obj,
                                               const k8s::Object* new_obj,
                                               const k8s::CacheReader& pipelines,
                                               EventRecorder& events) {
  if (!IsInstanceTypes(old_obj) && !IsInstanceTypes(new_obj)) return {};
  const std::map<std::string, std::string> data = DataOf(new_obj);
  if (old_obj != nullptr && new_obj != nullptr && DataOf(old_obj) == data) return {};
  sagemaker::ParsedInstanceTypes parsed = sagemaker::ParseInstanceTypes(data);
  sagemaker::SetClusterInstanceTypes(
      std::make_shared<const sagemaker::InstanceTypeTable>(std::move(parsed.table)));
  const k8s::Object& any = new_obj != nullptr ? *new_obj : *old_obj;
  const std::string name = k8s::NamespaceOf(any) + "/" + k8s::NameOf(any);
  Log()->info("instance types configmap={} entries={} problems={}", name,
              data.size() - parsed.problems.size(), parsed.problems.size());
  for (const std::string& problem : parsed.problems) {
    events.Record(*new_obj, EventType::kWarning, kReasonInvalidInstanceType,
                  "ConfigMap " + name + ": " + problem);
  }
  std::vector<std::string> keys;
  for (const k8s::ObjectPtr& p : pipelines.List("")) {
    if (p->contains("spec") && (*p)["spec"].contains("pipelineDefinition")) {
      keys.push_back(k8s::KeyOf(*p));
    }
  }
  return keys;
}

}  // namespace stepline::reconcilers
