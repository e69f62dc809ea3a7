// What a reconciler gives the controller runtime, and what the runtime gives it back: the one
// header the logic (reconcilers/) takes from controller/. Header-only, on k8score.
//
// A reconciler is registered with the manager (controller/manager.h) together with its watches:
// for each resource it watches, a function that maps a change of one object to the keys to
// reconcile (controller-runtime's For/Owns/Watches with their predicates and handlers). The
// manager knows nothing else about the reconciler's domain.
//
// The manager calls Reconcile(key) from its worker threads, never for the same key on two
// threads at once. What happens next is decided in one place (controller/reconcile_loop.h), from
// the outcome:
//   status not OK, not terminal -> requeue with the key's rate-limited backoff;
//   status not OK, terminal     -> log and drop the key (a later change re-enqueues it);
//   requeue_after > 0           -> forget the backoff, requeue after that delay;
//   otherwise                   -> forget the backoff; done until the next change.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "controller/event_type.h"
#include "k8sclient/informer.h"
#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::controller {

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

// One change of a watched object, as an informer saw it: old_obj is null when the object was
// added, new_obj null when it was deleted; both set for an update (and for a resync, equal).
struct Change {
  const k8s::Object* old_obj = nullptr;
  const k8s::Object* new_obj = nullptr;

  bool added() const { return old_obj == nullptr; }
  bool deleted() const { return new_obj == nullptr; }
  // The newest copy there is.
  const k8s::Object& object() const { return new_obj != nullptr ? *new_obj : *old_obj; }
};

// A key to reconcile: at once, or after a delay (a later reconcile of the key cancels the
// wait, reconcile_loop.h).
struct Request {
  std::string key;
  std::chrono::milliseconds after{0};

  bool operator==(const Request& o) const { return key == o.key && after == o.after; }
};

// Maps a change to the keys it enqueues, the predicates included (an empty answer drops the
// change). Runs on informer threads, for every change of the watched resource: thread-safe
// and quick; it may also note the change in thread-safe state of its own (a clock, a quota
// queue), which is how a reconciler learns of changes that enqueue nothing.
using MapChange = std::function<std::vector<Request>(const Change& change)>;

struct Watch {
  k8s::Resource resource;
  MapChange map;
};

// An informer the manager runs: which objects of a resource it lists and watches and what its
// cache keeps (options.ns is set by the manager). Owners are listed and synced before the
// others, whose caches may ask an owner's (options.keep).
struct InformerSpec {
  k8s::Resource resource;
  k8s::InformerOptions options;
  bool owner = false;
  // Another namespace than the manager's (one ConfigMap in the controller's own); "": the
  // manager's.
  std::string ns;
  // A second informer of a resource needs a name of its own; "": the resource's plural. Watches
  // of the resource see the changes of every informer of it.
  std::string name;
};

}  // namespace stepline::controller
