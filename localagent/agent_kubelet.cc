#include "localagent/agent_kubelet.h"

#include <signal.h>

#include <filesystem>

#include "controller/rate_limiter.h"
#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"
#include "localagent/agent_pods.h"
#include "localagent/file_util.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::IntField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

using std::chrono::milliseconds;
using State = ContainerRun::State;

constexpr const char* kName = "kubelet";
constexpr milliseconds kNoRequeue{-1};
constexpr milliseconds kResync{10'000};

// A status the API server did not store (it was down, or answered 5xx) is sent again at most
// 10 s later, however long the outage lasted: the kubelet's status manager re-sends every
// unsynced pod status on its 10 s sync period. (The default limiter would have reached minutes.)
std::unique_ptr<controller::RateLimiter> StatusRetryLimiter() {
  return std::make_unique<controller::ItemExponentialRateLimiter>(milliseconds(100),
                                                                  std::chrono::seconds(10));
}

milliseconds Earliest(milliseconds a, milliseconds b) {
  if (a < milliseconds(0)) return b;
  if (b < milliseconds(0)) return a;
  return std::min(a, b);
}

bool PastActiveDeadline(const k8s::Object& pod, k8s::WallTime now) {
  const auto deadline = IntField(ObjectField(pod, "spec"), "activeDeadlineSeconds");
  k8s::WallTime start;
  const std::string started = StringField(ObjectField(pod, "status"), "startTime");
  if (!deadline || started.empty() || !k8s::ParseRfc3339(started, &start)) return false;
  return now >= start + std::chrono::seconds(*deadline);
}

}  // namespace

Kubelet::Kubelet(k8s::Client& client, const k8s::CacheReader& pods, const NodeRegistry& nodes,
                 ProcessRunner& runner, EventWriter& events, const EnvSources& env_sources,
                 const k8s::Clock& clock, KubeletOptions options)
    : client_(client),
      pods_(pods),
      nodes_(nodes),
      runner_(runner),
      events_(events),
      env_sources_(env_sources),
      clock_(clock),
      options_(std::move(options)),
      loop_(
          kName, clock, [this](const std::string& key) { return Sync(key); },
          StatusRetryLimiter()) {}

void Kubelet::Stop() {
  loop_.Stop();
  std::vector<pid_t> pids;
  {
    k8s::MutexLock lock(mu_);
    for (const auto& [key, w] : workers_) {
      for (const auto& c : w.containers) {
        if (c.run.state == State::kRunning) pids.push_back(c.pid);
      }
    }
  }
  for (pid_t pid : pids) runner_.Signal(pid, SIGKILL);
  for (int i = 0; i < 100; ++i) {
    bool any = false;
    for (pid_t pid : pids) any = any || runner_.Running(pid);
    if (!any) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

void Kubelet::OnPod(const k8s::ObjectPtr& pod) {
  if (!StringField(ObjectField(*pod, "spec"), "nodeName").empty()) loop_.Add(k8s::KeyOf(*pod));
}

void Kubelet::OnPodDeleted(const k8s::ObjectPtr& pod) { loop_.Add(k8s::KeyOf(*pod)); }

std::string Kubelet::PodDir(const std::string& uid) const {
  return options_.work_dir + "/pods/" + uid;
}

SyncOutcome Kubelet::Sync(const std::string& key) {
  SyncOutcome outcome = SyncKey(key);
  FlushEvents();
  return outcome;
}

void Kubelet::FlushEvents() {
  std::vector<PendingEvent> events;
  {
    k8s::MutexLock lock(mu_);
    events.swap(pending_events_);
  }
  for (const auto& e : events) events_.Emit(e.regarding, false, e.reason, e.message, e.host);
}

SyncOutcome Kubelet::SyncKey(const std::string& key) {
  const auto [ns, name] = k8s::SplitKey(key);
  const k8s::ObjectPtr pod = pods_.Get(ns, name);
  bool running_here = false;
  {
    k8s::MutexLock lock(mu_);
    auto it = workers_.find(key);
    const bool replaced = it != workers_.end() && pod && k8s::UidOf(*pod) != it->second.uid;
    if (it != workers_.end() && (!pod || replaced)) return StopOrphan(key);
    running_here = it != workers_.end();
  }
  // A pod keeps being served where it runs, even if its node was removed meanwhile.
  if (!pod || (!running_here && !nodes_.Has(StringField(ObjectField(*pod, "spec"), "nodeName")))) {
    return SyncOutcome::Done();
  }
  return SyncPod(*pod);
}

// The pod is gone from the API (or replaced): stop what still runs, then forget it.
SyncOutcome Kubelet::StopOrphan(const std::string& key) {
  PodWorker& w = workers_.at(key);
  const milliseconds wait = Terminate(w, w.grace_seconds);
  if (AnyRunning(w)) return SyncOutcome::After(Earliest(wait, milliseconds(500)));
  Cleanup(w);
  AgentLogger(kName)->info("pod gone pod={} uid={}", key, w.uid);
  workers_.erase(key);
  return SyncOutcome::After(milliseconds(10));  // the key may now name a new pod
}

Kubelet::PodWorker& Kubelet::WorkerFor(const k8s::Object& pod) {
  const std::string key = k8s::KeyOf(pod);
  auto it = workers_.find(key);
  if (it != workers_.end()) return it->second;
  PodWorker& w = workers_[key];
  w.uid = k8s::UidOf(pod);
  w.ns = k8s::NamespaceOf(pod);
  w.name = k8s::NameOf(pod);
  w.node = StringField(ObjectField(pod, "spec"), "nodeName");
  w.grace_seconds = TerminationGraceSeconds(pod);
  const bool ran_before = PodPhase(pod) == "Running";  // by an agent that has since restarted
  const k8s::Object& spec = ObjectField(pod, "spec");
  const bool has_init = !ArrayField(spec, "initContainers").empty();
  for (const char* field : {"initContainers", "containers"}) {
    for (const auto& cs : ArrayField(spec, field)) {
      Container c;
      c.run.name = StringField(cs, "name");
      c.init = std::string(field) == "initContainers";
      c.sidecar = c.init && IsSidecar(cs);
      if (has_init) c.run.waiting_reason = "PodInitializing";
      c.termination_policy = StringField(cs, "terminationMessagePolicy");
      if (ran_before || IsPodTerminal(pod)) {
        c.run.state = State::kTerminated;
        c.run.exit_code = 137;
        c.run.reason = "ContainerStatusUnknown";
        c.run.message = "The container could not be located when the pod was terminated";
        c.run.started_at = c.run.finished_at = clock_.Now();
      }
      w.containers.push_back(c);
    }
  }
  return w;
}

bool Kubelet::AnyRunning(const PodWorker& w) const {
  for (const auto& c : w.containers) {
    if (c.run.state == State::kRunning) return true;
  }
  return false;
}

SyncOutcome Kubelet::SyncPod(const k8s::Object& pod) {
  std::vector<ContainerRun> runs;
  bool deadline = false;
  milliseconds requeue = kNoRequeue;
  {
    k8s::MutexLock lock(mu_);
    if (IsPodTerminal(pod) && workers_.count(k8s::KeyOf(pod)) == 0) return SyncOutcome::Done();
    PodWorker& w = WorkerFor(pod);
    if (!w.terminating && PastActiveDeadline(pod, clock_.Now())) w.deadline_exceeded = true;
    if (k8s::IsBeingDeleted(pod) || w.deadline_exceeded) {
      requeue = Terminate(w, TerminationGraceSeconds(pod));
    } else {
      requeue = StartContainers(pod, w);
      // The pod's work is over: its sidecars are stopped, as the kubelet does since 1.29.
      if (AnyRunning(w) && RegularContainersEnded(pod, w)) {
        requeue = Earliest(requeue, Terminate(w, TerminationGraceSeconds(pod)));
      }
    }
    for (const auto& c : w.containers) runs.push_back(c.run);
    deadline = w.deadline_exceeded;
  }
  k8s::Status s = WriteStatus(pod, runs, deadline);
  if (!s.ok() && !s.IsNotFound()) return SyncOutcome::Retry(s);
  // Like the kubelet's periodic pod sync, a pod it serves is looked at again at least every
  // kResync even when nothing happened, so a status the server lost or never stored (it was
  // restarted from an older etcd snapshot, or answered as if the pod were gone) is re-posted.
  // Cheap when nothing differs: the status is compared with the informer's copy first.
  return SyncOutcome::After(Earliest(requeue, kResync));
}

k8s::Status Kubelet::WriteStatus(const k8s::Object& pod, const std::vector<ContainerRun>& runs,
                                 bool deadline_exceeded) {
  const auto now = clock_.Now();
  auto build = [&](const k8s::Object& current) {
    k8s::Object status = BuildPodStatus(current, runs, now, options_.host_ip);
    if (deadline_exceeded) {
      status["phase"] = "Failed";
      status["reason"] = "DeadlineExceeded";
      status["message"] = "Pod was active on the node longer than the specified deadline";
    }
    return status;
  };
  if (ObjectField(pod, "status") == build(pod)) return k8s::Status::Ok();
  return EditPodStatus(client_, k8s::NamespaceOf(pod), k8s::NameOf(pod), [&](k8s::Object& fresh) {
    if (k8s::UidOf(fresh) != k8s::UidOf(pod)) return false;
    k8s::Object status = build(fresh);
    if (ObjectField(fresh, "status") == status) return false;
    fresh["status"] = status;
    return true;
  });
}

bool Kubelet::RegularContainersEnded(const k8s::Object& pod, const PodWorker& w) const {
  std::vector<ContainerRun> runs;
  for (const auto& c : w.containers) runs.push_back(c.run);
  const InitProgress init = InitProgressOf(pod, runs);
  if (init.failed) return true;
  if (!init.done) return false;
  for (const auto& c : w.containers) {
    if (!c.init && c.run.state != State::kTerminated) return false;
  }
  return true;
}

// The grace period starts at the first call; SIGKILL for whatever still runs when it is over.
// Returns how long to wait.
milliseconds Kubelet::Terminate(PodWorker& w, int64_t grace_seconds) {
  const auto now = clock_.MonotonicNow();
  if (!w.terminating) {
    w.terminating = true;
    w.kill_at = now + std::chrono::seconds(std::max<int64_t>(grace_seconds, 0));
  }
  SignalNext(w, grace_seconds > 0 ? SIGTERM : SIGKILL);
  if (!AnyRunning(w)) return kNoRequeue;
  if (now >= w.kill_at && !w.killed) {
    w.killed = true;
    for (auto& c : w.containers) {
      if (c.run.state == State::kRunning) runner_.Signal(c.pid, SIGKILL);
    }
  }
  if (now >= w.kill_at) return milliseconds(500);
  return std::chrono::duration_cast<milliseconds>(w.kill_at - now) + milliseconds(10);
}

// The stop order of the kubelet: the regular containers (and a running init container) at once;
// then the sidecars one at a time, the last declared first, each once the later ones stopped.
void Kubelet::SignalNext(PodWorker& w, int sig) {
  bool others_running = false;
  for (auto& c : w.containers) {
    if (c.sidecar || c.run.state != State::kRunning) continue;
    others_running = true;
    if (!c.term_sent) SignalContainer(w, c, sig);
  }
  if (others_running) return;
  for (auto it = w.containers.rbegin(); it != w.containers.rend(); ++it) {
    if (!it->sidecar || it->run.state != State::kRunning) continue;
    if (!it->term_sent) SignalContainer(w, *it, sig);
    return;
  }
}

void Kubelet::SignalContainer(PodWorker& w, Container& c, int sig) {
  c.term_sent = true;
  AgentLogger(kName)->info("stopping pod={}/{} container={} signal={}", w.ns, w.name, c.run.name,
                           sig);
  const k8s::Object regarding = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"uid", w.uid}}}};
  pending_events_.push_back({regarding, "Killing", "Stopping container " + c.run.name, w.node});
  runner_.Signal(c.pid, sig);
}

void Kubelet::OnExit(const std::string& key, const std::string& container,
                     const ProcessExit& exit) {
  std::string log_line;
  {
    k8s::MutexLock lock(mu_);
    auto it = workers_.find(key);
    if (it == workers_.end()) return;
    for (auto& c : it->second.containers) {
      if (c.run.name != container || c.run.state != State::kRunning) continue;
      c.run.state = State::kTerminated;
      c.run.finished_at = clock_.Now();
      c.run.exit_code = exit.exit_code;
      c.run.reason = TerminatedReason(exit.exit_code, exit.oom_killed);
      const size_t limit = TerminationMessageLimit(it->second.containers.size());
      c.run.message = TerminationMessage(
          ReadFileHead(c.termination_file, static_cast<int64_t>(limit)), c.termination_policy,
          exit.exit_code, ReadFileTail(c.log_path, 2048), limit);
      log_line = "exited pod=" + key + " container=" + container +
                 " exitCode=" + std::to_string(exit.exit_code) + " reason=" + c.run.reason;
    }
  }
  if (!log_line.empty()) AgentLogger(kName)->info("{}", log_line);
  loop_.Add(key);
}

void Kubelet::Cleanup(const PodWorker& w) {
  std::error_code ignored;
  std::filesystem::remove_all(PodDir(w.uid), ignored);
  for (const auto& c : w.containers) {
    std::filesystem::remove_all(options_.work_dir + "/sandbox/" + w.uid + "-" + c.run.name,
                                ignored);
  }
}

}  // namespace stepline::localagent
