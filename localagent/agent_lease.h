// AgentLease: at most one agent per API server. Two agents would both create pods for the
// same Jobs and run them twice, so the agent holds the Lease <namespace>/stepline-local-agent:
// it refuses to start while another holder renews it, renews it every 5 seconds while it runs,
// and releases it when it stops.
//
// Thread-safety: Acquire and Release from the owning thread; the renewer thread only touches
// the Lease through the (thread-safe) client. stop_/cv_ are guarded by mu_.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"

namespace stepline::localagent {

class AgentLease {
 public:
  AgentLease(k8s::Client& client, const k8s::Clock& clock, std::string ns, std::string identity);
  ~AgentLease();
  // Takes the Lease (creating it) unless another agent renewed it within its duration; then
  // renews it in the background. A server without Leases is allowed (OK, with no guard).
  k8s::Status Acquire();
  void Release();

 private:
  k8s::Status TryTake(bool first);
  void RenewLoop();

  k8s::Client& client_;
  const k8s::Clock& clock_;
  const std::string ns_;
  const std::string identity_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  bool held_ = false;  // owning thread only
  std::thread renewer_;
};

}  // namespace stepline::localagent
