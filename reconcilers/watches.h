// What the reconcilers watch, next to what they read: the informers the controller runs (their
// selectors and what their caches keep), and for each reconciler the watches that turn a change
// into its keys, with the predicates that drop changes no reconcile needs (sample-controller's
// handleObject, controller-runtime's Watches with predicates). The runtime (controller/manager.h)
// runs them and knows none of this.
//
// The predicates are tied to what the planner reads: JobFacts and PodFacts name exactly those
// fields (tests/reconcilers/watches_test.cc checks each against the planner's classifiers).
//
// Pure functions over objects and caches, and watches whose MapChange is thread-safe (what they
// note goes to the QuotaQueue and DispatchLatency, both thread-safe).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "controller/informer_source.h"
#include "controller/reconciler.h"
#include "k8sclient/cache.h"
#include "k8sclient/resource.h"
#include "reconcilers/dispatch_latency.h"
#include "reconcilers/quota_queue.h"
#include "reconcilers/reconciler.h"

namespace stepline::reconcilers {

// The Job events the controller reads: refusals to create a Job's pods (quota, policy).
inline constexpr const char* kJobEventsFieldSelector = "reason=FailedCreate";

// Adds the informers every reconciler reads, owners first, through add (Manager::AddInformer):
// Pipelines and PipelineExecutions (owners), Jobs labelled app.kubernetes.io/managed-by=stepline,
// Pods labelled stepline.dev/execution, FailedCreate Events indexed by their involvedObject's uid
// (Cache(kEvents).ListByOwner(uid)), ResourceQuotas, the artifact-repository ConfigMaps (no
// other ConfigMap: RBAC allows no more) and PipelineSchedules. Each cache keeps only what the
// reconcilers read (cache_trim.h); the Job and pod caches also forget the ended Jobs and pods of
// finished executions (FinishedWithItsExecution), when they are listed or updated, and when
// their execution turns finished.
// With controller_namespace set, also the ConfigMap of the cluster's SageMaker instance types
// (sagemaker_instances.h), by its name, in that namespace (instance_types_config.h).
using AddInformer = std::function<controller::InformerHandle&(controller::InformerSpec)>;
void AddInformers(const AddInformer& add, const std::string& controller_namespace);

// What the execution reconciler's watches read and tell. Everything outlives the watches.
struct ExecutionWatchDeps {
  const k8s::CacheReader* executions = nullptr;
  const k8s::CacheReader* jobs = nullptr;
  const k8s::CacheReader* quotas = nullptr;
  QuotaQueue* quota = nullptr;          // told of quota room, admissions and refusals
  DispatchLatency* dispatch = nullptr;  // told of Jobs turning finished; may be null
  // A pod update that only says the pod started (ClassifyPodChange: kStarted) enqueues its
  // execution this much later, and the execution's next reconcile cancels that wake-up: a step
  // that finishes meanwhile costs no reconcile for its start. 0: at once.
  std::chrono::milliseconds started_pod_delay{0};
};

// Executions: their own changes (not status-only ones); their Jobs' changes that alter what the
// planner reads (JobChangeMatters; a new Job is one the reconciler created and remembers); their
// pods' (ClassifyPodChange; a pod that succeeded while its Job has not finished waits for the
// Job's update); FailedCreate Events of their Jobs; changes of the Pipelines they name; and
// ResourceQuota changes that hand out quota room (QuotaQueue).
std::vector<controller::Watch> ExecutionWatches(const ExecutionWatchDeps& deps);
// Pipelines: their own changes, an execution of theirs finishing (history limits and the Jobs
// TTL, cleanup.h), and a change of the cluster's instance types (those with a SageMaker
// definition; instance_types_config.h, which records its Events through events).
std::vector<controller::Watch> PipelineWatches(const k8s::CacheReader& pipelines,
                                               EventRecorder& events);
// PipelineSchedules: their own changes, and a run of theirs appearing, going or changing phase.
std::vector<controller::Watch> ScheduleWatches();

// "ns/<value of stepline.dev/execution>" for a labelled pod.
std::optional<std::string> ExecutionLabelKey(const k8s::Object& pod);
// For the Job events cache: records involvedObject as an ownerReference so that the cache's
// ListByOwner(uid) answers the events about the object with that uid.
void IndexByInvolvedObject(k8s::Object& event);
// "ns/execution" for an event about a Job (e.g. FailedCreate) whose controller owner is a
// PipelineExecution, looked up in the Jobs cache.
std::optional<std::string> JobEventExecutionKey(const k8s::Object& event,
                                                const k8s::CacheReader& jobs);
// Keys of the executions in the pipeline's namespace whose spec.pipelineName names it (by
// metadata.name or by its spec.pipelineName alias).
std::vector<std::string> ExecutionsReferencing(const k8s::Object& pipeline,
                                               const k8s::CacheReader& executions);

// What the planner reads of a Job, as one comparable value: spec, labels, annotations, owner,
// deletion, status.completionTime and the conditions it judges by (Complete, Failed,
// FailureTarget). Status counters (active, ready, succeeded, uncountedTerminatedPods, ...),
// other conditions (SuccessCriteriaMet), finalizers and versions are left out.
k8s::Object JobFacts(const k8s::Object& job);
// What the planner reads of a pod: labels, owner, deletion, phase (Pending when unset),
// reason, message, the conditions that are not True (PodScheduled=False: Unschedulable) and
// DisruptionTarget, and each container's state. A pod being bound, becoming Ready, its IPs,
// finalizers and versions are left out; a new pod that is merely Pending equals {}.
k8s::Object PodFacts(const k8s::Object& pod);
// True when the update changed what the planner reads (the facts above).
bool JobChangeMatters(const k8s::Object& old_job, const k8s::Object& new_job);
bool PodChangeMatters(const k8s::Object& old_pod, const k8s::Object& new_pod);

// How soon a pod update needs a reconcile.
enum class PodChange {
  kNone,     // nothing the planner reads changed
  kStarted,  // only that the pod is starting or running (phase Running, containers running,
             // becoming Ready): the step shows Running, which a status write may say later
  kJudged,   // something the planner judges an attempt by: it failed, cannot be scheduled,
             // cannot pull its image, is disrupted, deleted, or moved to another owner
};
PodChange ClassifyPodChange(const k8s::Object& old_pod, const k8s::Object& new_pod);

}  // namespace stepline::reconcilers
