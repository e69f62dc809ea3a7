// Resource: which collection of the API an operation addresses, and the well-known ones.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace stepline::k8s {

// An API object as the server sends it. Objects held by caches are shared as ObjectPtr and
// never modified: copy before you edit.
using Object = nlohmann::json;
using ObjectPtr = std::shared_ptr<const Object>;

struct Resource {
  std::string group;     // "" for the core group
  std::string version;   // "v1", "v1alpha1"
  std::string resource;  // plural, lower case: "jobs"
  std::string kind;      // "Job"
  bool namespaced = true;

  // "batch/v1", or "v1" for the core group.
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "jobs.batch", or "pods" for the core group (as in RBAC and error messages).
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
  // The collection path: /api/v1/namespaces/NS/pods or /apis/G/V/RESOURCE when ns is empty
  // (all namespaces, or cluster scoped).
  std::string CollectionPath(const std::string& ns) const;
  // The object path: CollectionPath(ns) + "/" + name.
  std::string ObjectPath(const std::string& ns, const std::string& name) const;

  bool operator==(const Resource& o) const {
    return group == o.group && version == o.version && resource == o.resource;
  }
};

namespace resources {
extern const Resource kPods;
extern const Resource kEvents;
extern const Resource kNamespaces;
extern const Resource kConfigMaps;
extern const Resource kSecrets;
extern const Resource kServiceAccounts;
extern const Resource kResourceQuotas;
extern const Resource kJobs;
extern const Resource kLeases;
extern const Resource kCustomResourceDefinitions;
extern const Resource kPipelines;
extern const Resource kPipelineExecutions;
extern const Resource kPipelineSchedules;
}  // namespace resources

// Small accessors for the metadata every object has; they return "" when absent.
const std::string& NameOf(const Object& obj);
const std::string& NamespaceOf(const Object& obj);
const std::string& UidOf(const Object& obj);
const std::string& ResourceVersionOf(const Object& obj);
// "namespace/name", or "name" for cluster-scoped objects: the work-queue key.
std::string KeyOf(const Object& obj);
// The namespace and name in a KeyOf key; a key without '/' is a cluster-scoped name ("", key)
// (client-go's SplitMetaNamespaceKey).
std::pair<std::string, std::string> SplitKey(const std::string& key);
// The ownerReference with controller: true, or nullptr.
const Object* ControllerOf(const Object& obj);

}  // namespace stepline::k8s
