#include "cmd/stepline-controller/register.h"

#include <utility>

#include "reconcilers/execution_reconciler.h"
#include "reconcilers/pipeline_reconciler.h"
#include "reconcilers/schedule_reconciler.h"
#include "reconcilers/validation.h"
#include "reconcilers/watches.h"

namespace stepline::controller {

namespace {

// The dispatch latency: 0.25 ms to about 8 s, doubling (the target, 20 ms, falls between two
// buckets' bounds). The controller's part of it: bounds at 0.1 ms to 1 s, 5 ms (its target) one
// of them, so the share under the target is counted, not interpolated.
std::unique_ptr<reconcilers::DispatchLatency> DispatchHistograms(const ReconcilerDeps& deps) {
  metrics::HistogramFamily& latency = deps.registry.Histogram(
      "stepline_dispatch_latency_seconds",
      "From the Job informer event showing a Job of an execution finished to the return of "
      "each Job create of that execution that followed it.",
      {}, metrics::ExponentialBuckets(0.00025, 2, 16));
  metrics::HistogramFamily& controller_part = deps.registry.Histogram(
      "stepline_dispatch_controller_seconds",
      "The controller's own part of the dispatch latency: from the same Job informer event to "
      "each Job create request of that execution being handed to the API client.",
      {},
      {0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1,
       0.2, 0.5, 1});
  return std::make_unique<reconcilers::DispatchLatency>(
      deps.clock, [&latency](double seconds) { latency.Observe({}, seconds); },
      [&controller_part](double seconds) { controller_part.Observe({}, seconds); });
}

std::unique_ptr<reconcilers::Reconciler> RegisterExecutionReconciler(
    Manager& manager, const ReconcilerDeps& deps, reconcilers::DispatchLatency& dispatch) {
  reconcilers::ExecutionCaches caches;
  caches.executions = &manager.Cache(k8s::resources::kPipelineExecutions);
  caches.pipelines = &manager.Cache(k8s::resources::kPipelines);
  caches.jobs = &manager.Cache(k8s::resources::kJobs);
  caches.pods = &manager.Cache(k8s::resources::kPods);
  caches.job_events = &manager.Cache(k8s::resources::kEvents);
  caches.artifact_repositories = &manager.Cache(k8s::resources::kConfigMaps);
  reconcilers::ExecutionReconcilerOptions options;
  options.plan.artifacts = deps.artifacts;
  options.dispatch = &dispatch;
  options.reader = &deps.client;
  options.plan.scheduling_timeout = deps.scheduling_timeout;
  options.transient_status_delay = deps.transient_status_delay;
  options.routine_step_events = deps.routine_step_events;
  options.validate = [policy = deps.pod_policy](const reconcilers::Pipeline& p) {
    k8s::Status s = reconcilers::ValidatePipeline(p, policy);
    return s.ok() ? std::string() : s.message();
  };
  auto reconciler = std::make_unique<reconcilers::ExecutionReconciler>(
      caches, deps.client, deps.events, deps.clock, std::move(options));
  reconcilers::ExecutionWatchDeps watch;
  watch.executions = caches.executions;
  watch.jobs = caches.jobs;
  watch.quotas = &manager.Cache(k8s::resources::kResourceQuotas);
  watch.quota = &reconciler->quota_queue();
  watch.dispatch = &dispatch;
  watch.started_pod_delay = deps.transient_status_delay;
  manager.Register(*reconciler, {deps.workers, reconcilers::ExecutionWatches(watch)});
  return reconciler;
}

}  // namespace

Reconcilers RegisterReconcilers(Manager& manager, const ReconcilerDeps& deps) {
  reconcilers::AddInformers(
      [&manager](InformerSpec spec) -> InformerHandle& {
        return manager.AddInformer(std::move(spec));
      },
      deps.controller_namespace);
  Reconcilers made;
  made.dispatch = DispatchHistograms(deps);
  made.all.push_back(RegisterExecutionReconciler(manager, deps, *made.dispatch));
  const k8s::CacheReader& pipelines = manager.Cache(k8s::resources::kPipelines);
  auto pipeline_reconciler = std::make_unique<reconcilers::PipelineReconciler>(
      pipelines, deps.client, deps.events, deps.clock, "stepline-controller", deps.pod_policy,
      &deps.client);
  manager.Register(*pipeline_reconciler,
                   {deps.workers, reconcilers::PipelineWatches(pipelines, deps.events)});
  made.all.push_back(std::move(pipeline_reconciler));
  auto schedules = std::make_unique<reconcilers::ScheduleReconciler>(
      manager.Cache(k8s::resources::kPipelineSchedules),
      manager.Cache(k8s::resources::kPipelineExecutions), deps.client, deps.events, deps.clock);
  manager.Register(*schedules, {deps.workers, reconcilers::ScheduleWatches()});
  made.all.push_back(std::move(schedules));
  return made;
}

}  // namespace stepline::controller
