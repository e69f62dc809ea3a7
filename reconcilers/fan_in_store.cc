#include "reconcilers/fan_in_store.h"

#include <nlohmann/json.hpp>

#include "reconcilers/job_name.h"
#include "reconcilers/labels.h"

namespace stepline::reconcilers {

namespace {

using k8s::Object;

constexpr size_t kMaxObjectNameLength = 253;  // a ConfigMap's name: a DNS subdomain
constexpr size_t kMaxLabelValueLength = 63;

const char* KindWord(FanInKind kind) {
  return kind == FanInKind::kOutput ? "outputs" : "artifacts";
}

// A name as part of a DNS name; a hash of it is added when that changed it, so that outputs
// "A" and "a" name different ConfigMaps.
std::string NamePart(const std::string& name) {
  std::string part = StepJobPart(name);
  return part == name ? part : part + "-" + ShortHash(name);
}

std::string ConfigMapName(const FanInOwner& owner, const std::string& step, FanInKind kind,
                          const std::string& name, size_t k) {
  return ShortenName(owner.execution + "-" + StepJobPart(step) + "-" + KindWord(kind) + "-" +
                         NamePart(name) + "-" + (k < 10 ? "0" : "") + std::to_string(k),
                     kMaxObjectNameLength);
}

// The items of list in consecutive runs of at most kFanInChunkBytes of JSON (with their commas
// and brackets); (first item, compact JSON list) each.
std::vector<std::pair<size_t, std::string>> Chunks(const nlohmann::json& list) {
  std::vector<std::pair<size_t, std::string>> out;
  std::string chunk;
  size_t first = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string item = list[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!chunk.empty() && chunk.size() + item.size() + 2 > kFanInChunkBytes) {
      out.emplace_back(first, chunk + "]");
      chunk.clear();
      first = i;
    }
    chunk += chunk.empty() ? "[" : ",";
    chunk += item;
  }
  out.emplace_back(first, chunk.empty() ? "[]" : chunk + "]");
  return out;
}

Object OwnerReference(const FanInOwner& owner) {
  return {{"apiVersion", kApiVersion}, {"kind", kPipelineExecutionKind},
          {"name", owner.execution},   {"uid", owner.uid},
          {"controller", true},        {"blockOwnerDeletion", true}};
}

Object Labels(const FanInOwner& owner, const std::string& step, FanInKind kind,
              const std::string& name) {
  return {{kLabelExecution, owner.execution},
          {kLabelStep, step},
          {kLabelFanIn, FanInLabel(kind, name)},
          {kLabelManagedBy, kManagedByValue}};
}

Object ConfigMap(const std::string& name, const FanInOwner& owner, Object labels,
                 const std::string& part, const std::string& values) {
  Object metadata = {{"name", name},
                     {"namespace", owner.namespace_},
                     {"labels", std::move(labels)},
                     {"annotations", {{kAnnotationFanInPart, part}}},
                     {"ownerReferences", Object::array({OwnerReference(owner)})}};
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", std::move(metadata)},
          {"data", {{kFanInDataKey, values}}}};
}

}  // namespace

std::string FanInKey(const std::string& step, FanInKind kind, const std::string& name) {
  return step + "/" + KindWord(kind) + "." + name;
}

std::string FanInLabel(FanInKind kind, const std::string& name) {
  return ShortenName(std::string(KindWord(kind)) + "." + name, kMaxLabelValueLength);
}

k8s::Result<FanInStore> StoreFanIn(const FanInOwner& owner, const std::string& step, FanInKind kind,
                                   const std::string& name, const std::string& list) {
  nlohmann::json parsed = nlohmann::json::parse(list, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) {
    return k8s::Status::Invalid("the fan-in of " + step + "'s " + name + " is not a JSON list");
  }
  FanInStore out;
  out.stored.name = name;
  out.stored.bytes = static_cast<int64_t>(list.size());
  out.stored.items = static_cast<int64_t>(parsed.size());
  const auto chunks = Chunks(parsed);
  for (size_t k = 0; k < chunks.size(); ++k) {
    const std::string cm = ConfigMapName(owner, step, kind, name, k);
    const std::string part = std::to_string(k + 1) + "/" + std::to_string(chunks.size()) +
                             " from " + std::to_string(chunks[k].first);
    out.stored.config_maps.push_back(cm);
    out.config_maps.push_back(
        {FanInKey(step, kind, name),
         ConfigMap(cm, owner, Labels(owner, step, kind, name), part, chunks[k].second)});
  }
  return out;
}

std::string FanInKubectl(const FanInOwner& owner, const std::string& step, FanInKind kind,
                         const std::string& name) {
  return "kubectl get configmap -n " + owner.namespace_ + " -l " + kLabelExecution + "=" +
         owner.execution + "," + kLabelStep + "=" + step + "," + kLabelFanIn + "=" +
         FanInLabel(kind, name) +
         " -o jsonpath='{range .items[*]}{.data.values\\.json}{\"\\n\"}{end}'";
}

}  // namespace stepline::reconcilers
