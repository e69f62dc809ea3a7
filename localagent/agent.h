// Agent: wires the local cluster together — informers on Pods, Jobs, ResourceQuotas and the
// agent's node ConfigMap, and the parts that act on them: Job controller, scheduler, kubelet,
// quota admission and controller, garbage collector.
//
// Thread-safety: Start and Stop from the owning thread only. The parts document their own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/informer.h"
#include "k8sclient/status.h"
#include "localagent/node_spec.h"

namespace stepline::localagent {

class AgentLease;

struct AgentOptions {
  std::vector<NodeSpec> nodes;
  std::string work_dir;
  std::string system_namespace = "kube-system";  // where the node ConfigMap lives
  std::string memory_cgroup_mount = "/sys/fs/cgroup/memory";
  bool use_memory_cgroup = true;
  bool use_mount_namespace = true;
  std::vector<std::pair<std::string, std::string>> base_env;  // PATH, HOME for containers
  std::string identity;  // this agent in its Lease: "<host>-<pid>"
};

class Agent {
 public:
  // client and clock must outlive the agent.
  Agent(k8s::Client& client, const k8s::Clock& clock, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Probes what the machine allows (and says what it cannot do), starts the informers, waits
  // for their first lists, then starts every part.
  k8s::Status Start();
  // Stops the parts, kills the containers still running, stops the informers.
  void Stop();

 private:
  struct Parts;
  void StopParts();
  void Wire();
  void WirePods();
  void WireNodes();
  k8s::Status WaitForSync();

  k8s::Client& client_;
  const k8s::Clock& clock_;
  const AgentOptions options_;
  std::unique_ptr<AgentLease> lease_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace stepline::localagent
