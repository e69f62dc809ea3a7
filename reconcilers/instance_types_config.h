// The cluster's instance-type table (sagemaker_instances.h) from its ConfigMap,
// kInstanceTypesConfigMap in the controller's namespace, which the manager watches by that name.
//
// Each change of the ConfigMap's data (added, edited, deleted):
//   - installs the table it gives (SetClusterInstanceTypes; deleted: the built-in table);
//   - records a Warning Event InvalidInstanceType on the ConfigMap per entry that was left out,
//     naming the ConfigMap, the key, the problem and what is used instead;
//   - answers the keys of the Pipelines whose spec.pipelineDefinition may use the table, so that
//     each is validated again (an unknown type becoming known, or the reverse, changes Ready).
// Executions that start afterwards compile with the new table; a running execution keeps the
// resources of its snapshot.
//
// Thread-safety: OnInstanceTypesChange may be called from any thread (informer threads).
#pragma once

#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "reconcilers/reconciler.h"

namespace stepline::reconcilers {

inline constexpr const char* kReasonInvalidInstanceType = "InvalidInstanceType";

// old_obj null when the ConfigMap was added, new_obj null when deleted; a ConfigMap of another
// name answers nothing. pipelines: the Pipelines' cache.
std::vector<std::string> OnInstanceTypesChange(const k8s::Object* old_obj,
                                               const k8s::Object* new_obj,
                                               const k8s::CacheReader& pipelines,
                                               EventRecorder& events);

}  // namespace stepline::reconcilers
