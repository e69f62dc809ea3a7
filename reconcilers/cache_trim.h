// What the controller's informer caches keep of each object: only the fields the reconcilers
// (execution_reconciler, planner*, attempt, object_fields, watches) read, so that a
// controller with thousands of finished executions, their Jobs and Pods stays small. Used as
// InformerOptions::transform (after managedFields are stripped); the API server's objects are
// untouched, only the cached copies shrink.
//
// Every function edits its argument in place, never throws, and leaves objects it does not
// recognise (not JSON objects) alone. Pure; safe from any thread on objects nobody else holds.
//
// Kept, for Jobs, Pods and Events alike: metadata name, namespace, uid, resourceVersion,
// generation, creationTimestamp, deletionTimestamp, ownerReferences, finalizers, and the labels
// and annotations under "stepline.dev/" (and Kueue's label kueue.x-k8s.io/queue-name).
#pragma once

#include <functional>

#include "k8sclient/cache.h"
#include "k8sclient/resource.h"

namespace stepline::reconcilers {

// A Job: spec.suspend; status.conditions (type, status, reason, message, lastTransitionTime)
// and status.completionTime. The pod template and the rest of status go.
void TrimJob(k8s::Object& job);

// A Pod: status.phase, reason, message, the PodScheduled and DisruptionTarget conditions, and
// the first container's name and state (waiting / running / terminated), and the name and state
// of the artifact staging init containers (artifact-*: ArtifactError). spec goes.
void TrimPod(k8s::Object& pod);

// An Event about a Job: involvedObject, reason, message, type, lastTimestamp, eventTime.
void TrimJobEvent(k8s::Object& event);

// A PipelineExecution that has finished (Succeeded, Failed, Stopped) is only recognised as
// finished by the reconciler: of it stay the metadata a reconcile and the Job cache read (name,
// namespace, uid, resourceVersion, generation, deletionTimestamp, ownerReferences, finalizers)
// status.pipelineExecutionStatus, for the run of a PipelineSchedule what the schedule reads
// (the stepline.dev/ annotations, status.completionTime), and, when it has
// spec.ttlSecondsAfterFinished, what the cleanup of its Jobs reads (cleanup.h: that,
// status.completionTime and jobsDeletedTime), with status.observedGeneration equal to
// metadata.generation so that a reconcile of the cached copy has nothing to write (it never
// writes a trimmed status back), and an empty status.pipelineSnapshot so that it looks up no
// Pipeline. Without spec.pipelineName a change to its Pipeline enqueues it no more. Executions
// that have not finished are left whole: the planner reads them all.
void TrimExecution(k8s::Object& execution);

// The trim for objects of `resource` (Jobs, Pods, Events, PipelineExecutions); empty for the
// others (Pipelines are read whole).
std::function<void(k8s::Object&)> CacheTrimFor(const k8s::Resource& resource);

// True when TrimExecution would trim it: status.pipelineExecutionStatus is terminal.
bool IsFinishedExecution(const k8s::Object& execution);

// True when nothing will read obj again: it is a Job that has ended (Complete or Failed) or a
// pod that has (Succeeded or Failed), and the execution its stepline.dev/execution label names
// has finished too (as `executions`, the executions cache, has it). A finished execution's
// reconcile reads none of its Jobs, so the Job and pod caches may forget these (InformerOptions
// keep): with 10,000 finished runs that is most of the cache. Jobs still running (a failed
// run's Jobs being deleted) and objects of executions not in the cache are kept.
bool FinishedWithItsExecution(const k8s::Object& obj, const k8s::CacheReader& executions);

}  // namespace stepline::reconcilers
