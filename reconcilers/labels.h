// The labels Stepline puts on what it creates, and reads back: one definition each, for the Job
// builder, the watches (watches.h), the cache trims and the cleanup.
#pragma once

namespace stepline::reconcilers {

// On Jobs and their pods: the execution, step, attempt and fan-out index they run.
inline constexpr const char* kLabelExecution = "stepline.dev/execution";
inline constexpr const char* kLabelStep = "stepline.dev/step";
inline constexpr const char* kLabelAttempt = "stepline.dev/attempt";
inline constexpr const char* kLabelIndex = "stepline.dev/index";
// On Jobs: the controller's Job informer lists only these.
inline constexpr const char* kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "stepline";
// On the ConfigMaps holding a fan-in the status does not keep (fan_in_store.h), with the
// execution and step labels: what they hold, "outputs.NAME" or "artifacts.NAME".
inline constexpr const char* kLabelFanIn = "stepline.dev/fan-in";
// Kueue's label naming the LocalQueue of a Job it should admit (spec.queueName).
inline constexpr const char* kLabelKueueQueueName = "kueue.x-k8s.io/queue-name";

}  // namespace stepline::reconcilers
