// stepline-local-agent: the parts of a Kubernetes cluster that act on Jobs, for one machine
// (Job controller, scheduler, kubelet, ResourceQuota admission, garbage collector), against any
// API server. main only parses flags and wires; see agent.h.
//
//   stepline-local-agent [--kubeconfig K] [--node name=n1,cpu=4,memory=8Gi ...]
//                        [--work-dir D] [--log-level info] [--system-namespace kube-system]
//   stepline-local-agent --evict NS/POD        [--kubeconfig K]   (one-shot)
//   stepline-local-agent --add-node SPEC       [--kubeconfig K]   (one-shot)
//   stepline-local-agent --remove-node NAME    [--kubeconfig K]   (one-shot)
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "k8sclient/api_client.h"
#include "k8sclient/config.h"
#include "localagent/agent.h"
#include "localagent/agent_log.h"
#include "localagent/agent_nodes.h"
#include "localagent/agent_pods.h"

namespace {

namespace k8s = stepline::k8s;
namespace localagent = stepline::localagent;

constexpr const char* kUsage = R"(usage: stepline-local-agent [flags]
  --kubeconfig PATH         the API server (default: $KUBECONFIG, then ~/.kube/config)
  --node SPEC               a node: name=n1,cpu=4,memory=8Gi[,nvidia.com/gpu=1][,pods=110];
                            repeatable (default: one node "local" sized like this machine)
  --work-dir DIR            pod scratch dirs and logs (default: $STEPLINE_TESTENV_DIR/agent,
                            else /tmp/stepline-local-agent)
  --log-level LEVEL         trace, debug, info, warn, error (default: info)
  --system-namespace NS     where the node ConfigMap stepline-local-agent lives (kube-system)
  --no-memory-cgroup        do not enforce memory limits
  --no-mount-namespace      no private /dev/termination-log (messages from logs only) and no
                            volumes (pods with volume mounts fail to start)
  --path-prepend DIR        put DIR first on the PATH containers run with (images are not
                            pulled: e.g. the build's bin/, where stepline-artifacts is)
one-shot commands (they talk to the API server and exit):
  --evict NS/POD            evict a pod as a node drain does (DisruptionTarget, then delete)
  --add-node SPEC           add (or replace) a node in the node ConfigMap; the agent picks it up
  --remove-node NAME        remove a node added with --add-node
)";

struct Flags {
  std::string kubeconfig;
  std::vector<std::string> nodes;
  std::string work_dir;
  std::string log_level = "info";
  std::string system_namespace = "kube-system";
  bool memory_cgroup = true;
  bool mount_namespace = true;
  std::string evict, add_node, remove_node;
  std::string path_prepend;
};

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string node;
    bool ok = true;
    if (arg == "--kubeconfig")
      ok = value(&f.kubeconfig);
    else if (arg == "--node")
      ok = value(&node), f.nodes.push_back(node);
    else if (arg == "--work-dir")
      ok = value(&f.work_dir);
    else if (arg == "--log-level")
      ok = value(&f.log_level);
    else if (arg == "--system-namespace")
      ok = value(&f.system_namespace);
    else if (arg == "--path-prepend")
      ok = value(&f.path_prepend);
    else if (arg == "--evict")
      ok = value(&f.evict);
    else if (arg == "--add-node")
      ok = value(&f.add_node);
    else if (arg == "--remove-node")
      ok = value(&f.remove_node);
    else if (arg == "--no-memory-cgroup")
      f.memory_cgroup = false;
    else if (arg == "--no-mount-namespace")
      f.mount_namespace = false;
    else
      ok = false;
    if (!ok) {
      std::cerr << (arg == "--help" || arg == "-h" ? "" : "bad argument: " + arg + "\n") << kUsage;
      return std::nullopt;
    }
  }
  return f;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

int Evict(k8s::Client& client, const k8s::Clock& clock, const std::string& target) {
  const size_t slash = target.find('/');
  const std::string ns = slash == std::string::npos ? "default" : target.substr(0, slash);
  const std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
  k8s::Status s = localagent::SetPodCondition(
      client, ns, name,
      {"DisruptionTarget", "True", "EvictionByEvictionAPI", "Eviction API: evicting"}, clock.Now());
  if (s.ok()) s = client.Delete(k8s::resources::kPods, ns, name);
  if (!s.ok()) {
    std::cerr << "error when evicting pod \"" << name << "\": " << s.ToString() << "\n";
    return 1;
  }
  std::cout << "pod/" << name << " evicted\n";
  return 0;
}

int OneShot(const Flags& f, k8s::Client& client, const k8s::Clock& clock) {
  if (!f.evict.empty()) return Evict(client, clock, f.evict);
  k8s::Status s;
  if (!f.add_node.empty()) {
    auto node = localagent::ParseNodeSpec(f.add_node);
    if (!node.ok()) {
      std::cerr << node.status().message() << "\n";
      return 2;
    }
    s = localagent::AddNodeToConfigMap(client, f.system_namespace, *node);
  } else {
    s = localagent::RemoveNodeFromConfigMap(client, f.system_namespace, f.remove_node);
  }
  if (!s.ok()) std::cerr << s.ToString() << "\n";
  return s.ok() ? 0 : 1;
}

std::optional<localagent::AgentOptions> AgentOptionsFrom(const Flags& f) {
  localagent::AgentOptions o;
  for (const auto& spec : f.nodes) {
    auto node = localagent::ParseNodeSpec(spec);
    if (!node.ok()) {
      std::cerr << node.status().message() << "\n";
      return std::nullopt;
    }
    o.nodes.push_back(*node);
  }
  if (o.nodes.empty()) o.nodes.push_back(localagent::LocalMachineNode("local"));
  const std::string testenv = EnvOr("STEPLINE_TESTENV_DIR", "");
  o.work_dir = !f.work_dir.empty() ? f.work_dir
               : !testenv.empty()  ? testenv + "/agent"
                                   : EnvOr("TMPDIR", "/tmp") + "/stepline-local-agent";
  o.system_namespace = f.system_namespace;
  o.use_memory_cgroup = f.memory_cgroup;
  o.use_mount_namespace = f.mount_namespace;
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  o.identity = std::string(host) + "-" + std::to_string(::getpid());
  const std::string path = EnvOr("PATH", "/usr/local/bin:/usr/bin:/bin");
  o.base_env = {{"PATH", f.path_prepend.empty() ? path : f.path_prepend + ":" + path},
                {"HOME", EnvOr("HOME", "/root")}};
  return o;
}

int RunAgent(const Flags& f, k8s::Client& client, const k8s::Clock& clock) {
  auto options = AgentOptionsFrom(f);
  if (!options) return 2;
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before any thread starts
  localagent::Agent agent(client, clock, *options);
  if (k8s::Status s = agent.Start(); !s.ok()) {
    localagent::AgentLogger("agent")->error("agent failed to start: {}", s.ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  localagent::AgentLogger("agent")->info(
      "signal {} received; stopping (running containers are killed)", sig);
  agent.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv);
  if (!flags) return 2;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_level(spdlog::level::from_str(flags->log_level));
  spdlog::default_logger()->set_level(spdlog::level::from_str(flags->log_level));
  auto config = k8s::LoadDefault(flags->kubeconfig);
  if (!config.ok()) {
    std::cerr << "kubeconfig: " << config.status().ToString() << "\n";
    return 1;
  }
  config->user_agent = "stepline-local-agent/0.1.0";
  config->qps = 200;
  config->burst = 400;
  k8s::RealClock clock;
  auto client = k8s::ApiServerClient::New(*config, clock);
  const bool one_shot =
      !flags->evict.empty() || !flags->add_node.empty() || !flags->remove_node.empty();
  return one_shot ? OneShot(*flags, *client, clock) : RunAgent(*flags, *client, clock);
}
