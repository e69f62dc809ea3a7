// JSON patches (RFC 6902) the agent sends, guarded by "test" operations so that they apply
// only to the version of the list they were computed from. Pure functions.
#pragma once

#include <optional>
#include <string>

#include "k8sclient/resource.h"

namespace stepline::localagent {

// Removes `finalizer` from metadata.finalizers; nullopt when it is not there.
std::optional<std::string> RemoveFinalizerPatch(const k8s::Object& obj,
                                                const std::string& finalizer);
// Removes the ownerReferences that point at owner_uid; nullopt when there are none.
std::optional<std::string> RemoveOwnerReferencePatch(const k8s::Object& obj,
                                                     const std::string& owner_uid);

}  // namespace stepline::localagent
