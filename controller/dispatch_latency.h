// DispatchLatency: the controller's dispatch latency histogram,
// stepline_dispatch_latency_seconds: from the moment the Job informer's event handler saw a Job
// of an execution turn finished (Complete or Failed) to the return of each Job create of that
// execution that followed it. Each execution holds at most one pending finish, the newest (a
// dependent cannot start before its last dependency finished); the reconcile that creates Jobs
// answers it (see reconcilers/dispatch_observer.h). A finish that leads to no create (the last
// step, a fan-out child whose siblings still run) stays pending until one follows.
//
// Thread-safety: all methods from any thread; pending_ guarded by mu_.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "controller/metrics.h"
#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "reconcilers/dispatch_observer.h"

namespace stepline::controller {

// True when the Job has a Complete or Failed condition with status True.
bool JobIsFinished(const k8s::Object& job);

class DispatchLatency final : public reconcilers::DispatchObserver {
 public:
  // clock and registry must outlive this.
  DispatchLatency(const k8s::Clock& clock, metrics::Registry& registry);

  // From the Job informer's update handler: records "now" for the owner when the update shows
  // the Job turn finished (old unfinished, new finished).
  void OnJobUpdate(const std::string& owner_key, const k8s::Object& old_job,
                   const k8s::Object& new_job);

  std::optional<k8s::MonoTime> PendingFinish(const std::string& key) override;
  void JobCreated(const std::string& key, k8s::MonoTime since) override;
  void Dispatched(const std::string& key, k8s::MonoTime since) override;
  void Forget(const std::string& key) override;

 private:
  const k8s::Clock& clock_;
  metrics::HistogramFamily& latency_;
  std::mutex mu_;
  std::map<std::string, k8s::MonoTime> pending_;  // guarded by mu_
};

}  // namespace stepline::controller
