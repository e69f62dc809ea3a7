#include "localagent/agent_job_controller.h"

#include "controller/rate_limiter.h"
#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"
#include "localagent/job_pod.h"
#include "localagent/patches.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::IntField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr const char* kName = "job-controller";
constexpr auto kExpectationTimeout = std::chrono::seconds(30);

// The Job's key if the object's controller is a Job.
std::string ControllerJobKey(const k8s::Object& obj) {
  const k8s::Object* ref = k8s::ControllerOf(obj);
  if (ref == nullptr || StringField(*ref, "kind") != "Job" ||
      StringField(*ref, "apiVersion") != "batch/v1") {
    return {};
  }
  return k8s::NamespaceOf(obj) + "/" + StringField(*ref, "name");
}

}  // namespace

JobController::JobController(k8s::Client& client, const k8s::CacheReader& jobs,
                             const k8s::CacheReader& pods, QuotaAdmission& admission,
                             EventWriter& events, const k8s::Clock& clock)
    : client_(client),
      jobs_(jobs),
      pods_(pods),
      admission_(admission),
      events_(events),
      clock_(clock),
      random_(std::random_device{}()),
      loop_(
          kName, clock, [this](const std::string& key) { return Sync(key); },
          std::make_unique<controller::ItemExponentialRateLimiter>(std::chrono::seconds(1),
                                                                   std::chrono::seconds(60))) {}

void JobController::OnJob(const k8s::ObjectPtr& job) { loop_.Add("job:" + k8s::KeyOf(*job)); }

void JobController::OnPod(const k8s::ObjectPtr& pod) {
  const std::string job_key = ControllerJobKey(*pod);
  if (job_key.empty()) return;
  loop_.Add("job:" + job_key);
  if (HasFinalizer(*pod, kJobTrackingFinalizer)) loop_.Add("pod:" + k8s::KeyOf(*pod));
}

SyncOutcome JobController::Sync(const std::string& key) {
  const auto [ns, name] = k8s::SplitKey(key.substr(4));
  return key.rfind("job:", 0) == 0 ? SyncJobKey(ns, name) : SyncOrphanPod(ns, name);
}

std::vector<k8s::ObjectPtr> JobController::ControlledPods(const k8s::Object& job) const {
  std::vector<k8s::ObjectPtr> out;
  for (const auto& pod : pods_.ListByOwner(k8s::UidOf(job))) {
    const k8s::Object* ref = k8s::ControllerOf(*pod);
    if (ref != nullptr && StringField(*ref, "uid") == k8s::UidOf(job)) out.push_back(pod);
  }
  return out;
}

bool JobController::ExpectationsMet(const std::string& key,
                                    const std::vector<k8s::ObjectPtr>& pods) {
  k8s::MutexLock lock(mu_);
  auto it = expectations_.find(key);
  if (it == expectations_.end()) return true;
  for (const auto& pod : pods) it->second.names.erase(k8s::NameOf(*pod));
  if (it->second.names.empty() || clock_.MonotonicNow() - it->second.since > kExpectationTimeout) {
    expectations_.erase(it);
    return true;
  }
  return false;
}

SyncOutcome JobController::SyncJobKey(const std::string& ns, const std::string& name) {
  const std::string key = ns + "/" + name;
  const k8s::ObjectPtr job = jobs_.Get(ns, name);
  if (!job) {
    k8s::MutexLock lock(mu_);
    expectations_.erase(key);
    written_from_.erase(key);
    return SyncOutcome::Done();
  }
  {
    // Our last status write has not reached the cache yet: its event brings the Job back.
    k8s::MutexLock lock(mu_);
    auto it = written_from_.find(key);
    if (it != written_from_.end() && it->second == k8s::ResourceVersionOf(*job)) {
      return SyncOutcome::After(std::chrono::seconds(2));
    }
    written_from_.erase(key);
  }
  const auto pods = ControlledPods(*job);
  if (!ExpectationsMet(key, pods)) return SyncOutcome::After(std::chrono::seconds(5));
  const JobSyncResult result = SyncJob(*job, pods, clock_.Now());
  if (!Apply(*job, result)) {
    return SyncOutcome::Retry(
        k8s::Status::Unavailable("the Job's pods or status were not all written"));
  }
  if (result.requeue_after) {
    return SyncOutcome::After(*result.requeue_after + std::chrono::milliseconds(50));
  }
  return SyncOutcome::Done();
}

bool JobController::Apply(const k8s::Object& job, const JobSyncResult& result) {
  auto log = AgentLogger(kName);
  const std::string ns = k8s::NamespaceOf(job);
  // As upstream's syncJob: the pods first, then a status that counts those created as active,
  // so that the Job says a pod exists before the pod's own watch event may arrive.
  int created = 0;
  const bool created_all = result.create <= 0 || CreatePods(job, result.create, &created);
  k8s::Object status = result.status;
  if (created > 0) {
    status["active"] = IntField(status, "active").value_or(0) + created;
  }
  if (ObjectField(job, "status") != status) {
    k8s::Object updated = job;
    updated["status"] = std::move(status);
    auto r = client_.UpdateStatus(k8s::resources::kJobs, ns, updated);
    if (!r.ok()) {
      log->debug("status update failed job={} error={}", k8s::KeyOf(job), r.status().ToString());
      return false;
    }
    k8s::MutexLock lock(mu_);
    written_from_[k8s::KeyOf(job)] = k8s::ResourceVersionOf(job);
  }
  bool ok = created_all;
  for (const auto& pod : result.remove_finalizer) ok = RemoveTrackingFinalizer(ns, pod) && ok;
  for (const auto& pod : result.delete_pods) {
    k8s::Status s = client_.Delete(k8s::resources::kPods, ns, pod);
    if (s.ok() || s.IsNotFound()) {
      events_.Emit(job, false, "SuccessfulDelete", "Deleted pod: " + pod);
    } else {
      events_.Emit(job, true, "FailedDelete", "Error deleting: " + s.message());
      ok = false;
    }
  }
  for (const auto& e : result.events) events_.Emit(job, e.warning, e.reason, e.message);
  return ok;
}

bool JobController::CreatePods(const k8s::Object& job, int count, int* created_count) {
  const std::string ns = k8s::NamespaceOf(job);
  const std::string key = k8s::KeyOf(job);
  for (int i = 0; i < count; ++i) {
    k8s::Result<k8s::Object> created = k8s::Status::AlreadyExists("");
    for (int attempt = 0; attempt < 3 && !created.ok() && created.status().IsAlreadyExists();
         ++attempt) {
      uint64_t random;
      {
        k8s::MutexLock lock(mu_);
        random = random_();
      }
      const k8s::Object pod = BuildJobPod(job, JobPodName(k8s::NameOf(job), NameSuffix(random)));
      k8s::Status admitted = admission_.Admit(pod);
      if (!admitted.ok()) {
        created = admitted;
        break;
      }
      created = client_.Create(k8s::resources::kPods, ns, pod);
    }
    if (!created.ok()) {
      events_.Emit(job, true, "FailedCreate", "Error creating: " + created.status().message());
      return false;
    }
    {
      k8s::MutexLock lock(mu_);
      auto& e = expectations_[key];
      if (e.names.empty()) e.since = clock_.MonotonicNow();
      e.names.insert(k8s::NameOf(*created));
    }
    events_.Emit(job, false, "SuccessfulCreate", "Created pod: " + k8s::NameOf(*created));
    ++*created_count;
  }
  return true;
}

bool JobController::RemoveTrackingFinalizer(const std::string& ns, const std::string& pod_name) {
  const k8s::ObjectPtr pod = pods_.Get(ns, pod_name);
  if (!pod) return true;
  auto patch = RemoveFinalizerPatch(*pod, kJobTrackingFinalizer);
  if (!patch) return true;
  auto r = client_.Patch(k8s::resources::kPods, ns, pod_name, k8s::PatchType::kJson, *patch);
  // NotFound: gone already. Invalid: the test failed because the pod changed since the cache saw
  // it; its update event brings the Job back here.
  if (r.ok() || r.status().IsNotFound() || r.status().IsInvalid()) return true;
  AgentLogger(kName)->debug("finalizer removal failed pod={}/{} error={}", ns, pod_name,
                            r.status().ToString());
  return false;
}

// A pod whose Job is gone keeps its tracking finalizer until it has finished or is being
// deleted; then the finalizer goes (the real controller cleans up orphans the same way).
SyncOutcome JobController::SyncOrphanPod(const std::string& ns, const std::string& name) {
  const k8s::ObjectPtr pod = pods_.Get(ns, name);
  if (!pod || !HasFinalizer(*pod, kJobTrackingFinalizer)) return SyncOutcome::Done();
  const k8s::Object* ref = k8s::ControllerOf(*pod);
  if (ref == nullptr) return SyncOutcome::Done();
  const k8s::ObjectPtr cached = jobs_.Get(ns, StringField(*ref, "name"));
  if (cached && k8s::UidOf(*cached) == StringField(*ref, "uid")) return SyncOutcome::Done();
  if (!IsPodTerminal(*pod) && !k8s::IsBeingDeleted(*pod)) return SyncOutcome::Done();
  auto live = client_.Get(k8s::resources::kJobs, ns, StringField(*ref, "name"));
  if (live.ok() && k8s::UidOf(*live) == StringField(*ref, "uid")) return SyncOutcome::Done();
  if (!live.ok() && !live.status().IsNotFound()) return SyncOutcome::Retry(live.status());
  if (RemoveTrackingFinalizer(ns, name)) return SyncOutcome::Done();
  return SyncOutcome::Retry(
      k8s::Status::Unavailable("the pod's Job-tracking finalizer was not removed"));
}

}  // namespace stepline::localagent
