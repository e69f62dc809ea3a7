// A container's environment and command line, as the kubelet builds them: env entries in order
// with $(VAR) references expanded against the ones before, valueFrom (configMapKeyRef,
// secretKeyRef, fieldRef, resourceFieldRef), envFrom (with prefix), then command and args
// expanded against the result. Pure given the EnvSources.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::localagent {

// ConfigMap and Secret data, as the kubelet reads it from the API (Secret values decoded).
// Implementations say how they may be called concurrently.
class EnvSources {
 public:
  virtual ~EnvSources() = default;
  // nullopt when the object does not exist.
  virtual std::optional<std::map<std::string, std::string>> ConfigMapData(
      const std::string& ns, const std::string& name) const = 0;
  virtual std::optional<std::map<std::string, std::string>> SecretData(
      const std::string& ns, const std::string& name) const = 0;
};

// Kubernetes' $(VAR) expansion: $(NAME) -> its value when defined, left as it is otherwise;
// $$ -> $.
std::string ExpandVars(const std::string& text, const std::map<std::string, std::string>& vars);

struct ContainerLaunch {
  std::vector<std::string> env;   // "NAME=value", base first, container's after
  std::vector<std::string> argv;  // command + args, expanded
};

// base: variables every container gets (PATH, HOSTNAME, HOME); the container's own win.
// Errors read like the kubelet's CreateContainerConfigError messages
// ("configmap \"x\" not found", "couldn't find key k in ConfigMap ns/x").
k8s::Result<ContainerLaunch> BuildContainerLaunch(
    const k8s::Object& pod, const k8s::Object& container,
    const std::vector<std::pair<std::string, std::string>>& base, const EnvSources& sources);

}  // namespace stepline::localagent
