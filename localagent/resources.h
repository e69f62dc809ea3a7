// Resource lists (requests, limits, node capacity, quota) and what a pod asks for, computed the
// way the scheduler and quota admission compute it. Pure functions; no shared state.
#pragma once

#include <map>
#include <string>

#include "k8sclient/quantity.h"
#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::localagent {

// Sorted by name, as the API prints them.
using ResourceList = std::map<std::string, k8s::Quantity>;

// {"cpu": "500m", "memory": "64Mi"} -> ResourceList; an error names the bad entry.
k8s::Result<ResourceList> ParseResourceList(const k8s::Object& json);
// a + b for every name in either; quantities too large to add saturate at a.
ResourceList AddResources(const ResourceList& a, const ResourceList& b);
// max(a, b) per name.
ResourceList MaxResources(const ResourceList& a, const ResourceList& b);
// "cpu=500m,memory=64Mi" (the form quota messages use).
std::string FormatResourceList(const ResourceList& list);

struct ContainerResources {
  std::string name;
  ResourceList requests;  // limits copied in where a request is missing, as the API defaults
  ResourceList limits;
};

struct PodResources {
  std::vector<ContainerResources> containers;
  // Effective pod requests: the sum over containers, at least each init container's, plus
  // spec.overhead (the scheduler's and the quota's view).
  ResourceList requests;
  ResourceList limits;
};

// From pod.spec (a pod or a pod template spec's parent object with "spec").
k8s::Result<PodResources> PodResourcesOf(const k8s::Object& pod);

}  // namespace stepline::localagent
