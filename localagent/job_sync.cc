#include "localagent/job_sync.h"

#include <algorithm>
#include <set>

#include "k8sclient/job_state.h"
#include "k8sclient/object_fields.h"
#include "localagent/conditions.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::BoolField;
using k8s::IntField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kBackoffMessage = "Job has reached the specified backoff limit";
constexpr const char* kDeadlineMessage = "Job was active longer than specified deadline";
constexpr const char* kCompletionsMessage = "Reached expected number of succeeded pods";

struct JobParams {
  int64_t parallelism = 1;
  std::optional<int64_t> completions;
  int64_t backoff_limit = 6;
  std::optional<int64_t> deadline_seconds;
  bool suspend = false;
};

// What the pods say, after this sync's counting.
struct Census {
  std::vector<const k8s::Object*> active;       // not terminal, not being deleted
  std::vector<const k8s::Object*> terminating;  // being deleted, not terminal yet
  std::vector<const k8s::Object*> failed_pods;  // terminal failures still visible
  int64_t succeeded = 0;                        // counted + uncounted
  int64_t failed = 0;                           // counted + uncounted
  bool uncounted_empty = true;
};

JobParams ParamsOf(const k8s::Object& spec) {
  JobParams p;
  const auto parallelism = IntField(spec, "parallelism");
  p.parallelism = parallelism.value_or(1);
  p.completions = IntField(spec, "completions");
  if (!p.completions && !parallelism) p.completions = 1;
  p.backoff_limit = IntField(spec, "backoffLimit").value_or(6);
  p.deadline_seconds = IntField(spec, "activeDeadlineSeconds");
  p.suspend = BoolField(spec, "suspend", false);
  return p;
}

std::set<std::string> UidList(const k8s::Object& status, const char* which) {
  std::set<std::string> out;
  const auto& unc = ObjectField(status, "uncountedTerminatedPods");
  for (const auto& uid : ArrayField(unc, which)) {
    if (uid.is_string()) out.insert(uid.get<std::string>());
  }
  return out;
}

void SetCount(k8s::Object* status, const char* key, int64_t value, bool omit_zero) {
  if (value == 0 && omit_zero) {
    status->erase(key);
  } else {
    (*status)[key] = value;
  }
}

// Moves uncounted UIDs whose pods lost their finalizer (or are gone) into the counter.
int64_t MoveCounted(std::set<std::string>* uncounted, const std::vector<k8s::ObjectPtr>& pods) {
  int64_t moved = 0;
  for (auto it = uncounted->begin(); it != uncounted->end();) {
    auto pod = std::find_if(pods.begin(), pods.end(),
                            [&](const k8s::ObjectPtr& p) { return k8s::UidOf(*p) == *it; });
    if (pod == pods.end() || !HasFinalizer(**pod, kJobTrackingFinalizer)) {
      ++moved;
      it = uncounted->erase(it);
    } else {
      ++it;
    }
  }
  return moved;
}

void WriteUncounted(k8s::Object* status, const std::set<std::string>& succeeded,
                    const std::set<std::string>& failed) {
  k8s::Object unc = k8s::Object::object();
  if (!succeeded.empty()) unc["succeeded"] = succeeded;
  if (!failed.empty()) unc["failed"] = failed;
  (*status)["uncountedTerminatedPods"] = unc;
}

// Finalizer-based counting; fills census counts and result.remove_finalizer.
void CountPods(const std::vector<k8s::ObjectPtr>& pods, k8s::Object* status, Census* census,
               JobSyncResult* result) {
  auto unc_succeeded = UidList(*status, "succeeded");
  auto unc_failed = UidList(*status, "failed");
  for (const auto& ptr : pods) {
    const k8s::Object& pod = *ptr;
    const bool terminal = IsPodTerminal(pod);
    const bool deleting = k8s::IsBeingDeleted(pod);
    if (!terminal && !deleting) census->active.push_back(&pod);
    if (!terminal && deleting) census->terminating.push_back(&pod);
    if (PodPhase(pod) == "Failed") census->failed_pods.push_back(&pod);
    if (!HasFinalizer(pod, kJobTrackingFinalizer)) continue;
    const std::string& uid = k8s::UidOf(pod);
    if ((terminal || deleting) && !unc_succeeded.count(uid) && !unc_failed.count(uid)) {
      (PodPhase(pod) == "Succeeded" ? unc_succeeded : unc_failed).insert(uid);
    }
    const bool never_ran = deleting && StringField(ObjectField(pod, "spec"), "nodeName").empty();
    if ((terminal || never_ran) && (unc_succeeded.count(uid) || unc_failed.count(uid))) {
      result->remove_finalizer.push_back(k8s::NameOf(pod));
    }
  }
  const int64_t succeeded =
      IntField(*status, "succeeded").value_or(0) + MoveCounted(&unc_succeeded, pods);
  const int64_t failed = IntField(*status, "failed").value_or(0) + MoveCounted(&unc_failed, pods);
  SetCount(status, "succeeded", succeeded, true);
  SetCount(status, "failed", failed, true);
  WriteUncounted(status, unc_succeeded, unc_failed);
  census->succeeded = succeeded + static_cast<int64_t>(unc_succeeded.size());
  census->failed = failed + static_cast<int64_t>(unc_failed.size());
  census->uncounted_empty = unc_succeeded.empty() && unc_failed.empty();
}

std::optional<k8s::WallTime> StartTimeOf(const k8s::Object& status) {
  k8s::WallTime t;
  auto it = status.find("startTime");
  if (it == status.end() || !it->is_string() || !k8s::ParseRfc3339(it->get<std::string>(), &t)) {
    return std::nullopt;
  }
  return t;
}

// Adds FailureTarget or SuccessCriteriaMet when the Job has just met its criteria.
void EvaluateCriteria(const JobParams& p, const Census& c, k8s::WallTime now, k8s::Object* status) {
  if (ConditionIsTrue(*status, "FailureTarget") || ConditionIsTrue(*status, "SuccessCriteriaMet")) {
    return;
  }
  const auto start = StartTimeOf(*status);
  if (c.failed > p.backoff_limit) {
    SetCondition(status, {"FailureTarget", "True", "BackoffLimitExceeded", kBackoffMessage}, now,
                 true);
  } else if (p.deadline_seconds && start && !p.suspend &&
             now >= *start + seconds(*p.deadline_seconds)) {
    SetCondition(status, {"FailureTarget", "True", "DeadlineExceeded", kDeadlineMessage}, now,
                 true);
  } else if ((p.completions && c.succeeded >= *p.completions) ||
             (!p.completions && c.succeeded > 0 && c.active.empty())) {
    SetCondition(status, {"SuccessCriteriaMet", "True", "CompletionsReached", kCompletionsMessage},
                 now, true);
  }
}

std::vector<std::string> NamesOf(const std::vector<const k8s::Object*>& pods) {
  std::vector<std::string> names;
  names.reserve(pods.size());
  for (const auto* pod : pods) names.push_back(k8s::NameOf(*pod));
  return names;
}

// After FailureTarget / SuccessCriteriaMet: stop the active pods, then finish.
void Terminate(const Census& c, k8s::WallTime now, k8s::Object* status, JobSyncResult* result) {
  result->delete_pods = NamesOf(c.active);
  if (!c.active.empty() || !c.terminating.empty() || !c.uncounted_empty) return;
  if (const k8s::Object* target = FindCondition(*status, "FailureTarget");
      target != nullptr && StringField(*target, "status") == "True") {
    const std::string reason = StringField(*target, "reason");
    const std::string message = StringField(*target, "message");
    SetCondition(status, {"Failed", "True", reason, message}, now, true);
    result->events.push_back({true, reason, message});
    return;
  }
  SetCondition(status, {"Complete", "True", "CompletionsReached", kCompletionsMessage}, now, true);
  (*status)["completionTime"] = k8s::FormatRfc3339(now);
  result->events.push_back({false, "Completed", "Job completed"});
}

// Failures since the last success, and when the latest of them finished.
std::pair<int64_t, std::optional<k8s::WallTime>> RecentFailures(const Census& c) {
  std::optional<k8s::WallTime> latest;
  for (const auto* pod : c.failed_pods) {
    auto t = PodFinishTime(*pod);
    if (t && (!latest || *t > *latest)) latest = t;
  }
  return {c.succeeded > 0 ? static_cast<int64_t>(c.failed_pods.size()) : c.failed, latest};
}

void CreateOrWait(int64_t want, const Census& c, k8s::WallTime now, JobSyncResult* result) {
  const auto [failures, last_failure] = RecentFailures(c);
  if (failures > 0 && last_failure) {
    const auto ready_at = *last_failure + PodReplacementBackoff(failures);
    if (now < ready_at) {
      result->requeue_after = std::chrono::duration_cast<milliseconds>(ready_at - now);
      return;
    }
  }
  result->create = static_cast<int>(want);
}

void ManagePods(const JobParams& p, const Census& c, k8s::WallTime now, JobSyncResult* result) {
  int64_t want = p.parallelism;
  if (p.completions) want = std::min(want, *p.completions - c.succeeded);
  if (!p.completions && c.succeeded > 0) want = 0;
  const int64_t diff = std::max<int64_t>(want, 0) - static_cast<int64_t>(c.active.size());
  if (diff > 0) CreateOrWait(diff, c, now, result);
  if (diff < 0) {
    auto newest = c.active;
    std::sort(newest.begin(), newest.end(), [](const k8s::Object* a, const k8s::Object* b) {
      return k8s::CreationTime(*a) > k8s::CreationTime(*b);
    });
    newest.resize(static_cast<size_t>(-diff));
    result->delete_pods = NamesOf(newest);
  }
}

void Suspend(const Census& c, k8s::WallTime now, k8s::Object* status, JobSyncResult* result) {
  result->delete_pods = NamesOf(c.active);
  if (!ConditionIsTrue(*status, "Suspended")) {
    SetCondition(status, {"Suspended", "True", "JobSuspended", "Job suspended"}, now, true);
    result->events.push_back({false, "Suspended", "Job suspended"});
  }
  status->erase("startTime");
}

void Resume(k8s::WallTime now, k8s::Object* status, JobSyncResult* result) {
  if (!ConditionIsTrue(*status, "Suspended")) return;
  SetCondition(status, {"Suspended", "False", "JobResumed", "Job resumed"}, now, true);
  result->events.push_back({false, "Resumed", "Job resumed"});
}

void WriteActivity(const Census& c, const JobSyncResult& result, k8s::Object* status) {
  const int64_t deleting = static_cast<int64_t>(result.delete_pods.size());
  int64_t ready = 0;
  for (const auto* pod : c.active) {
    const bool deleted = std::find(result.delete_pods.begin(), result.delete_pods.end(),
                                   k8s::NameOf(*pod)) != result.delete_pods.end();
    if (!deleted && IsPodReady(*pod)) ++ready;
  }
  SetCount(status, "active", static_cast<int64_t>(c.active.size()) - deleting, true);
  (*status)["ready"] = ready;
  (*status)["terminating"] = static_cast<int64_t>(c.terminating.size()) + deleting;
}

void RequeueAtDeadline(const JobParams& p, const k8s::Object& status, k8s::WallTime now,
                       JobSyncResult* result) {
  const auto start = StartTimeOf(status);
  if (!p.deadline_seconds || !start || p.suspend) return;
  const auto left =
      std::chrono::duration_cast<milliseconds>(*start + seconds(*p.deadline_seconds) - now);
  const auto wait = std::max(left, milliseconds(0));
  if (!result->requeue_after || wait < *result->requeue_after) result->requeue_after = wait;
}

}  // namespace

std::chrono::milliseconds PodReplacementBackoff(int64_t failures) {
  const milliseconds cap = std::chrono::minutes(6);
  milliseconds delay = seconds(10);
  for (int64_t i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

bool IsJobFinished(const k8s::Object& job) { return k8s::HasEnded(k8s::ClassifyJob(job)); }

JobSyncResult SyncJob(const k8s::Object& job, const std::vector<k8s::ObjectPtr>& pods,
                      k8s::WallTime now) {
  JobSyncResult result;
  const JobParams p = ParamsOf(ObjectField(job, "spec"));
  k8s::Object status = ObjectField(job, "status");
  Census census;
  CountPods(pods, &status, &census, &result);
  if (!IsJobFinished(job)) {
    if (!status.contains("startTime") && !p.suspend) status["startTime"] = k8s::FormatRfc3339(now);
    EvaluateCriteria(p, census, now, &status);
    if (ConditionIsTrue(status, "FailureTarget") || ConditionIsTrue(status, "SuccessCriteriaMet")) {
      Terminate(census, now, &status, &result);
    } else if (p.suspend) {
      Suspend(census, now, &status, &result);
    } else {
      Resume(now, &status, &result);
      ManagePods(p, census, now, &result);
      RequeueAtDeadline(p, status, now, &result);
    }
  }
  WriteActivity(census, result, &status);
  result.status = std::move(status);
  return result;
}

}  // namespace stepline::localagent
