// The one place that decides which reconcilers the controller runs. Reconciler authors add
// theirs to RegisterReconcilers (register.cc): construct it from the deps and call
// manager.Register with its primary kind, workers and the watches it needs.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "controller/manager.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/pod_policy.h"
#include "reconcilers/reconciler.h"

namespace stepline::controller {

struct ReconcilerDeps {
  k8s::Client& client;                 // writes (and reads the cache does not hold)
  const Manager& caches;               // manager.Cache(resources::kJobs), ...
  reconcilers::EventRecorder& events;  // Events on the objects
  const k8s::Clock& clock;
  int workers;                                               // --workers
  std::chrono::seconds scheduling_timeout{600};              // --scheduling-timeout
  std::chrono::milliseconds transient_status_delay{10'000};  // --transient-status-delay
  bool routine_step_events = false;                          // --routine-step-events
  reconcilers::PodPolicy pod_policy;  // --allowed-service-accounts, --allowed-toleration-keys
  reconcilers::ArtifactStagingOptions artifacts;  // --artifacts-image, --artifact-upload-grace
};

// Registers every reconciler with the manager and returns them; the caller keeps them alive
// as long as the manager runs.
std::vector<std::unique_ptr<reconcilers::Reconciler>> RegisterReconcilers(
    Manager& manager, const ReconcilerDeps& deps);

}  // namespace stepline::controller
