// Kubelet: runs the pods bound to the simulated nodes as local processes (ProcessRunner) and
// reports their status as the kubelet does (pod_status.h).
//   - init containers run one after the other before the regular containers; native sidecars
//     (restartPolicy Always) start in order and keep running beside them; once the regular
//     containers have ended (or an init container failed) the sidecars get SIGTERM one at a time
//     in reverse order, and SIGKILL when the pod's grace period is over;
//   - volumes (emptyDir, secret, configMap, hostPath; pod_volumes.h) are set up under the pod's
//     directory and bound at each volumeMount in the container's private mount namespace;
//   - containers start with their env (configMapKeyRef/secretKeyRef read from the API server),
//     command and args, workingDir or the pod's scratch directory, a memory cgroup with the
//     memory limit, and a private /dev/termination-log; images are recorded, never pulled;
//   - a pod being deleted, or past spec.activeDeadlineSeconds, gets SIGTERM, then SIGKILL after
//     its grace period, and ends in a terminal phase while its finalizers keep it visible;
//   - a pod that vanishes from the API has its processes stopped the same way;
//   - logs stay in <work-dir>/logs/<ns>_<pod>_<uid>/<container>/0.log.
//
// Thread-safety: handlers may be called from any thread; Sync runs on the loop's workers (never
// two for one pod); process exits arrive on the runner's thread. workers_ (and the PodWorkers
// in it, handed to the helpers by reference) and pending_events_ are GUARDED_BY mu_.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/agent_events.h"
#include "localagent/agent_loop.h"
#include "localagent/agent_nodes.h"
#include "localagent/container_env.h"
#include "localagent/pod_status.h"
#include "localagent/pod_volumes.h"
#include "localagent/process_runner.h"

namespace stepline::localagent {

struct KubeletOptions {
  std::string work_dir;  // pods/, logs/, sandbox/ live under it
  std::string host_ip = "127.0.0.1";
  std::vector<std::pair<std::string, std::string>> base_env;  // PATH, HOME for every container
  bool termination_log_mounted = true;  // false: no private /dev (messages from logs only)
};

class Kubelet {
 public:
  // Everything passed by reference must outlive the kubelet.
  Kubelet(k8s::Client& client, const k8s::CacheReader& pods, const NodeRegistry& nodes,
          ProcessRunner& runner, EventWriter& events, const EnvSources& env_sources,
          const k8s::Clock& clock, KubeletOptions options);
  void Start() { loop_.Start(2); }
  // Stops the loop, then kills every container still running.
  void Stop() EXCLUDES(mu_);

  void OnPod(const k8s::ObjectPtr& pod);
  void OnPodDeleted(const k8s::ObjectPtr& pod);

 private:
  struct Container {
    ContainerRun run;
    pid_t pid = 0;
    std::string log_path;
    std::string termination_file;
    std::string termination_policy;
    bool init = false;       // from spec.initContainers
    bool sidecar = false;    // an init container with restartPolicy Always
    bool term_sent = false;  // SIGTERM sent
  };
  struct PodWorker {
    std::string uid, ns, name, node;
    std::vector<Container> containers;
    int64_t grace_seconds = 30;  // spec.terminationGracePeriodSeconds
    bool terminating = false;
    bool deadline_exceeded = false;
    k8s::MonoTime kill_at{};
    bool killed = false;
    std::optional<PodVolumes> volumes;  // set up on the first container start
  };

  SyncOutcome Sync(const std::string& key);
  SyncOutcome SyncKey(const std::string& key) EXCLUDES(mu_);
  void FlushEvents() EXCLUDES(mu_);
  SyncOutcome StopOrphan(const std::string& key) REQUIRES(mu_);
  SyncOutcome SyncPod(const k8s::Object& pod) EXCLUDES(mu_);
  PodWorker& WorkerFor(const k8s::Object& pod) REQUIRES(mu_);
  std::chrono::milliseconds StartContainers(const k8s::Object& pod, PodWorker& w) REQUIRES(mu_);
  std::chrono::milliseconds StartInitContainers(const k8s::Object& pod, PodWorker& w, bool* done)
      REQUIRES(mu_);
  Container* StartIfWaiting(const k8s::Object& pod, const k8s::Object& spec, PodWorker& w)
      REQUIRES(mu_);
  k8s::Result<std::vector<BindMount>> MountsFor(const k8s::Object& pod, const k8s::Object& spec,
                                                PodWorker& w) REQUIRES(mu_);
  void StartContainer(const k8s::Object& pod, const k8s::Object& spec, PodWorker& w, Container& c)
      REQUIRES(mu_);
  std::chrono::milliseconds Terminate(PodWorker& w, int64_t grace_seconds) REQUIRES(mu_);
  void SignalNext(PodWorker& w, int sig) REQUIRES(mu_);
  void SignalContainer(PodWorker& w, Container& c, int sig) REQUIRES(mu_);
  bool RegularContainersEnded(const k8s::Object& pod, const PodWorker& w) const REQUIRES(mu_);
  void OnExit(const std::string& key, const std::string& container, const ProcessExit& exit)
      EXCLUDES(mu_);
  bool AnyRunning(const PodWorker& w) const REQUIRES(mu_);
  k8s::Status WriteStatus(const k8s::Object& pod, const std::vector<ContainerRun>& runs,
                          bool deadline_exceeded);
  void Cleanup(const PodWorker& w) REQUIRES(mu_);
  std::string PodDir(const std::string& uid) const;

  k8s::Client& client_;
  const k8s::CacheReader& pods_;
  const NodeRegistry& nodes_;
  ProcessRunner& runner_;
  EventWriter& events_;
  const EnvSources& env_sources_;
  const k8s::Clock& clock_;
  const KubeletOptions options_;
  k8s::Mutex mu_;
  std::map<std::string, PodWorker> workers_ GUARDED_BY(mu_);  // by "namespace/name"
  struct PendingEvent {
    k8s::Object regarding;
    std::string reason, message, host;
  };
  // Written with mu_ held, emitted after it is released (FlushEvents).
  std::vector<PendingEvent> pending_events_ GUARDED_BY(mu_);
  SyncLoop loop_;
};

// ConfigMap and Secret data read live from the API server (thread-safe: the client is).
class ApiEnvSources : public EnvSources {
 public:
  explicit ApiEnvSources(k8s::Client& client) : client_(client) {}
  std::optional<std::map<std::string, std::string>> ConfigMapData(
      const std::string& ns, const std::string& name) const override;
  std::optional<std::map<std::string, std::string>> SecretData(
      const std::string& ns, const std::string& name) const override;

 private:
  k8s::Client& client_;
};

}  // namespace stepline::localagent
