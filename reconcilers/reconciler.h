// The seam between the controller runtime (controller/) and the logic (reconcilers/).
//
// The manager calls Reconcile(key) from its worker threads, never for the same key on two
// threads at once. What happens next is decided in one place, the manager, from the outcome:
//   status not OK, not terminal -> requeue with the key's rate-limited backoff;
//   status not OK, terminal     -> log and drop the key (a later change re-enqueues it);
//   requeue_after > 0           -> forget the backoff, requeue after that delay;
//   otherwise                   -> forget the backoff; done until the next change.
#pragma once

#include <chrono>
#include <string>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::reconcilers {

struct ReconcileOutcome {
  k8s::Status status;
  bool terminal = false;
  std::chrono::milliseconds requeue_after{0};

  static ReconcileOutcome Done() { return {}; }
  static ReconcileOutcome After(std::chrono::milliseconds d) { return {{}, false, d}; }
  static ReconcileOutcome Retry(k8s::Status s) { return {std::move(s), false, {}}; }
  static ReconcileOutcome Drop(k8s::Status s) { return {std::move(s), true, {}}; }
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // "pipeline", "pipelineexecution": the label of metrics and logs.
  virtual const std::string& Name() const = 0;
  // key is "namespace/name". Reads from caches, writes through the client, never sleeps.
  virtual ReconcileOutcome Reconcile(const std::string& key) = 0;
};

enum class EventType { kNormal, kWarning };

// Records Kubernetes Events (core/v1) about an object. Implementations never block the caller:
// they queue, deduplicate (same object, reason and message -> count + 1) and write in the
// background. Safe to call from any thread.
class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // regarding: the object (apiVersion, kind, metadata.name/namespace/uid/resourceVersion are
  // read). reason is CamelCase ("StepFailed"); message is one human-readable line.
  virtual void Record(const k8s::Object& regarding, EventType type, const std::string& reason,
                      const std::string& message) = 0;
};

}  // namespace stepline::reconcilers
