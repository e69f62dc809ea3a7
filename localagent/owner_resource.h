// Which API resource an ownerReference (apiVersion, kind) names, for the garbage collector:
// the well-known kinds from a table, others by the API's pluralization of the lower-cased kind
// (namespaced assumed). Pure.
#pragma once

#include <optional>
#include <string>

#include "k8sclient/resource.h"

namespace stepline::localagent {

std::optional<k8s::Resource> ResourceForKind(const std::string& api_version,
                                             const std::string& kind);

}  // namespace stepline::localagent
