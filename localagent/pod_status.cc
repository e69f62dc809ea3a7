#include "localagent/pod_status.h"

#include <algorithm>

#include "k8sclient/object_fields.h"
#include "localagent/conditions.h"
#include "localagent/pod_util.h"
#include "localagent/resources.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

using State = ContainerRun::State;

const ContainerRun* RunFor(const std::vector<ContainerRun>& runs, const std::string& name) {
  for (const auto& r : runs) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

k8s::Object StateOf(const ContainerRun* run) {
  if (run == nullptr) return {{"waiting", {{"reason", "ContainerCreating"}}}};
  switch (run->state) {
    case State::kWaiting: {
      k8s::Object waiting = {{"reason", run->waiting_reason}};
      if (!run->waiting_message.empty()) waiting["message"] = run->waiting_message;
      return {{"waiting", waiting}};
    }
    case State::kRunning:
      return {{"running", {{"startedAt", k8s::FormatRfc3339(run->started_at)}}}};
    case State::kTerminated: {
      k8s::Object t = {{"exitCode", run->exit_code},
                       {"reason", run->reason},
                       {"startedAt", k8s::FormatRfc3339(run->started_at)},
                       {"finishedAt", k8s::FormatRfc3339(run->finished_at)}};
      if (!run->container_id.empty()) t["containerID"] = run->container_id;
      if (!run->message.empty()) t["message"] = run->message;
      return {{"terminated", t}};
    }
  }
  return k8s::Object::object();
}

k8s::Object ContainerStatus(const k8s::Object& container, const ContainerRun* run) {
  const bool running = run != nullptr && run->state == State::kRunning;
  k8s::Object cs = {{"name", StringField(container, "name")},
                    {"image", StringField(container, "image")},
                    {"imageID", ""},
                    {"ready", running},
                    {"started", running},
                    {"restartCount", 0},
                    {"state", StateOf(run)},
                    {"lastState", k8s::Object::object()}};
  if (run != nullptr && !run->container_id.empty()) cs["containerID"] = run->container_id;
  return cs;
}

struct Tally {
  int waiting = 0, running = 0, succeeded = 0, failed = 0;
  std::vector<std::string> unready;
};

State StateIn(const std::vector<ContainerRun>& runs, const std::string& name) {
  const ContainerRun* run = RunFor(runs, name);
  return run == nullptr ? State::kWaiting : run->state;
}

Tally CountStates(const k8s::Object& pod, const std::vector<ContainerRun>& runs) {
  Tally t;
  for (const auto& c : ArrayField(ObjectField(pod, "spec"), "containers")) {
    const ContainerRun* run = RunFor(runs, StringField(c, "name"));
    const State state = StateIn(runs, StringField(c, "name"));
    if (state != State::kRunning) t.unready.push_back(StringField(c, "name"));
    if (state == State::kWaiting) ++t.waiting;
    if (state == State::kRunning) ++t.running;
    if (state == State::kTerminated) ++(run->exit_code == 0 ? t.succeeded : t.failed);
  }
  return t;
}

bool AnyRunning(const std::vector<ContainerRun>& runs) {
  for (const auto& r : runs) {
    if (r.state == State::kRunning) return true;
  }
  return false;
}

std::string PhaseOf(const k8s::Object& pod, const std::vector<ContainerRun>& runs, bool deleting) {
  const InitProgress init = InitProgressOf(pod, runs);
  const bool any_running = AnyRunning(runs);
  if (init.failed) return any_running ? "Pending" : "Failed";
  if (!init.done) return deleting && !any_running ? "Failed" : "Pending";
  const Tally t = CountStates(pod, runs);
  if (t.running == 0 && t.waiting == 0) {
    if (any_running) return "Running";  // sidecars still being stopped
    return t.failed > 0 ? "Failed" : "Succeeded";
  }
  if (deleting && !any_running) return "Failed";  // deleted before it ever ran
  if (t.running > 0 || t.succeeded + t.failed > 0) return "Running";
  return "Pending";
}

void SetInitialized(const InitProgress& init, k8s::WallTime now, k8s::Object* status) {
  ConditionValue c{"Initialized", init.done ? "True" : "False", "", ""};
  if (!init.done) {
    std::string names;
    for (const auto& n : init.incomplete) names += (names.empty() ? "" : " ") + n;
    c.reason = "ContainersNotInitialized";
    c.message = "containers with incomplete status: [" + names + "]";
  }
  SetCondition(status, c, now, false);
}

void SetReadiness(const Tally& t, const std::string& phase, k8s::WallTime now,
                  k8s::Object* status) {
  const bool terminal = phase == "Succeeded" || phase == "Failed";
  SetCondition(status, {"PodReadyToStartContainers", terminal ? "False" : "True", "", ""}, now,
               false);
  std::string names;
  for (const auto& n : t.unready) names += (names.empty() ? "" : " ") + n;
  ConditionValue ready{"Ready", t.unready.empty() ? "True" : "False", "", ""};
  if (terminal) {
    ready.reason = phase == "Succeeded" ? "PodCompleted" : "PodFailed";
  } else if (!t.unready.empty()) {
    ready.reason = "ContainersNotReady";
    ready.message = "containers with unready status: [" + names + "]";
  }
  ConditionValue containers_ready = ready;
  containers_ready.type = "ContainersReady";
  SetCondition(status, containers_ready, now, false);
  SetCondition(status, ready, now, false);
}

k8s::Object StatusesOf(const k8s::Object& containers, const std::vector<ContainerRun>& runs) {
  k8s::Object statuses = k8s::Object::array();
  for (const auto& c : containers) {
    statuses.push_back(ContainerStatus(c, RunFor(runs, StringField(c, "name"))));
  }
  return statuses;
}

}  // namespace

bool IsSidecar(const k8s::Object& init_container) {
  return StringField(init_container, "restartPolicy") == "Always";
}

InitProgress InitProgressOf(const k8s::Object& pod, const std::vector<ContainerRun>& runs) {
  InitProgress p;
  for (const auto& c : ArrayField(ObjectField(pod, "spec"), "initContainers")) {
    const std::string name = StringField(c, "name");
    const ContainerRun* run = RunFor(runs, name);
    const State state = StateIn(runs, name);
    const bool sidecar = IsSidecar(c);
    const bool ended = state == State::kTerminated;
    const bool never_started = ended && run->reason == "StartError";
    if (ended && run->exit_code != 0 && (!sidecar || never_started)) p.failed = true;
    const bool complete =
        sidecar ? state != State::kWaiting && !never_started : ended && run->exit_code == 0;
    if (!complete) p.incomplete.push_back(name);
  }
  p.done = p.incomplete.empty() && !p.failed;
  return p;
}

std::string QosClassOf(const k8s::Object& pod) {
  auto res = PodResourcesOf(pod);
  if (!res.ok()) return "BestEffort";
  bool any = false;
  bool guaranteed = !res->containers.empty();
  for (const auto& c : res->containers) {
    any = any || !c.requests.empty() || !c.limits.empty();
    for (const char* name : {"cpu", "memory"}) {
      auto limit = c.limits.find(name);
      auto request = c.requests.find(name);
      if (limit == c.limits.end() || request == c.requests.end() ||
          !(limit->second == request->second)) {
        guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

k8s::Object BuildPodStatus(const k8s::Object& pod, const std::vector<ContainerRun>& runs,
                           k8s::WallTime now, const std::string& host_ip) {
  k8s::Object status = ObjectField(pod, "status");
  const Tally tally = CountStates(pod, runs);
  const std::string phase = PhaseOf(pod, runs, k8s::IsBeingDeleted(pod));
  status["phase"] = phase;
  status["hostIP"] = host_ip;
  status["hostIPs"] = k8s::Object::array({{{"ip", host_ip}}});
  status["podIP"] = host_ip;
  status["podIPs"] = k8s::Object::array({{{"ip", host_ip}}});
  if (!status.contains("startTime")) status["startTime"] = k8s::FormatRfc3339(now);
  status["qosClass"] = QosClassOf(pod);
  const k8s::Object& spec = ObjectField(pod, "spec");
  if (!ArrayField(spec, "initContainers").empty()) {
    status["initContainerStatuses"] = StatusesOf(ArrayField(spec, "initContainers"), runs);
  }
  status["containerStatuses"] = StatusesOf(ArrayField(spec, "containers"), runs);
  SetInitialized(InitProgressOf(pod, runs), now, &status);
  SetReadiness(tally, phase, now, &status);
  return status;
}

std::string TerminatedReason(int exit_code, bool oom_killed) {
  if (oom_killed) return "OOMKilled";
  return exit_code == 0 ? "Completed" : "Error";
}

std::string LogTail(const std::string& text, size_t lines, size_t bytes) {
  // A trailing newline ends the last line; it does not start another one.
  const size_t end = !text.empty() && text.back() == '\n' ? text.size() - 1 : text.size();
  size_t start = 0;
  size_t count = 0;
  for (size_t i = end; i > 0; --i) {
    if (text[i - 1] == '\n' && ++count == lines) {
      start = i;
      break;
    }
  }
  if (text.size() - start > bytes) start = text.size() - bytes;
  return text.substr(start);
}

std::string TerminationMessage(const std::string& file_text, const std::string& policy,
                               int exit_code, const std::string& log_tail, size_t limit) {
  if (!file_text.empty()) return file_text.substr(0, limit);
  if (policy == "FallbackToLogsOnError" && exit_code != 0) return LogTail(log_tail);
  return {};
}

size_t TerminationMessageLimit(size_t containers) {
  constexpr size_t kPerContainer = 4096;
  constexpr size_t kPerPod = size_t{12} * 1024;
  if (containers == 0) return kPerContainer;
  return std::min(kPerContainer, kPerPod / containers);
}

}  // namespace stepline::localagent
