#include "cmd/stepline-controller/app.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <optional>
#include <random>

#include "cmd/stepline-controller/register.h"
#include "controller/api_metrics.h"
#include "controller/event_recorder.h"
#include "controller/http_server.h"
#include "controller/k8s_informers.h"
#include "controller/leader_election.h"
#include "controller/log.h"
#include "controller/manager.h"
#include "k8sclient/api_client.h"
#include "k8sclient/config.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::controller {

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = NamedLogger("controller");
  return logger;
}

// Turns SIGTERM/SIGINT into a stop request on a thread of its own; a second signal exits at
// once. Construct before any other thread so that the signals stay blocked everywhere else.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_stop) : on_stop_(std::move(on_stop)) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] { Watch(); });
  }
  ~SignalWatcher() {
    done_ = true;
    thread_.join();
  }

 private:
  void Watch() {
    int received = 0;
    while (!done_.load()) {
      timespec timeout{0, 200'000'000};
      const int sig = sigtimedwait(&set_, nullptr, &timeout);
      if (sig <= 0) continue;
      if (++received > 1) _exit(1);
      Log()->info("signal received, stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      on_stop_();
    }
  }

  const std::function<void()> on_stop_;
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::string ReplicaIdentity() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "_%08x", rd());
  return std::string(host) + suffix;
}

// The controller's own namespace: its Lease and its instance-types ConfigMap live there.
std::string LeaseNamespace(const ControllerFlags& flags, const k8s::RestConfig& config) {
  if (!flags.leader_elect_namespace.empty()) return flags.leader_elect_namespace;
  if (!flags.ns.empty()) return flags.ns;
  if (!config.default_namespace.empty()) return config.default_namespace;
  return "default";
}

LeaderElectionConfig ElectionConfig(const ControllerFlags& flags, std::string identity) {
  return {std::move(identity), flags.lease_duration, flags.renew_deadline, flags.retry_period};
}

// The HTTP endpoints; both on one server when the addresses are the same.
std::vector<std::unique_ptr<HttpServer>> ServeEndpoints(const ControllerFlags& flags,
                                                        const Manager& manager,
                                                        const metrics::Registry& registry) {
  std::vector<std::unique_ptr<HttpServer>> servers;
  auto server_for = [&](const std::string& address) -> HttpServer* {
    if (address == "0") return nullptr;
    if (address == flags.metrics_bind_address && !servers.empty()) return servers.front().get();
    servers.push_back(std::make_unique<HttpServer>(address));
    return servers.back().get();
  };
  if (HttpServer* s = server_for(flags.metrics_bind_address)) {
    s->Handle("/metrics", [&registry] {
      return HttpResponse{200, metrics::kContentType, registry.Render()};
    });
  }
  if (HttpServer* s = server_for(flags.health_probe_bind_address)) {
    s->Handle("/healthz", [] { return HttpResponse{200, "text/plain", "ok\n"}; });
    s->Handle("/readyz", [&manager] {
      if (manager.CachesSynced()) return HttpResponse{200, "text/plain", "ok\n"};
      return HttpResponse{503, "text/plain", "caches not synced\n"};
    });
  }
  return servers;
}

int ExitCode(Manager::RunResult result) {
  switch (result) {
    case Manager::RunResult::kStopped:
      return 0;
    case Manager::RunResult::kLeadershipLost:
      return 1;
    case Manager::RunResult::kCacheSyncFailed:
      return 1;
  }
  return 1;
}

k8s::Status ValidateFlagsImpl(const ControllerFlags& flags) {
  if (flags.leader_elect) {
    k8s::Status s = ValidateLeaderElectionConfig(ElectionConfig(flags, "validating"));
    if (!s.ok()) return s;
    if (flags.leader_elect_id.empty()) {
      return k8s::Status::InvalidArgument("--leader-elect-id must not be empty");
    }
  }
  for (const auto* address : {&flags.metrics_bind_address, &flags.health_probe_bind_address}) {
    std::string host;
    int port = 0;
    if (*address != "0" && !ParseBindAddress(*address, &host, &port)) {
      return k8s::Status::InvalidArgument("invalid bind address \"" + *address + "\"");
    }
  }
  return k8s::Status::Ok();
}

}  // namespace

k8s::Status ValidateFlags(const ControllerFlags& flags) { return ValidateFlagsImpl(flags); }

namespace {

// The process's objects, declared in the order they are built (destroyed in reverse).
class ControllerProcess {
 public:
  explicit ControllerProcess(const ControllerFlags& flags) : flags_(flags) {}

  k8s::Status Connect() {
    NamedLogger("k8sclient");  // the client library logs through the process's format
    auto config = k8s::LoadDefault(flags_.kubeconfig);
    if (!config.ok()) return config.status();
    config_ = std::move(*config);
    config_.qps = flags_.qps;
    config_.burst = flags_.burst;
    k8s::ApiClientOptions options;
    options.metrics = &request_metrics_;
    client_ = k8s::ApiServerClient::New(config_, clock_, options);
    return k8s::Status::Ok();
  }

  k8s::Status Wire() {
    informers_.emplace(*client_, clock_);
    manager_.emplace(*informers_, clock_, registry_, ManagerOptions{.ns = flags_.ns});
    recorder_.emplace(*client_, clock_, registry_, EventRecorderOptions{.instance = identity_});
    reconcilers_ = RegisterReconcilers(
        *manager_,
        {*client_, *recorder_, clock_, registry_, LeaseNamespace(flags_, config_), flags_.workers,
         std::chrono::duration_cast<std::chrono::seconds>(flags_.scheduling_timeout),
         flags_.transient_status_delay, flags_.routine_step_events,
         reconcilers::PodPolicy{reconcilers::SplitList(flags_.allowed_service_accounts),
                                reconcilers::SplitList(flags_.allowed_toleration_keys)},
         reconcilers::ArtifactStagingOptions{
             flags_.artifacts_image,
             std::chrono::duration_cast<std::chrono::seconds>(flags_.artifact_upload_grace)
                 .count()}});
    if (flags_.leader_elect) {
      lease_.emplace(*client_, LeaseNamespace(flags_, config_), flags_.leader_elect_id);
      elector_.emplace(*lease_, clock_, ElectionConfig(flags_, identity_));
    }
    servers_ = ServeEndpoints(flags_, *manager_, registry_);
    for (auto& server : servers_) {
      if (k8s::Status s = server->Start(); !s.ok()) return s;
    }
    return k8s::Status::Ok();
  }

  Manager::RunResult Run(const std::atomic<bool>& stop) {
    Log()->info("starting server={} namespace={} leader_elect={} identity={}", config_.server,
                flags_.ns.empty() ? "<all>" : flags_.ns, flags_.leader_elect, identity_);
    recorder_->Start();
    return manager_->Run(stop, elector_ ? &*elector_ : nullptr);
  }

  void RequestStop() {
    if (manager_) manager_->RequestStop();
  }

  void Shutdown(bool graceful) {
    if (recorder_) recorder_->Stop(std::chrono::milliseconds(graceful ? 3000 : 0));
    for (auto& server : servers_) server->Stop();
  }

 private:
  const ControllerFlags& flags_;
  const std::string identity_ = ReplicaIdentity();
  k8s::RealClock clock_;
  metrics::Registry registry_;
  RegistryRequestMetrics request_metrics_{registry_};
  k8s::RestConfig config_;
  std::unique_ptr<k8s::ApiServerClient> client_;
  std::optional<K8sInformerFactory> informers_;
  std::optional<Manager> manager_;
  std::optional<ApiEventRecorder> recorder_;
  Reconcilers reconcilers_;
  std::optional<ApiLeaseLock> lease_;
  std::optional<LeaderElector> elector_;
  std::vector<std::unique_ptr<HttpServer>> servers_;
};

// The process a signal asks to stop, while there is one: set and cleared by the main thread,
// used by the signal watcher's thread.
class StopTarget {
 public:
  void Set(ControllerProcess* process) EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    process_ = process;
  }
  void RequestStop() EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    if (process_) process_->RequestStop();
  }

 private:
  k8s::Mutex mu_;
  ControllerProcess* process_ GUARDED_BY(mu_) = nullptr;
};

}  // namespace

int RunController(const ControllerFlags& flags) {
  std::atomic<bool> stop{false};
  StopTarget target;
  SignalWatcher signals([&] {
    stop = true;
    target.RequestStop();
  });
  ControllerProcess p(flags);
  k8s::Status s = p.Connect();
  if (s.ok()) s = p.Wire();
  if (!s.ok()) {
    Log()->error("starting failed err={}", s.ToString());
    return 1;
  }
  target.Set(&p);
  const Manager::RunResult result = p.Run(stop);
  target.Set(nullptr);
  if (result == Manager::RunResult::kLeadershipLost) {
    // As client-go's OnStoppedLeading: exit at once; a renewal or reconcile still stuck in a
    // request must not delay it, and another replica owns the work now.
    Log()->error("leadership lost, exiting");
    spdlog::shutdown();
    std::_Exit(1);
  }
  const bool graceful = result == Manager::RunResult::kStopped;
  p.Shutdown(graceful);
  Log()->info("stopped result={}", graceful ? "graceful" : "failure");
  return ExitCode(result);
}

}  // namespace stepline::controller
