#include "localagent/resources.h"

#include <vector>

#include "localagent/json_util.h"

namespace stepline::localagent {

namespace {

k8s::Result<ContainerResources> ContainerResourcesOf(const k8s::Object& container) {
  ContainerResources out;
  out.name = StrField(container, "name");
  const auto& resources = ObjField(container, "resources");
  auto requests = ParseResourceList(ObjField(resources, "requests"));
  if (!requests.ok()) return requests.status();
  auto limits = ParseResourceList(ObjField(resources, "limits"));
  if (!limits.ok()) return limits.status();
  out.requests = *requests;
  out.limits = *limits;
  for (const auto& [name, quantity] : out.limits) out.requests.emplace(name, quantity);
  return out;
}

const k8s::Object& ArrayAt(const k8s::Object& spec, const char* field) {
  return ArrField(spec, field);
}

}  // namespace

k8s::Result<ResourceList> ParseResourceList(const k8s::Object& json) {
  ResourceList out;
  if (!json.is_object()) return out;
  for (const auto& [name, value] : json.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    auto quantity = k8s::Quantity::Parse(text);
    if (!quantity.ok()) {
      return k8s::Status::Invalid(name + ": " + quantity.status().message());
    }
    out.emplace(name, *quantity);
  }
  return out;
}

ResourceList AddResources(const ResourceList& a, const ResourceList& b) {
  ResourceList out = a;
  for (const auto& [name, quantity] : b) {
    auto it = out.find(name);
    if (it == out.end()) {
      out.emplace(name, quantity);
      continue;
    }
    auto sum = it->second.Add(quantity);
    if (sum.ok()) it->second = *sum;
  }
  return out;
}

ResourceList MaxResources(const ResourceList& a, const ResourceList& b) {
  ResourceList out = a;
  for (const auto& [name, quantity] : b) {
    auto it = out.find(name);
    if (it == out.end()) {
      out.emplace(name, quantity);
    } else if (it->second < quantity) {
      it->second = quantity;
    }
  }
  return out;
}

std::string FormatResourceList(const ResourceList& list) {
  std::string out;
  for (const auto& [name, quantity] : list) {
    if (!out.empty()) out += ",";
    out += name + "=" + quantity.ToString();
  }
  return out;
}

k8s::Result<PodResources> PodResourcesOf(const k8s::Object& pod) {
  PodResources out;
  const auto& spec = ObjField(pod, "spec");
  for (const auto& container : ArrayAt(spec, "containers")) {
    auto resources = ContainerResourcesOf(container);
    if (!resources.ok()) return resources.status();
    out.requests = AddResources(out.requests, resources->requests);
    out.limits = AddResources(out.limits, resources->limits);
    out.containers.push_back(*resources);
  }
  for (const auto& container : ArrayAt(spec, "initContainers")) {
    auto resources = ContainerResourcesOf(container);
    if (!resources.ok()) return resources.status();
    out.requests = MaxResources(out.requests, resources->requests);
    out.limits = MaxResources(out.limits, resources->limits);
  }
  auto overhead = ParseResourceList(ObjField(spec, "overhead"));
  if (!overhead.ok()) return overhead.status();
  out.requests = AddResources(out.requests, *overhead);
  return out;
}

}  // namespace stepline::localagent
