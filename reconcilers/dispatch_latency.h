// DispatchLatency: the execution reconciler's dispatch latency, from the moment the Job watch
// saw a Job of an execution turn finished (its outcome decided, k8sclient/job_state.h) to the
// return of each Job create of that execution that followed it. Each execution holds at most
// one pending finish, the newest (a dependent cannot start before its last dependency finished);
// the reconcile that creates Jobs answers it (see dispatch_observer.h). A finish that leads to no
// create (the last step, a fan-out child whose siblings still run) stays pending until one
// follows. Each measured latency goes to the sink (the binary's
// stepline_dispatch_latency_seconds histogram), and the controller's own part of it, from the
// same finish to the moment each create request is handed to the client, to the controller_part
// sink (stepline_dispatch_controller_seconds): the dispatch without the server's answer.
//
// Thread-safety: all methods from any thread; pending_ is GUARDED_BY mu_.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "k8sclient/thread_annotations.h"
#include "reconcilers/dispatch_observer.h"

namespace stepline::reconcilers {

class DispatchLatency final : public DispatchObserver {
 public:
  // Called with each latency, in seconds, from the thread that reported the create.
  using Sink = std::function<void(double seconds)>;

  // clock must outlive this. Either sink may be null.
  DispatchLatency(const k8s::Clock& clock, Sink sink, Sink controller_part = nullptr)
      : clock_(clock), sink_(std::move(sink)), controller_part_(std::move(controller_part)) {}

  // From the Job watch (watches.h): records "now" for the owner when the update shows the Job
  // turn finished (old undecided, new decided).
  void OnJobUpdate(const std::string& owner_key, const k8s::Object& old_job,
                   const k8s::Object& new_job) EXCLUDES(mu_);

  std::optional<k8s::MonoTime> PendingFinish(const std::string& key) override EXCLUDES(mu_);
  void JobRequestSending(const std::string& key, k8s::MonoTime since) override;
  void JobCreated(const std::string& key, k8s::MonoTime since) override;
  void Dispatched(const std::string& key, k8s::MonoTime since) override EXCLUDES(mu_);
  void Forget(const std::string& key) override EXCLUDES(mu_);

 private:
  const k8s::Clock& clock_;
  const Sink sink_;
  const Sink controller_part_;
  k8s::Mutex mu_;
  std::map<std::string, k8s::MonoTime> pending_ GUARDED_BY(mu_);
};

}  // namespace stepline::reconcilers
