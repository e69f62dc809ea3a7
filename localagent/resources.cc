#include "localagent/resources.h"

#include <vector>

#include "k8sclient/object_fields.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

k8s::Result<ContainerResources> ContainerResourcesOf(const k8s::Object& container) {
  ContainerResources out;
  out.name = StringField(container, "name");
  const auto& resources = ObjectField(container, "resources");
  auto requests = ParseResourceList(ObjectField(resources, "requests"));
  if (!requests.ok()) return requests.status();
  auto limits = ParseResourceList(ObjectField(resources, "limits"));
  if (!limits.ok()) return limits.status();
  out.requests = *requests;
  out.limits = *limits;
  for (const auto& [name, quantity] : out.limits) out.requests.emplace(name, quantity);
  return out;
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
  const auto& spec = ObjectField(pod, "spec");
  for (const auto& container : ArrayField(spec, "containers")) {
    auto resources = ContainerResourcesOf(container);
    if (!resources.ok()) return resources.status();
    out.requests = AddResources(out.requests, resources->requests);
    out.limits = AddResources(out.limits, resources->limits);
    out.containers.push_back(*resources);
  }
  for (const auto& container : ArrayField(spec, "initContainers")) {
    auto resources = ContainerResourcesOf(container);
    if (!resources.ok()) return resources.status();
    out.requests = MaxResources(out.requests, resources->requests);
    out.limits = MaxResources(out.limits, resources->limits);
  }
  auto overhead = ParseResourceList(ObjectField(spec, "overhead"));
  if (!overhead.ok()) return overhead.status();
  out.requests = AddResources(out.requests, *overhead);
  return out;
}

}  // namespace stepline::localagent
