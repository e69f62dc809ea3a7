#include "localagent/agent_scheduler.h"

#include "controller/rate_limiter.h"
#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"
#include "localagent/agent_pods.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr const char* kName = "default-scheduler";
constexpr auto kRetryUnschedulable = std::chrono::seconds(30);

bool WantsScheduling(const k8s::Object& pod) {
  const auto& spec = ObjectField(pod, "spec");
  const std::string scheduler = StringField(spec, "schedulerName");
  return StringField(spec, "nodeName").empty() && !IsPodTerminal(pod) &&
         !k8s::IsBeingDeleted(pod) && (scheduler.empty() || scheduler == kName);
}

std::map<std::string, std::string> NodeSelectorOf(const k8s::Object& pod) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : ObjectField(ObjectField(pod, "spec"), "nodeSelector").items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

Scheduler::Scheduler(k8s::Client& client, const k8s::CacheReader& pods, const NodeRegistry& nodes,
                     EventWriter& events, const k8s::Clock& clock)
    : client_(client),
      pods_(pods),
      nodes_(nodes),
      events_(events),
      clock_(clock),
      // A failed bind is tried again after 1 s doubling to 10 s, kube-scheduler's pod backoff
      // (podInitialBackoffDuration, podMaxBackoffDuration), so an API server outage delays
      // scheduling by at most 10 s once it is over.
      loop_(
          kName, clock, [this](const std::string& key) { return Sync(key); },
          std::make_unique<controller::ItemExponentialRateLimiter>(std::chrono::seconds(1),
                                                                   std::chrono::seconds(10))) {}

void Scheduler::OnPod(const k8s::ObjectPtr& pod) {
  if (WantsScheduling(*pod)) loop_.Add(k8s::KeyOf(*pod));
}

void Scheduler::CapacityChanged() {
  std::set<std::string> keys;
  {
    k8s::MutexLock lock(mu_);
    keys = unschedulable_;
  }
  for (const auto& key : keys) loop_.Add(key);
}

std::vector<NodeUsage> Scheduler::Usage() {
  std::map<std::string, NodeUsage> by_node;
  for (const auto& node : nodes_.Nodes()) by_node[node.name] = {node, {}, 0};
  auto charge = [&](const std::string& node, const ResourceList& requests) {
    auto it = by_node.find(node);
    if (it == by_node.end()) return;
    it->second.requested = AddResources(it->second.requested, requests);
    ++it->second.pod_count;
  };
  k8s::MutexLock lock(mu_);
  for (const auto& pod : pods_.List("")) {
    const std::string node = StringField(ObjectField(*pod, "spec"), "nodeName");
    const std::string key = k8s::KeyOf(*pod);
    if (node.empty()) continue;
    assumed_.erase(key);
    if (IsPodTerminal(*pod)) continue;
    auto res = PodResourcesOf(*pod);
    if (res.ok()) charge(node, res->requests);
  }
  for (const auto& [key, a] : assumed_) charge(a.node, a.requests);
  std::vector<NodeUsage> out;
  out.reserve(by_node.size());
  for (auto& [name, usage] : by_node) out.push_back(std::move(usage));
  return out;
}

SyncOutcome Scheduler::Sync(const std::string& key) {
  const size_t slash = key.find('/');
  const k8s::ObjectPtr pod = pods_.Get(key.substr(0, slash), key.substr(slash + 1));
  bool assumed;
  {
    k8s::MutexLock lock(mu_);
    assumed = assumed_.count(key) > 0;
  }
  if (!pod || !WantsScheduling(*pod) || assumed) {
    k8s::MutexLock lock(mu_);
    unschedulable_.erase(key);
    return SyncOutcome::Done();
  }
  auto res = PodResourcesOf(*pod);
  if (!res.ok()) return MarkUnschedulable(*pod, res.status().message());
  const ScheduleResult result = SchedulePod(res->requests, NodeSelectorOf(*pod), Usage());
  if (result.node.empty()) return MarkUnschedulable(*pod, result.message);
  return Bind(*pod, result.node, res->requests);
}

SyncOutcome Scheduler::Bind(const k8s::Object& pod, const std::string& node,
                            const ResourceList& requests) {
  const std::string ns = k8s::NamespaceOf(pod), name = k8s::NameOf(pod);
  const k8s::Object patch = {{"spec", {{"nodeName", node}}}};
  auto r = client_.Patch(k8s::resources::kPods, ns, name, k8s::PatchType::kMerge, patch.dump());
  if (!r.ok())
    return r.status().IsNotFound() ? SyncOutcome::Done() : SyncOutcome::Retry(r.status());
  {
    k8s::MutexLock lock(mu_);
    assumed_[k8s::KeyOf(pod)] = {node, requests};
    unschedulable_.erase(k8s::KeyOf(pod));
  }
  k8s::Status s =
      SetPodCondition(client_, ns, name, {"PodScheduled", "True", "", ""}, clock_.Now());
  if (!s.ok() && !s.IsNotFound()) {
    AgentLogger(kName)->warn("PodScheduled update failed pod={}/{} error={}", ns, name,
                             s.ToString());
  }
  events_.Emit(pod, false, "Scheduled", "Successfully assigned " + ns + "/" + name + " to " + node);
  AgentLogger(kName)->info("bound pod={}/{} node={}", ns, name, node);
  return SyncOutcome::Done();
}

SyncOutcome Scheduler::MarkUnschedulable(const k8s::Object& pod, const std::string& message) {
  const std::string ns = k8s::NamespaceOf(pod), name = k8s::NameOf(pod);
  {
    k8s::MutexLock lock(mu_);
    unschedulable_.insert(k8s::KeyOf(pod));
  }
  k8s::Status s = SetPodCondition(
      client_, ns, name, {"PodScheduled", "False", "Unschedulable", message}, clock_.Now());
  if (!s.ok() && s.IsNotFound()) return SyncOutcome::Done();
  events_.Emit(pod, true, "FailedScheduling", message);
  return SyncOutcome::After(kRetryUnschedulable);
}

}  // namespace stepline::localagent
