// The kubelet's container starts (see agent_kubelet.h), and the API-backed EnvSources.
#include <filesystem>

#include "k8sclient/base64.h"
#include "k8sclient/object_fields.h"
#include "localagent/agent_kubelet.h"
#include "localagent/agent_log.h"
#include "localagent/file_util.h"
#include "localagent/resources.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

using k8s::DecodeBase64;
using std::chrono::milliseconds;
using State = ContainerRun::State;

constexpr const char* kName = "kubelet";
constexpr auto kConfigErrorRetry = std::chrono::seconds(10);

int64_t MemoryLimitBytes(const k8s::Object& container) {
  auto limits = ParseResourceList(ObjectField(ObjectField(container, "resources"), "limits"));
  if (!limits.ok()) return 0;
  auto it = limits->find("memory");
  return it == limits->end() ? 0 : it->second.Value();
}

std::string DefaultIfEmpty(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

void FailToStart(ContainerRun& run, const std::string& message, k8s::WallTime now) {
  run.state = State::kTerminated;
  run.exit_code = 128;
  run.reason = "StartError";
  run.message = message;
  run.started_at = run.finished_at = now;
}

}  // namespace

// Starts the container of spec if it has not run yet. Returns it (null if unknown); it is
// still waiting after a configuration or volume error, tried again later.
Kubelet::Container* Kubelet::StartIfWaiting(const k8s::Object& pod, const k8s::Object& spec,
                                            PodWorker& w) {
  for (auto& c : w.containers) {
    if (c.run.name != StringField(spec, "name")) continue;
    if (c.run.state == State::kWaiting) StartContainer(pod, spec, w, c);
    return &c;
  }
  return nullptr;
}

// Init containers in order: each regular one must end with 0 before the next starts; a sidecar
// only has to have started. *done once all are; the regular containers may then start.
milliseconds Kubelet::StartInitContainers(const k8s::Object& pod, PodWorker& w, bool* done) {
  *done = false;
  for (const auto& spec : ArrayField(ObjectField(pod, "spec"), "initContainers")) {
    const Container* c = StartIfWaiting(pod, spec, w);
    if (c == nullptr) continue;
    if (c->run.state == State::kWaiting) {
      return std::chrono::duration_cast<milliseconds>(kConfigErrorRetry);
    }
    const bool started_sidecar = c->sidecar && c->run.reason != "StartError";
    if (!started_sidecar && (c->run.state == State::kRunning || c->run.exit_code != 0)) {
      return milliseconds(-1);  // running (its exit syncs the pod again) or failed
    }
  }
  *done = true;
  return milliseconds(-1);
}

milliseconds Kubelet::StartContainers(const k8s::Object& pod, PodWorker& w) {
  bool initialized = false;
  milliseconds requeue = StartInitContainers(pod, w, &initialized);
  if (!initialized) return requeue;
  for (const auto& spec : ArrayField(ObjectField(pod, "spec"), "containers")) {
    const Container* c = StartIfWaiting(pod, spec, w);
    if (c != nullptr && c->run.state == State::kWaiting) {
      requeue = std::chrono::duration_cast<milliseconds>(kConfigErrorRetry);
    }
  }
  return requeue;
}

k8s::Result<std::vector<BindMount>> Kubelet::MountsFor(const k8s::Object& pod,
                                                       const k8s::Object& spec, PodWorker& w) {
  if (!w.volumes) {
    auto volumes = PreparePodVolumes(pod, PodDir(w.uid) + "/volumes", env_sources_);
    if (!volumes.ok()) return volumes.status();
    w.volumes = *volumes;
  }
  return ContainerMounts(spec, *w.volumes);
}

void Kubelet::StartContainer(const k8s::Object& pod, const k8s::Object& spec, PodWorker& w,
                             Container& c) {
  auto log = AgentLogger(kName);
  const std::string name = c.run.name;
  const std::string dir = PodDir(w.uid) + "/containers/" + name;
  c.termination_file = dir + "/termination-log";
  c.log_path =
      options_.work_dir + "/logs/" + w.ns + "_" + w.name + "_" + w.uid + "/" + name + "/0.log";
  MakeDirs(dir);
  MakeDirs(c.log_path.substr(0, c.log_path.rfind('/')));
  WriteWholeFile(c.termination_file, "");
  auto base = options_.base_env;
  base.emplace_back("HOSTNAME", w.name);
  auto launch = BuildContainerLaunch(pod, spec, base, env_sources_);
  if (!launch.ok()) {
    c.run.waiting_reason = "CreateContainerConfigError";
    c.run.waiting_message = launch.status().message();
    events_.Emit(pod, true, "Failed", "Error: " + launch.status().message(), w.node);
    return;
  }
  auto mounts = MountsFor(pod, spec, w);
  if (!mounts.ok() && mounts.status().code() == k8s::StatusCode::kUnavailable) {
    c.run.waiting_reason = "ContainerCreating";  // as the kubelet: wait for the Secret/ConfigMap
    c.run.waiting_message = mounts.status().message();
    events_.Emit(pod, true, "FailedMount", mounts.status().message(), w.node);
    return;
  }
  if (!mounts.ok()) {
    FailToStart(c.run, mounts.status().message(), clock_.Now());
    events_.Emit(pod, true, "Failed", "Error: " + c.run.message, w.node);
    return;
  }
  if (launch->argv.empty()) {
    FailToStart(c.run,
                "no command specified: the local agent runs command and args, "
                "it does not read images",
                clock_.Now());
    events_.Emit(pod, true, "Failed", "Error: " + c.run.message, w.node);
    return;
  }
  ProcessSpec ps;
  ps.argv = launch->argv;
  ps.env = launch->env;
  ps.working_dir = DefaultIfEmpty(StringField(spec, "workingDir"), PodDir(w.uid));
  MakeDirs(ps.working_dir);
  ps.log_path = c.log_path;
  if (options_.termination_log_mounted) {
    ps.termination_message_host_file = c.termination_file;
    ps.termination_message_path =
        DefaultIfEmpty(StringField(spec, "terminationMessagePath"), "/dev/termination-log");
  }
  ps.mounts = *mounts;
  ps.sandbox_dir = options_.work_dir + "/sandbox/" + w.uid + "-" + name;
  ps.memory_limit_bytes = MemoryLimitBytes(spec);
  ps.name = w.uid + "-" + name;
  const std::string key = w.ns + "/" + w.name;
  events_.Emit(pod, false, "Created", "Created container " + name, w.node);
  auto pid =
      runner_.Start(ps, [this, key, name](const ProcessExit& exit) { OnExit(key, name, exit); });
  if (!pid.ok()) {
    FailToStart(c.run, "failed to start container \"" + name + "\": " + pid.status().message(),
                clock_.Now());
    events_.Emit(pod, true, "Failed", "Error: " + c.run.message, w.node);
    log->info("start failed pod={} container={} error={}", key, name, pid.status().message());
    return;
  }
  c.pid = *pid;
  c.run.state = State::kRunning;
  c.run.started_at = clock_.Now();
  c.run.container_id = "local://" + w.uid + "-" + name;
  events_.Emit(pod, false, "Started", "Started container " + name, w.node);
  log->info("started pod={} container={} node={} pid={} memoryLimit={} log={}", key, name, w.node,
            *pid, ps.memory_limit_bytes, c.log_path);
}

std::optional<std::map<std::string, std::string>> ApiEnvSources::ConfigMapData(
    const std::string& ns, const std::string& name) const {
  auto cm = client_.Get(k8s::resources::kConfigMaps, ns, name);
  if (!cm.ok()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : ObjectField(*cm, "data").items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  for (const auto& [k, v] : ObjectField(*cm, "binaryData").items()) {
    if (auto decoded = v.is_string() ? DecodeBase64(v.get<std::string>()) : std::nullopt) {
      out[k] = *decoded;
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> ApiEnvSources::SecretData(
    const std::string& ns, const std::string& name) const {
  auto secret = client_.Get(k8s::resources::kSecrets, ns, name);
  if (!secret.ok()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : ObjectField(*secret, "data").items()) {
    if (auto decoded = v.is_string() ? DecodeBase64(v.get<std::string>()) : std::nullopt) {
      out[k] = *decoded;
    }
  }
  // The test server stores stringData as it is (a real one merges it into data).
  for (const auto& [k, v] : ObjectField(*secret, "stringData").items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace stepline::localagent
