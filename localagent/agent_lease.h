// AgentLease: at most one agent per API server. Two agents would both create pods for the
// same Jobs and run them twice, so the agent holds the Lease <namespace>/stepline-local-agent:
// it refuses to start while another holder renews it, renews it every 5 seconds while it runs,
// and releases it when it stops.
//
// Thread-safety: Acquire and Release from the owning thread; the renewer thread only touches
// the Lease through the (thread-safe) client. stop_ is GUARDED_BY mu_.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::localagent {

class AgentLease {
 public:
  AgentLease(k8s::Client& client, const k8s::Clock& clock, std::string ns, std::string identity);
  ~AgentLease();
  // Takes the Lease (creating it) unless another agent renewed it within its duration; then
  // renews it in the background. A server without Leases is allowed (OK, with no guard).
  k8s::Status Acquire();
  void Release() EXCLUDES(mu_);

 private:
  k8s::Status TryTake(bool first);
  void RenewLoop() EXCLUDES(mu_);
  // Waits up to `period` for Release; true when it was asked for.
  bool StopWithin(std::chrono::steady_clock::duration period) EXCLUDES(mu_);

  k8s::Client& client_;
  const k8s::Clock& clock_;
  const std::string ns_;
  const std::string identity_;
  k8s::Mutex mu_;
  k8s::CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool held_ = false;  // owning thread only
  std::thread renewer_;
};

}  // namespace stepline::localagent
