#include "controller/register.h"

#include "reconcilers/execution_reconciler.h"
#include "reconcilers/pipeline_reconciler.h"
#include "reconcilers/validation.h"

namespace stepline::controller {

namespace {

std::unique_ptr<reconcilers::Reconciler> RegisterExecutionReconciler(Manager& manager,
                                                                     const ReconcilerDeps& deps) {
  reconcilers::ExecutionCaches caches;
  caches.executions = &deps.caches.Cache(k8s::resources::kPipelineExecutions);
  caches.pipelines = &deps.caches.Cache(k8s::resources::kPipelines);
  caches.jobs = &deps.caches.Cache(k8s::resources::kJobs);
  caches.pods = &deps.caches.Cache(k8s::resources::kPods);
  caches.job_events = &deps.caches.Cache(k8s::resources::kEvents);
  reconcilers::ExecutionReconcilerOptions options;
  options.dispatch = &manager.dispatch_latency();
  options.plan.scheduling_timeout = deps.scheduling_timeout;
  options.transient_status_delay = deps.transient_status_delay;
  options.routine_step_events = deps.routine_step_events;
  options.validate = [policy = deps.pod_policy](const reconcilers::Pipeline& p) {
    k8s::Status s = reconcilers::ValidatePipeline(p, policy);
    return s.ok() ? std::string() : s.message();
  };
  auto reconciler = std::make_unique<reconcilers::ExecutionReconciler>(
      caches, deps.client, deps.events, deps.clock, std::move(options));
  manager.Register(*reconciler, {k8s::resources::kPipelineExecutions,
                                 deps.workers,
                                 {Watch::kOwnedJobs, Watch::kExecutionPods,
                                  Watch::kReferencedPipelines, Watch::kJobEvents}});
  return reconciler;
}

}  // namespace

std::vector<std::unique_ptr<reconcilers::Reconciler>> RegisterReconcilers(
    Manager& manager, const ReconcilerDeps& deps) {
  std::vector<std::unique_ptr<reconcilers::Reconciler>> registered;
  registered.push_back(RegisterExecutionReconciler(manager, deps));
  auto pipelines = std::make_unique<reconcilers::PipelineReconciler>(
      manager.Cache(k8s::resources::kPipelines), deps.client, deps.events, deps.clock,
      "stepline-controller", deps.pod_policy);
  manager.Register(*pipelines, {k8s::resources::kPipelines, deps.workers, {}});
  registered.push_back(std::move(pipelines));
  return registered;
}

}  // namespace stepline::controller
