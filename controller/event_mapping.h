// Which reconcile keys a change to a watched object enqueues (sample-controller's handleObject:
// event handlers only turn objects into keys).
//
// Pure functions over objects and a cache; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/resource.h"

namespace stepline::controller {

inline constexpr const char* kExecutionLabel = "stepline.dev/execution";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "stepline";
inline constexpr const char* kJobEventsFieldSelector = "reason=FailedCreate";

// "ns/owner" when obj's controller ownerReference is of owner_kind in the stepline.dev group.
std::optional<std::string> ControllerOwnerKey(const k8s::Object& obj,
                                              const std::string& owner_kind);
// "ns/<value of stepline.dev/execution>" for a labelled pod.
std::optional<std::string> ExecutionLabelKey(const k8s::Object& pod);
// For the Job events cache: records involvedObject as an ownerReference so that the cache's
// ListByOwner(uid) answers the events about the object with that uid.
void IndexByInvolvedObject(k8s::Object& event);
// "ns/owner" for an event about a Job (e.g. FailedCreate) whose controller owner is of
// owner_kind, looked up in the Jobs cache.
std::optional<std::string> JobEventOwnerKey(const k8s::Object& event, const k8s::CacheReader& jobs,
                                            const std::string& owner_kind);
// True when new_obj differs from old_obj only in status, resourceVersion and managedFields: a
// status write (most often the controller's own, coming back through the watch) that no
// reconcile needs to look at, since spec and metadata (generation, labels, annotations,
// finalizers, deletionTimestamp) are unchanged.
bool OnlyStatusChanged(const k8s::Object& old_obj, const k8s::Object& new_obj);
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
// Keys of the executions in the pipeline's namespace whose spec.pipelineName names it (by
// metadata.name or by its spec.pipelineName alias).
std::vector<std::string> ExecutionsReferencing(const k8s::Object& pipeline,
                                               const k8s::CacheReader& executions);

}  // namespace stepline::controller
