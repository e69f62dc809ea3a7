#include "localagent/agent.h"

#include <thread>

#include "k8sclient/object_fields.h"
#include "localagent/agent_events.h"
#include "localagent/agent_gc.h"
#include "localagent/agent_job_controller.h"
#include "localagent/agent_kubelet.h"
#include "localagent/agent_lease.h"
#include "localagent/agent_log.h"
#include "localagent/agent_log_server.h"
#include "localagent/agent_nodes.h"
#include "localagent/agent_quota.h"
#include "localagent/agent_scheduler.h"
#include "localagent/file_util.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

namespace {

k8s::InformerOptions NodeConfigMapOptions(const std::string& ns) {
  k8s::InformerOptions options;
  options.ns = ns;
  options.field_selector = std::string("metadata.name=") + kAgentConfigMap;
  return options;
}

std::string Describe(const std::vector<NodeSpec>& nodes) {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : "; ") + FormatNodeSpec(n);
  return out;
}

}  // namespace

// Declared in the order they are built; destroyed in reverse.
struct Agent::Parts {
  std::unique_ptr<MemoryCgroupRoot> cgroups;
  std::unique_ptr<ProcessRunner> runner;
  NodeRegistry nodes;
  k8s::Informer pods, jobs, quotas, node_config;
  EventWriter job_events, scheduler_events, kubelet_events;
  ApiEnvSources env_sources;
  QuotaAdmission admission;
  QuotaController quota_controller;
  JobController job_controller;
  Scheduler scheduler;
  std::unique_ptr<Kubelet> kubelet;
  std::unique_ptr<KubeletLogServer> log_server;  // the kubelet's containerLogs endpoint
  GarbageCollector gc;

  Parts(k8s::Client& c, const k8s::Clock& clock, const AgentOptions& o)
      : nodes(o.nodes),
        pods(c, c, k8s::resources::kPods, {}, clock),
        jobs(c, c, k8s::resources::kJobs, {}, clock),
        quotas(c, c, k8s::resources::kResourceQuotas, {}, clock),
        node_config(c, c, k8s::resources::kConfigMaps, NodeConfigMapOptions(o.system_namespace),
                    clock),
        job_events(c, clock, "job-controller"),
        scheduler_events(c, clock, "default-scheduler"),
        kubelet_events(c, clock, "kubelet"),
        env_sources(c),
        admission(pods, quotas, jobs, clock),
        quota_controller(c, quotas, admission, clock),
        job_controller(c, jobs, pods, admission, job_events, clock),
        scheduler(c, pods, nodes, scheduler_events, clock),
        gc(c, pods, jobs, clock) {}
};

Agent::Agent(k8s::Client& client, const k8s::Clock& clock, AgentOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

Agent::~Agent() { Stop(); }

k8s::Status Agent::Start() {
  auto log = AgentLogger("agent");
  if (!MakeDirs(options_.work_dir)) {
    return k8s::Status::InvalidArgument("cannot create work dir " + options_.work_dir);
  }
  lease_ =
      std::make_unique<AgentLease>(client_, clock_, options_.system_namespace, options_.identity);
  if (k8s::Status s = lease_->Acquire(); !s.ok()) return s;
  parts_ = std::make_unique<Parts>(client_, clock_, options_);
  std::string why;
  if (options_.use_memory_cgroup) {
    parts_->cgroups = MemoryCgroupRoot::Create(options_.memory_cgroup_mount, &why);
  }
  if (!parts_->cgroups) {
    log->warn("memory limits are NOT enforced: {}", options_.use_memory_cgroup ? why : "disabled");
  }
  bool mount_ns =
      options_.use_mount_namespace && ProcessRunner::ProbeMountNamespace(options_.work_dir, &why);
  if (!mount_ns) {
    log->warn("no private /dev/termination-log ({}); termination messages come from logs only",
              options_.use_mount_namespace ? why : "disabled");
  }
  parts_->runner = std::make_unique<ProcessRunner>(parts_->cgroups.get(), mount_ns);
  KubeletOptions kubelet_options{options_.work_dir, "127.0.0.1", options_.base_env, mount_ns};
  parts_->kubelet = std::make_unique<Kubelet>(client_, parts_->pods, parts_->nodes, *parts_->runner,
                                              parts_->kubelet_events, parts_->env_sources, clock_,
                                              kubelet_options);
  parts_->log_server = std::make_unique<KubeletLogServer>(parts_->pods, options_.work_dir);
  if (k8s::Status s = parts_->log_server->Start(); !s.ok()) return s;
  Wire();
  for (k8s::Informer* i : {&parts_->pods, &parts_->jobs, &parts_->quotas, &parts_->node_config}) {
    i->Start();
  }
  if (k8s::Status s = WaitForSync(); !s.ok()) return s;
  PublishNodeObjects(client_, clock_, parts_->nodes.Nodes(), parts_->log_server->port());
  parts_->quota_controller.Start();
  parts_->job_controller.Start();
  parts_->scheduler.Start();
  parts_->kubelet->Start();
  parts_->gc.Start();
  log->info("work dir {} (pod logs under {}/logs)", options_.work_dir, options_.work_dir);
  log->info("nodes: {}", Describe(parts_->nodes.Nodes()));
  log->info("kubelet log endpoint 127.0.0.1:{} (published in the Node objects)",
            parts_->log_server->port());
  log->info("memory cgroups: {}; private /dev/termination-log: {}",
            parts_->cgroups ? parts_->cgroups->path() : "off", mount_ns ? "yes" : "no");
  return k8s::Status::Ok();
}

void Agent::Wire() {
  WirePods();
  Parts& p = *parts_;
  auto on_job = [&p](const k8s::ObjectPtr& job) {
    p.job_controller.OnJob(job);
    p.quota_controller.Enqueue(k8s::NamespaceOf(*job));
    p.gc.OnDependent(job);
  };
  p.jobs.AddEventHandlers(
      {on_job, [on_job](const k8s::ObjectPtr&, const k8s::ObjectPtr& job) { on_job(job); },
       [&p](const k8s::ObjectPtr& job) {
         p.job_controller.OnJob(job);
         p.quota_controller.Enqueue(k8s::NamespaceOf(*job));
         p.gc.OnDeleted(job);
       }});
  auto on_quota = [&p](const k8s::ObjectPtr& q) {
    p.quota_controller.Enqueue(k8s::NamespaceOf(*q));
  };
  p.quotas.AddEventHandlers(
      {on_quota, [on_quota](const k8s::ObjectPtr&, const k8s::ObjectPtr& q) { on_quota(q); },
       on_quota});
  WireNodes();
}

void Agent::WirePods() {
  Parts& p = *parts_;
  auto on_pod = [&p](const k8s::ObjectPtr& pod) {
    p.job_controller.OnPod(pod);
    p.scheduler.OnPod(pod);
    p.kubelet->OnPod(pod);
    p.quota_controller.Enqueue(k8s::NamespaceOf(*pod));
    p.gc.OnDependent(pod);
  };
  p.pods.AddEventHandlers({on_pod,
                           [&p, on_pod](const k8s::ObjectPtr& old_pod, const k8s::ObjectPtr& pod) {
                             on_pod(pod);
                             if (IsPodTerminal(*pod) && !IsPodTerminal(*old_pod))
                               p.scheduler.CapacityChanged();
                           },
                           [&p](const k8s::ObjectPtr& pod) {
                             p.job_controller.OnPod(pod);
                             p.kubelet->OnPodDeleted(pod);
                             p.quota_controller.Enqueue(k8s::NamespaceOf(*pod));
                             p.gc.OnDeleted(pod);
                             p.scheduler.CapacityChanged();
                           }});
}

// Nodes listed in the ConfigMap join (or leave) the cluster while it runs.
void Agent::WireNodes() {
  Parts& p = *parts_;
  auto on_nodes = [this, &p](const std::string& text) {
    auto parsed = ParseNodeSpecLines(text);
    if (!parsed.ok()) {
      AgentLogger("agent")->error("node ConfigMap ignored: {}", parsed.status().message());
      return;
    }
    if (p.nodes.SetDynamic(*parsed)) {
      AgentLogger("agent")->info("nodes now: {}", Describe(p.nodes.Nodes()));
      PublishNodeObjects(client_, clock_, p.nodes.Nodes(), p.log_server->port());
      p.scheduler.CapacityChanged();
    }
  };
  auto nodes_of = [](const k8s::ObjectPtr& cm) {
    return StringField(ObjectField(*cm, "data"), kNodesKey);
  };
  p.node_config.AddEventHandlers(
      {[=](const k8s::ObjectPtr& cm) { on_nodes(nodes_of(cm)); },
       [=](const k8s::ObjectPtr&, const k8s::ObjectPtr& cm) { on_nodes(nodes_of(cm)); },
       [=](const k8s::ObjectPtr&) { on_nodes(""); }});
}

k8s::Status Agent::WaitForSync() {
  const auto deadline = clock_.MonotonicNow() + std::chrono::seconds(60);
  while (clock_.MonotonicNow() < deadline) {
    if (parts_->pods.HasSynced() && parts_->jobs.HasSynced() && parts_->quotas.HasSynced() &&
        parts_->node_config.HasSynced()) {
      return k8s::Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return k8s::Status::Unavailable("informers did not sync within 60s (is the server up?)");
}

void Agent::Stop() {
  StopParts();
  if (lease_) lease_->Release();  // last: no second agent starts while containers are killed
}

void Agent::StopParts() {
  if (!parts_) return;
  parts_->gc.Stop();
  parts_->scheduler.Stop();
  parts_->job_controller.Stop();
  parts_->quota_controller.Stop();
  if (parts_->log_server) parts_->log_server->Stop();
  parts_->kubelet->Stop();
  parts_->runner.reset();  // joins the reaper: no exit callback after this
  for (k8s::Informer* i : {&parts_->pods, &parts_->jobs, &parts_->quotas, &parts_->node_config}) {
    i->Stop();
  }
  parts_.reset();
}

}  // namespace stepline::localagent
