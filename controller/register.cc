#include "controller/register.h"

#include "controller/event_mapping.h"
#include "reconcilers/cache_trim.h"
#include "reconcilers/execution_reconciler.h"
#include "reconcilers/instance_types_config.h"
#include "reconcilers/pipeline_reconciler.h"
#include "reconcilers/schedule_reconciler.h"
#include "reconcilers/validation.h"

namespace stepline::controller {

namespace {

// What tells the executions' QuotaQueue of quota room (quota_queue.h): ResourceQuota changes
// hand out grants; a new pod of an execution is a grant admitted, a quota refusal of its Job's
// pod (a FailedCreate Event) one refused.
ChangeHook QuotaRoomHook(reconcilers::QuotaQueue& queue, const k8s::CacheReader& quotas,
                         const k8s::CacheReader& jobs) {
  return [&queue, &quotas, &jobs](const k8s::Resource& resource, const k8s::Object* old_obj,
                                  const k8s::Object* new_obj) -> std::vector<std::string> {
    if (resource == k8s::resources::kResourceQuotas) {
      const k8s::Object& any = new_obj != nullptr ? *new_obj : *old_obj;
      return queue.QuotaChanged(old_obj, new_obj, quotas.List(k8s::NamespaceOf(any)));
    }
    if (old_obj != nullptr || new_obj == nullptr) return {};  // only additions below
    if (resource == k8s::resources::kPods) {
      if (auto key = ExecutionLabelKey(*new_obj)) queue.PodCreated(*key);
    } else if (resource == k8s::resources::kEvents &&
               new_obj->value("message", "").find("exceeded quota") != std::string::npos) {
      auto key = JobEventOwnerKey(*new_obj, jobs, k8s::resources::kPipelineExecutions.kind);
      if (key) queue.Refused(*key);
    }
    return {};
  };
}

std::unique_ptr<reconcilers::Reconciler> RegisterExecutionReconciler(Manager& manager,
                                                                     const ReconcilerDeps& deps) {
  reconcilers::ExecutionCaches caches;
  caches.executions = &deps.caches.Cache(k8s::resources::kPipelineExecutions);
  caches.pipelines = &deps.caches.Cache(k8s::resources::kPipelines);
  caches.jobs = &deps.caches.Cache(k8s::resources::kJobs);
  caches.pods = &deps.caches.Cache(k8s::resources::kPods);
  caches.job_events = &deps.caches.Cache(k8s::resources::kEvents);
  caches.artifact_repositories = &deps.caches.Cache(k8s::resources::kConfigMaps);
  reconcilers::ExecutionReconcilerOptions options;
  options.plan.artifacts = deps.artifacts;
  options.dispatch = &manager.dispatch_latency();
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
  manager.Register(
      *reconciler,
      {k8s::resources::kPipelineExecutions,
       deps.workers,
       {Watch::kOwnedJobs, Watch::kExecutionPods, Watch::kReferencedPipelines, Watch::kJobEvents},
       QuotaRoomHook(reconciler->quota_queue(), deps.caches.Cache(k8s::resources::kResourceQuotas),
                     *caches.jobs)});
  return reconciler;
}

// A schedule looks again when one of its runs appears, goes or changes phase (a status-only
// change, which the manager's predicates drop before the execution keys).
ChangeHook ScheduledRunHook() {
  return [](const k8s::Resource& resource, const k8s::Object* old_obj,
            const k8s::Object* new_obj) -> std::vector<std::string> {
    if (resource != k8s::resources::kPipelineExecutions) return {};
    const k8s::Object& any = new_obj != nullptr ? *new_obj : *old_obj;
    const auto phase = "/status/pipelineExecutionStatus"_json_pointer;
    if (old_obj != nullptr && new_obj != nullptr &&
        old_obj->value(phase, "") == new_obj->value(phase, "")) {
      return {};
    }
    auto key = ControllerOwnerKey(any, k8s::resources::kPipelineSchedules.kind);
    if (!key) return {};
    return {*key};
  };
}

// A Pipeline looks again when one of its executions finishes: its history limits and Jobs TTL
// (cleanup.h). The finished copy is trimmed (no spec.pipelineName); the one before is whole.
ChangeHook FinishedRunHook(const k8s::CacheReader& pipelines) {
  return [&pipelines](const k8s::Resource& resource, const k8s::Object* old_obj,
                      const k8s::Object* new_obj) -> std::vector<std::string> {
    if (resource != k8s::resources::kPipelineExecutions || old_obj == nullptr ||
        new_obj == nullptr || reconcilers::IsFinishedExecution(*old_obj) ||
        !reconcilers::IsFinishedExecution(*new_obj)) {
      return {};
    }
    const std::string name = old_obj->value("/spec/pipelineName"_json_pointer, "");
    const std::string& ns = k8s::NamespaceOf(*old_obj);
    if (pipelines.Get(ns, name)) return {ns + "/" + name};
    for (const k8s::ObjectPtr& p : pipelines.List(ns)) {  // named by its alias
      if (p->value("/spec/pipelineName"_json_pointer, "") == name) return {k8s::KeyOf(*p)};
    }
    return {};
  };
}

// A Pipeline looks again when one of its executions finishes (FinishedRunHook) and, if it has a
// SageMaker definition, when the cluster's instance types change (instance_types_config.h).
ChangeHook PipelineHook(const k8s::CacheReader& pipelines, reconcilers::EventRecorder& events) {
  return [finished = FinishedRunHook(pipelines), &pipelines, &events](
             const k8s::Resource& resource, const k8s::Object* old_obj,
             const k8s::Object* new_obj) -> std::vector<std::string> {
    if (resource == k8s::resources::kConfigMaps) {
      return reconcilers::OnInstanceTypesChange(old_obj, new_obj, pipelines, events);
    }
    return finished(resource, old_obj, new_obj);
  };
}

std::unique_ptr<reconcilers::Reconciler> RegisterScheduleReconciler(Manager& manager,
                                                                    const ReconcilerDeps& deps) {
  auto schedules = std::make_unique<reconcilers::ScheduleReconciler>(
      manager.Cache(k8s::resources::kPipelineSchedules),
      manager.Cache(k8s::resources::kPipelineExecutions), deps.client, deps.events, deps.clock);
  manager.Register(*schedules,
                   {k8s::resources::kPipelineSchedules, deps.workers, {}, ScheduledRunHook()});
  return schedules;
}

}  // namespace

std::vector<std::unique_ptr<reconcilers::Reconciler>> RegisterReconcilers(
    Manager& manager, const ReconcilerDeps& deps) {
  std::vector<std::unique_ptr<reconcilers::Reconciler>> registered;
  registered.push_back(RegisterExecutionReconciler(manager, deps));
  auto pipelines = std::make_unique<reconcilers::PipelineReconciler>(
      manager.Cache(k8s::resources::kPipelines), deps.client, deps.events, deps.clock,
      "stepline-controller", deps.pod_policy, &deps.client);
  manager.Register(*pipelines,
                   {k8s::resources::kPipelines,
                    deps.workers,
                    {},
                    PipelineHook(manager.Cache(k8s::resources::kPipelines), deps.events)});
  registered.push_back(std::move(pipelines));
  registered.push_back(RegisterScheduleReconciler(manager, deps));
  return registered;
}

}  // namespace stepline::controller
