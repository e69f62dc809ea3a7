// The planning of one unit (a step, or one fan-out child) from its Jobs: attempt observation,
// quota waits, abandonment of pods that never start, retries.
#include <algorithm>
#include <cmath>

#include "k8sclient/job_state.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/notebook.h"
#include "reconcilers/planner_internal.h"
#include "reconcilers/status_bounds.h"

namespace stepline::reconcilers::planner_internal {
namespace {

using k8s::Annotation;
using k8s::AnnotationTime;
using k8s::Child;
using k8s::CreationTime;
using k8s::Object;
using k8s::StringField;
using k8s::TimeField;
using k8s::WallTime;
using std::chrono::milliseconds;

int AnnotationInt(const Object& job, const char* key) {
  const std::string& v = Annotation(job, key);
  return v.empty() ? 0 : std::atoi(v.c_str());
}

bool Suspended(const Object& job) {
  const Object& s = Child(Child(job, "spec"), "suspend");
  return s.is_boolean() && s.get<bool>();
}

// Suspended by WaitForQuota (not by a user, not abandoned).
bool QuotaSuspended(const Object& job) {
  return Suspended(job) && !Annotation(job, kAnnotationResumeAt).empty();
}

// Events about the Job since it was last resumed (older refusals are history).
std::vector<const Object*> CurrentEvents(const ObservedJob& j) {
  auto since = AnnotationTime(*j.job, kAnnotationResumedAt);
  if (!since) return j.events;
  std::vector<const Object*> out;
  for (const Object* e : j.events) {
    auto t = TimeField(*e, "lastTimestamp");
    if (t && *t >= *since) out.push_back(e);
  }
  return out;
}

AttemptObservation ObserveJob(const ObservedJob& j, WallTime now,
                              std::chrono::seconds scheduling_timeout, bool judged) {
  const std::string& abandoned = Annotation(*j.job, kAnnotationAbandoned);
  if (!abandoned.empty()) {
    AttemptObservation obs;
    obs.phase = AttemptPhase::kFailed;
    obs.failure = ParseFailureClass(abandoned).value_or(FailureClass::kError);
    obs.message = Annotation(*j.job, kAnnotationAbandonedMessage);
    obs.completion_time = AnnotationTime(*j.job, kAnnotationAbandonedAt);
    if (!obs.completion_time) obs.completion_time = CreationTime(*j.job);
    return obs;
  }
  AttemptInputs in{j.job, j.pods, CurrentEvents(j), now, scheduling_timeout, judged};
  return ObserveAttempt(in);
}

AttemptObservation Observe(const ObservedJob& j, const Planning& p, bool judged = true) {
  const JobRecord& r = p.Record(j);
  if (r.observation) return *r.observation;
  return ObserveJob(j, p.in.now, p.in.options.scheduling_timeout, judged);
}

std::string Rfc(WallTime t) { return k8s::FormatRfc3339(t); }

// The Kueue LocalQueue of a Job (job_builder.h); "" when Kueue does not manage it.
const std::string& KueueQueue(const Object& job) {
  return StringField(Child(Child(job, "metadata"), "labels"), kLabelKueueQueueName);
}

// True (and d.took_quota_grant) when a quota wait may end now though its backoff has not.
bool TakeQuotaGrant(bool grant_available, UnitDecision& d) {
  d.took_quota_grant = grant_available;
  return grant_available;
}

// The pod of a Job waiting for quota cannot be created: suspend the Job (which also stops its
// activeDeadlineSeconds clock) and resume it after the quota backoff.
void WaitForQuota(const ObservedJob& j, const AttemptObservation& obs, bool grant_available,
                  const Planning& p, UnitDecision& d) {
  const Object& job = *j.job;
  UnitState* u = &d.state;
  u->phase = UnitPhase::kWaitingForQuota;
  u->reason = FailureClassName(FailureClass::kQuotaExceeded);
  if (Suspended(job)) {
    u->message = Annotation(job, kAnnotationQuotaMessage);
    auto resume_at = AnnotationTime(job, kAnnotationResumeAt);
    if (resume_at && p.in.now < *resume_at && !TakeQuotaGrant(grant_available, d)) {
      u->next_attempt_time = resume_at;
      d.wake_at = resume_at;
      d.quota_wait_since = CreationTime(job).value_or(p.in.now);
      return;
    }
    Object patch = {{"spec", {{"suspend", false}}},
                    {"metadata",
                     {{"annotations",
                       {{kAnnotationResumeAt, nullptr}, {kAnnotationResumedAt, Rfc(p.in.now)}}}}}};
    d.patch = JobPatch{"", u->job_name, std::move(patch)};
    return;
  }
  int waits = AnnotationInt(job, kAnnotationQuotaWaits);
  WallTime resume_at = p.in.now + QuotaBackoff(waits);
  u->message = obs.message;
  u->next_attempt_time = resume_at;
  // Only the Job as observed: if the Job controller has written it since (a pod it created
  // after all, counted active), the patch conflicts and the next plan sees that pod. Suspending
  // would delete the pod, which the Job counts as a failed attempt.
  Object patch = {{"spec", {{"suspend", true}}},
                  {"metadata",
                   {{"annotations",
                     {{kAnnotationQuotaWaits, std::to_string(waits + 1)},
                      {kAnnotationResumeAt, Rfc(resume_at)},
                      {kAnnotationQuotaMessage, BoundText(obs.message, 1024)}}}}}};
  if (const std::string& rv = k8s::ResourceVersionOf(job); !rv.empty())
    patch["metadata"]["resourceVersion"] = rv;
  d.patch = JobPatch{"", u->job_name, std::move(patch)};
  d.wake_at = resume_at;
  d.quota_wait_since = CreationTime(job).value_or(p.in.now);
}

// A pod that waited too long for a node or an image: keep the Job as the record of the attempt
// but suspend it, so that its pod is removed and never starts later.
void Abandon(const ObservedJob& j, const AttemptObservation& obs, const Planning& p,
             UnitDecision& d) {
  if (p.Record(j).finished) return;  // finished, or abandoned already
  Object patch = {{"spec", {{"suspend", true}}},
                  {"metadata",
                   {{"annotations",
                     {{kAnnotationAbandoned, FailureClassName(obs.failure)},
                      {kAnnotationAbandonedMessage, BoundText(obs.message, 1024)},
                      {kAnnotationAbandonedAt, Rfc(p.in.now)}}}}}};
  d.patch = JobPatch{"", d.state.job_name, std::move(patch)};
  d.state.completion_time = p.in.now;
}

int DisruptionsBefore(const UnitJobs& jobs, size_t last, const Planning& p) {
  int n = 0;
  for (size_t i = 0; i < last; ++i) {
    if (jobs[i] != nullptr && Observe(*jobs[i], p).failure == FailureClass::kDisrupted) ++n;
  }
  return n;
}

void PlanFailedAttempt(const UnitJobs& jobs, const AttemptObservation& obs, const Step& step,
                       const Planning& p, UnitDecision& unit) {
  UnitState* u = &unit.state;
  FailedAttempt f;
  f.attempt = u->attempts;
  f.failure = obs.failure;
  f.disruptions_so_far = DisruptionsBefore(jobs, jobs.size() - 1, p);
  const ObservedJob* first = jobs.front() != nullptr ? jobs.front() : jobs.back();
  f.first_attempt_start = CreationTime(*first->job).value_or(p.in.now);
  f.now = p.in.now;
  // When it failed, from the objects (never from `now`, which would move the retry along).
  f.failed_at = u->completion_time ? u->completion_time : obs.completion_time;
  if (!f.failed_at) f.failed_at = CreationTime(*jobs.back()->job);
  RetryDecision d = DecideRetry(RetrySettingsOf(step), f);
  u->reason = FailureClassName(obs.failure);
  u->message = d.why + (obs.message.empty() ? "" : ": " + obs.message);
  if (!d.retry) {
    u->phase = UnitPhase::kFailed;
    return;
  }
  WallTime next = f.failed_at.value_or(p.in.now) + d.delay;
  u->phase = UnitPhase::kRetrying;
  u->next_attempt_time = next;
  if (p.in.now >= next) {
    u->wants_job = true;
  } else {
    unit.wake_at = next;
  }
}

void PlanSucceeded(const AttemptObservation& obs, const StepStatus* old, bool fan_out_child,
                   UnitState* u) {
  bool pods_gone =
      obs.termination_message.empty() && !fan_out_child && old != nullptr && !old->outputs.empty();
  if (pods_gone) {
    u->outputs = old->outputs;
  } else {
    k8s::Result<StringMap> outputs = ParseOutputs(obs.termination_message);
    u->phase = UnitPhase::kSucceeded;
    if (!outputs.ok()) {
      // The container succeeded; what it wrote is not outputs (a log line, say). The step
      // succeeds without outputs and says why; a dependent that needs one fails naming it.
      u->outputs = StringMap{};
      u->reason = "NoOutputs";
      u->message = "succeeded without outputs: " + outputs.status().message();
      return;
    }
    u->outputs = std::move(outputs).value();
  }
  u->phase = UnitPhase::kSucceeded;
  u->message.clear();
}

// The unit waits out the step's quota hold: a create of it (or of another unit of its step) was
// refused a moment ago. False when the hold is over or a quota grant ends it now.
bool HoldForQuota(const QuotaHold& hold, bool grant_available, const Planning& p, UnitDecision& d) {
  if (p.in.now >= hold.until || TakeQuotaGrant(grant_available, d)) return false;
  UnitState& u = d.state;
  u.phase = UnitPhase::kWaitingForQuota;
  u.wants_job = false;
  u.job_name.clear();
  u.reason = hold.reason;
  u.message = hold.message;
  u.next_attempt_time = hold.until;
  d.wake_at = hold.until;
  d.quota_wait_since = p.in.execution->status.start_time.value_or(p.in.now);
  return true;
}

// No Job yet: start attempt 1, unless a quota refused the create a moment ago.
UnitDecision PlanNotStarted(const QuotaHold* hold, bool grant_available, const Planning& p) {
  UnitDecision d;
  if (hold != nullptr && HoldForQuota(*hold, grant_available, p, d)) return d;
  d.state.wants_job = true;
  return d;
}

}  // namespace

std::optional<QuotaHold> QuotaHoldOf(const Step& step, const StepStatus* old,
                                     const PlanInputs& in) {
  QuotaHold hold;
  int refused = 0;
  for (const QuotaRefusal& r : in.quota_refusals) {
    if (r.step != step.name) continue;
    ++refused;
    hold.refused.emplace_back(r.index, r.attempt);
    hold.message = r.message;
    if (refused == 1 || hold.until < r.at) hold.until = r.at;
  }
  if (refused > 0) {
    int64_t waits = old != nullptr ? old->extra.value("quotaWaits", int64_t{0}) : 0;
    QuotaRefusalWait wait = WaitAfterQuotaRefusals(waits, refused, hold.until);
    hold.until = wait.until;
    hold.waits = wait.waits;
    hold.reason = FailureClassName(FailureClass::kQuotaExceeded);
    return hold;
  }
  if (old == nullptr || old->phase != StepPhase::kWaitingForQuota || !old->job_name.empty() ||
      !old->next_attempt_time) {
    return std::nullopt;
  }
  hold.until = *old->next_attempt_time;
  hold.reason = old->reason;
  hold.message = old->message;
  return hold;
}
bool JobFinished(const Object& job) {
  // Decided, not only ended: SuccessCriteriaMet and FailureTarget count (k8sclient/job_state.h).
  return k8s::OutcomeDecided(k8s::ClassifyJob(job)) ||
         !Annotation(job, kAnnotationAbandoned).empty();
}

void WaitForAdmission(const std::string& queue, UnitState* u) {
  u->phase = UnitPhase::kWaitingForAdmission;
  u->reason = "WaitingForAdmission";
  u->message = "its Job waits for Kueue to admit it (LocalQueue \"" + queue + "\")";
}

RetrySettings RetrySettingsOf(const Step& step) {
  RetrySettings s;
  if (!step.retry_policy) return s;
  const RetryPolicy& r = *step.retry_policy;
  s.has_policy = true;
  // Saturated at the schema's bounds (api_types.h): never a wrapped or negative count.
  s.max_attempts = static_cast<int>(Saturate(r.max_attempts.value_or(1), 1, kMaxRetryAttempts));
  s.interval_seconds =
      static_cast<double>(Saturate(r.interval_seconds.value_or(1), 0, kMaxRetryIntervalSeconds));
  double rate = r.backoff_rate.value_or(2.0);
  s.backoff_rate = std::isfinite(rate) ? std::clamp(rate, 1.0, kMaxBackoffRate) : 2.0;
  if (r.max_interval_seconds) {
    s.max_interval_seconds =
        static_cast<double>(Saturate(*r.max_interval_seconds, 0, kMaxRetryIntervalSeconds));
  }
  if (r.expire_after_minutes) {
    s.expire_after_minutes =
        static_cast<int>(Saturate(*r.expire_after_minutes, 1, kMaxExpireAfterMinutes));
  }
  if (r.retry_on.empty()) {
    for (const char* name : kDefaultRetryOn) s.retry_on.push_back(*ParseFailureClass(name));
  }
  for (const auto& name : r.retry_on) {
    if (auto c = ParseFailureClass(name)) s.retry_on.push_back(*c);
  }
  return s;
}

k8s::Result<StringMap> ParseOutputs(const std::string& text) {
  StringMap out;
  if (text.empty()) return out;
  Object parsed = Object::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return k8s::Status::InvalidArgument(
        "outputs: the termination message is not a JSON object of strings: " +
        BoundText(text, 200));
  }
  for (const auto& [key, value] : parsed.items()) {
    out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

UnitDecision PlanUnit(const UnitJobs& jobs, const Step& step, const StepStatus* old,
                      const QuotaHold* hold, int index, bool fan_out_child, bool grant_available,
                      const Planning& p) {
  if (jobs.empty() || jobs.back() == nullptr) return PlanNotStarted(hold, grant_available, p);
  const ObservedJob& latest = *jobs.back();
  UnitDecision d;
  UnitState& u = d.state;
  u.attempts = static_cast<int>(jobs.size());
  const JobRecord& record = p.Record(latest);
  u.job_name = record.name;
  bool judged = !fan_out_child && old != nullptr && old->job_name == u.job_name && old->phase &&
                (*old->phase == StepPhase::kSucceeded || *old->phase == StepPhase::kFailed ||
                 *old->phase == StepPhase::kRetrying);
  AttemptObservation obs = Observe(latest, p, judged);
  u.start_time = obs.start_time;
  u.completion_time = obs.completion_time;
  u.active = !record.finished;
  switch (obs.phase) {
    case AttemptPhase::kSucceeded:
      PlanSucceeded(obs, old, fan_out_child, &u);
      u.artifacts = RecordedArtifacts(*latest.job);
      if (IsNotebookStep(step) && u.message.empty())
        u.message = NotebookWhereabouts(u.artifacts, u.job_name, false);
      break;
    case AttemptPhase::kRunning:
      u.phase = UnitPhase::kRunning;
      if (obs.settle_by) d.wake_at = obs.settle_by;  // judge it then, pod status or not
      break;
    case AttemptPhase::kPending: {
      // Kueue owns suspend of its Jobs: Stepline never suspends one for quota; a suspended one
      // waits for admission, a quota refusal of its pod is waited out as the Job controller
      // retries it.
      const std::string& queue = KueueQueue(*latest.job);
      if (!queue.empty() && Suspended(*latest.job)) {
        WaitForAdmission(queue, &u);
        break;
      }
      bool quota = obs.failure == FailureClass::kQuotaExceeded;
      if (queue.empty() && (quota || QuotaSuspended(*latest.job))) {
        WaitForQuota(latest, obs, grant_available, p, d);
        break;
      }
      u.phase = quota ? UnitPhase::kWaitingForQuota : UnitPhase::kPending;
      u.message = obs.message;
      u.reason = obs.failure == FailureClass::kNone ? "" : FailureClassName(obs.failure);
      if (obs.failure != FailureClass::kNone)
        d.wake_at = p.in.now + p.in.options.scheduling_timeout / 10;
      break;
    }
    case AttemptPhase::kFailed:
      Abandon(latest, obs, p, d);
      u.active = false;
      PlanFailedAttempt(jobs, obs, step, p, d);
      if (IsNotebookStep(step))
        u.message += "; " + NotebookWhereabouts(RecordedArtifacts(*latest.job), u.job_name, true);
      break;
  }
  // The create of the next attempt was refused by a quota a moment ago: it waits.
  if (u.wants_job && hold != nullptr && hold->waits) {
    const std::pair<int, int> next(index, u.attempts + 1);
    if (std::find(hold->refused.begin(), hold->refused.end(), next) != hold->refused.end())
      HoldForQuota(*hold, grant_available, p, d);
  }
  return d;
}

void StepDecisions::Add(const std::string& step, UnitDecision& d) {
  if (d.patch) {
    d.patch->step = step;
    patches.push_back(std::move(*d.patch));
  }
  if (d.wake_at) KeepEarliest(wake_at, *d.wake_at);
  if (d.quota_wait_since) {
    ++quota_waiting;
    KeepEarliest(quota_waiting_since, *d.quota_wait_since);
  }
  if (d.took_quota_grant) ++quota_grants_used;
}

}  // namespace stepline::reconcilers::planner_internal

namespace stepline::reconcilers {

JobRecord ReadJobRecord(const ObservedJob& j, std::chrono::seconds scheduling_timeout) {
  using k8s::Child;
  using k8s::Object;
  using k8s::StringField;
  JobRecord r;
  const Object& meta = Child(*j.job, "metadata");
  const Object& labels = Child(meta, "labels");
  if (labels.is_object()) {
    r.step = StringField(labels, kLabelStep);
    const std::string& attempt = StringField(labels, kLabelAttempt);
    const std::string& index = StringField(labels, kLabelIndex);
    r.attempt = attempt.empty() ? 0 : std::atoi(attempt.c_str());
    if (r.attempt < 1 || r.attempt > 10'000) r.attempt = 0;
    if (!index.empty()) r.index = std::atoi(index.c_str());
  }
  r.name = StringField(meta, "name");
  r.finished = planner_internal::JobFinished(*j.job);
  // Observed as of no particular time and as never judged: kept only if neither mattered.
  AttemptObservation obs =
      planner_internal::ObserveJob(j, k8s::WallTime{}, scheduling_timeout, false);
  if (obs.reusable) r.observation = std::move(obs);
  return r;
}

}  // namespace stepline::reconcilers
