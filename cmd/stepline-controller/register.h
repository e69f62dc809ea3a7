// The one place that decides which reconcilers the controller runs: the composition root, the
// only code that includes both the runtime (controller/) and the logic (reconcilers/).
// Reconciler authors add theirs to RegisterReconcilers (register.cc): construct it from the deps
// and call manager.Register with its workers and its watches (reconcilers/watches.h).
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "controller/manager.h"
#include "controller/metrics.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/dispatch_latency.h"
#include "reconcilers/pod_policy.h"
#include "reconcilers/reconciler.h"

namespace stepline::controller {

struct ReconcilerDeps {
  k8s::Client& client;                 // writes (and reads the cache does not hold)
  reconcilers::EventRecorder& events;  // Events on the objects
  const k8s::Clock& clock;
  metrics::Registry& registry;  // stepline_dispatch_latency_seconds, _controller_seconds
  // The controller's own namespace (its Lease's): the instance-types ConfigMap is watched there.
  std::string controller_namespace;
  int workers;                                               // --workers
  std::chrono::seconds scheduling_timeout{600};              // --scheduling-timeout
  std::chrono::milliseconds transient_status_delay{10'000};  // --transient-status-delay
  bool routine_step_events = false;                          // --routine-step-events
  reconcilers::PodPolicy pod_policy;  // --allowed-service-accounts, --allowed-toleration-keys
  reconcilers::ArtifactStagingOptions artifacts;  // --artifacts-image, --artifact-upload-grace
};

// What RegisterReconcilers made; the caller keeps it alive as long as the manager runs.
struct Reconcilers {
  std::unique_ptr<reconcilers::DispatchLatency> dispatch;
  std::vector<std::unique_ptr<reconcilers::Reconciler>> all;
};

// Adds the informers the reconcilers read to the manager (reconcilers::AddInformers), then
// registers every reconciler with its watches.
Reconcilers RegisterReconcilers(Manager& manager, const ReconcilerDeps& deps);

}  // namespace stepline::controller
