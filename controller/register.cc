#include "controller/register.h"

namespace stepline::controller {

std::vector<std::unique_ptr<reconcilers::Reconciler>> RegisterReconcilers(
    Manager& manager, const ReconcilerDeps& deps) {
  std::vector<std::unique_ptr<reconcilers::Reconciler>> registered;
  // The Pipeline and PipelineExecution reconcilers register here as they land, e.g.:
  //   auto executions = std::make_unique<reconcilers::ExecutionReconciler>(...deps...);
  //   manager.Register(*executions, {k8s::resources::kPipelineExecutions, deps.workers,
  //                                  {Watch::kOwnedJobs, Watch::kExecutionPods,
  //                                   Watch::kReferencedPipelines}});
  //   registered.push_back(std::move(executions));
  (void)manager;
  (void)deps;
  return registered;
}

}  // namespace stepline::controller
