#include "planner_test_util.h"

#include <utility>

#include "reconcilers/job_builder.h"

namespace stepline::reconcilers::testing {

FakeRun::FakeRun(const Object& pipeline_spec, Object execution_spec) {
  Object pl = {
      {"apiVersion", kApiVersion},
      {"kind", "Pipeline"},
      {"metadata", {{"name", "pl"}, {"namespace", "ml"}, {"uid", "pl-uid"}, {"generation", 3}}},
      {"spec", pipeline_spec}};
  auto parsed = ParsePipeline(pl);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (parsed.ok()) pipeline_ = *parsed;
  if (!execution_spec.contains("pipelineName")) execution_spec["pipelineName"] = "pl";
  Object ex = {
      {"apiVersion", kApiVersion},
      {"kind", "PipelineExecution"},
      {"metadata", {{"name", "run"}, {"namespace", "ml"}, {"uid", "run-uid"}, {"generation", 1}}},
      {"spec", execution_spec}};
  auto parsed_ex = ParsePipelineExecution(ex);
  EXPECT_TRUE(parsed_ex.ok()) << parsed_ex.status().ToString();
  if (parsed_ex.ok()) execution_ = *parsed_ex;
}

PlanResult FakeRun::Plan() {
  PlanInputs in;
  in.execution = &execution_;
  in.pipeline = has_pipeline_ ? &pipeline_ : nullptr;
  in.pipeline_invalid_message = invalid_message;
  in.pipeline_lookup_problem = pipeline_lookup_problem;
  in.now = now_;
  in.quota_grants = std::exchange(quota_grants, 0);
  in.rerun_source = rerun_source;
  in.artifact_repository = artifact_repository;
  in.fan_in_store_refusals = fan_in_store_refusals;
  for (const auto& job : jobs_) {
    ObservedJob o;
    o.job = &job;
    for (const auto& pod : pods_[k8s::NameOf(job)]) o.pods.push_back(&pod);
    for (const auto& e : events_[k8s::NameOf(job)]) o.events.push_back(&e);
    in.jobs.push_back(std::move(o));
  }
  PlanResult r = reconcilers::Plan(in);
  StepCacheIndex empty;
  if (r.step_cache_needed) {  // as the reconciler: plan again with the namespace's index
    in.step_cache = step_cache != nullptr ? step_cache : &empty;
    r = reconcilers::Plan(in);
  }
  // Every plan again with each Job's record read beforehand, as the reconciler's JobRecordMemo
  // gives them (read at another time, never judged): the kept observations must not change it.
  std::vector<JobRecord> records;
  records.reserve(in.jobs.size());
  for (const auto& o : in.jobs) records.push_back(ReadJobRecord(o, in.options.scheduling_timeout));
  for (size_t i = 0; i < in.jobs.size(); ++i) in.jobs[i].record = &records[i];
  ExpectSameResult(reconcilers::Plan(in), r);
  Apply(r);
  for (const StepCacheEntry& e : r.step_cache_writes) {
    if (step_cache != nullptr) AddStepCacheEntry(step_cache, e, now_);
  }
  return r;
}

void ExpectSameResult(const PlanResult& with_records, const PlanResult& without) {
  EXPECT_EQ(ToJson(with_records.status).dump(), ToJson(without.status).dump())
      << "the plan with Job records differs";
  EXPECT_EQ(with_records.requeue_after, without.requeue_after);
  ASSERT_EQ(with_records.actions.size(), without.actions.size());
  for (size_t i = 0; i < without.actions.size(); ++i) {
    const Action& a = with_records.actions[i];
    const Action& b = without.actions[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.job.dump(), b.job.dump()) << i;
    EXPECT_EQ(a.job_name, b.job_name) << i;
    EXPECT_EQ(a.patch.dump(), b.patch.dump()) << i;
    EXPECT_EQ(a.reason, b.reason) << i;
    EXPECT_EQ(a.message, b.message) << i;
    EXPECT_EQ(a.step, b.step) << i;
  }
}

void FakeRun::Apply(const PlanResult& r) {
  last_events.clear();
  for (const auto& a : r.actions) {
    switch (a.kind) {
      case Action::Kind::kCreateJob: {
        Object job = a.job;
        job["metadata"]["uid"] = "job-" + std::to_string(++uid_);
        job["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(now_);
        job["status"] = Object::object();
        EXPECT_EQ(Job(k8s::NameOf(job)), nullptr) << "duplicate Job " << k8s::NameOf(job);
        jobs_.push_back(job);
        break;
      }
      case Action::Kind::kDeleteJob:
        std::erase_if(jobs_, [&](const Object& j) { return k8s::NameOf(j) == a.job_name; });
        pods_.erase(a.job_name);
        break;
      case Action::Kind::kPatchJob:
        if (Object* job = Job(a.job_name)) job->merge_patch(a.patch);
        break;
      case Action::Kind::kEvent:
        last_events.push_back(a);
        break;
    }
  }
  execution_.status = r.status;
}

Object* FakeRun::Job(const std::string& name) {
  for (auto& j : jobs_) {
    if (k8s::NameOf(j) == name) return &j;
  }
  return nullptr;
}

std::vector<std::string> FakeRun::JobNames() const {
  std::vector<std::string> out;
  for (const auto& j : jobs_) out.push_back(k8s::NameOf(j));
  return out;
}

std::string FakeRun::LatestJob(const std::string& step, int index) const {
  std::string best;
  int best_attempt = 0;
  for (const auto& j : jobs_) {
    const Object& labels = j["metadata"]["labels"];
    if (labels[kLabelStep] != step) continue;
    int idx = labels.contains(kLabelIndex) ? std::stoi(labels[kLabelIndex].get<std::string>()) : -1;
    int attempt = std::stoi(labels[kLabelAttempt].get<std::string>());
    if (idx == index && attempt > best_attempt) {
      best = k8s::NameOf(j);
      best_attempt = attempt;
    }
  }
  return best;
}

Object& FakeRun::PodOf(const std::string& job) {
  auto& pods = pods_[job];
  if (pods.empty()) {
    pods.push_back(
        {{"metadata", {{"name", job + "-x"}, {"creationTimestamp", k8s::FormatRfc3339(now_)}}},
         {"status", {{"phase", "Pending"}}}});
  }
  return pods.back();
}

void FakeRun::SetCondition(Object& job, const std::string& type, const std::string& reason,
                           const std::string& message) {
  job["status"]["conditions"].push_back({{"type", type},
                                         {"status", "True"},
                                         {"reason", reason},
                                         {"message", message},
                                         {"lastTransitionTime", k8s::FormatRfc3339(now_)}});
}

void FakeRun::Run(const std::string& job) {
  Object& pod = PodOf(job);
  pod["status"]["phase"] = "Running";
  pod["status"]["containerStatuses"] = {
      {{"name", "step"}, {"state", {{"running", {{"startedAt", k8s::FormatRfc3339(now_)}}}}}}};
}

void FakeRun::Succeed(const std::string& job, const std::string& termination_message) {
  Object& pod = PodOf(job);
  pod["status"]["phase"] = "Succeeded";
  pod["status"]["containerStatuses"] = {{{"name", "step"},
                                         {"state",
                                          {{"terminated",
                                            {{"exitCode", 0},
                                             {"reason", "Completed"},
                                             {"message", termination_message},
                                             {"finishedAt", k8s::FormatRfc3339(now_)}}}}}}};
  SetCondition(*Job(job), "SuccessCriteriaMet", "CompletionsReached");
  SetCondition(*Job(job), "Complete", "CompletionsReached");
}

void FakeRun::FailArtifact(const std::string& job, const std::string& container, int main_exit,
                           const std::string& message) {
  if (main_exit == 0) {
    Succeed(job);
  } else if (main_exit > 0) {
    Fail(job, main_exit);
  } else {
    Object& pod = PodOf(job);
    pod["status"]["phase"] = "Failed";
    pod["status"]["containerStatuses"] = {
        {{"name", "step"}, {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}};
    SetCondition(*Job(job), "FailureTarget", "BackoffLimitExceeded");
    SetCondition(*Job(job), "Failed", "BackoffLimitExceeded");
  }
  PodOf(job)["status"]["initContainerStatuses"] = {
      {{"name", container},
       {"state",
        {{"terminated",
          {{"exitCode", 1},
           {"reason", "Error"},
           {"message", message},
           {"finishedAt", k8s::FormatRfc3339(now_)}}}}}}};
}

void FakeRun::UploadRunning(const std::string& job, const std::string& container) {
  Succeed(job);
  Object& pod = PodOf(job);
  pod["status"]["phase"] = "Running";
  pod["status"]["initContainerStatuses"] = {
      {{"name", container},
       {"started", true},
       {"state", {{"running", {{"startedAt", k8s::FormatRfc3339(now_)}}}}}}};
}

void FakeRun::Fail(const std::string& job, int exit_code, const std::string& reason,
                   const std::string& message) {
  Object& pod = PodOf(job);
  pod["status"]["phase"] = "Failed";
  pod["status"]["containerStatuses"] = {{{"name", "step"},
                                         {"state",
                                          {{"terminated",
                                            {{"exitCode", exit_code},
                                             {"reason", reason},
                                             {"message", message},
                                             {"finishedAt", k8s::FormatRfc3339(now_)}}}}}}};
  SetCondition(*Job(job), "FailureTarget", "BackoffLimitExceeded");
  SetCondition(*Job(job), "Failed", "BackoffLimitExceeded");
}

void FakeRun::FailJobCondition(const std::string& job, const std::string& reason) {
  Fail(job, 143, "Error");
  Job(job)->at("status")["conditions"] = Object::array();
  SetCondition(*Job(job), "Failed", reason, "Job was active longer than specified deadline");
}

void FakeRun::Disrupt(const std::string& job) {
  Fail(job, 137, "Error");
  PodOf(job)["status"]["conditions"] = {{{"type", "DisruptionTarget"},
                                         {"status", "True"},
                                         {"reason", "EvictionByEvictionAPI"},
                                         {"message", "Eviction API: evicting"}}};
}

void FakeRun::DeletePodWhileRunning(const std::string& job) {
  Fail(job, 143, "Error");
  PodOf(job)["metadata"]["deletionTimestamp"] = k8s::FormatRfc3339(now_);
}

void FakeRun::Unschedulable(const std::string& job, const std::string& message) {
  Object& pod = PodOf(job);
  pod["status"]["conditions"] = {{{"type", "PodScheduled"},
                                  {"status", "False"},
                                  {"reason", "Unschedulable"},
                                  {"message", message},
                                  {"lastTransitionTime", k8s::FormatRfc3339(now_)}}};
}

void FakeRun::QuotaRefused(const std::string& job, const std::string& message) {
  events_[job].push_back({{"reason", "FailedCreate"},
                          {"type", "Warning"},
                          {"message", message},
                          {"lastTimestamp", k8s::FormatRfc3339(now_)}});
}

void FakeRun::DropPods(const std::string& job) { pods_.erase(job); }

const StepStatus* FakeRun::StepOf(const std::string& name) const {
  for (const auto& s : execution_.status.steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> EventReasons(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& a : r.actions) {
    if (a.kind == Action::Kind::kEvent) out.push_back(a.reason);
  }
  return out;
}

std::vector<std::string> Created(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& a : r.actions) {
    if (a.kind == Action::Kind::kCreateJob) out.push_back(k8s::NameOf(a.job));
  }
  return out;
}

std::vector<std::string> Deleted(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& a : r.actions) {
    if (a.kind == Action::Kind::kDeleteJob) out.push_back(a.job_name);
  }
  return out;
}

std::string Phase(const StepStatus* s) {
  if (s == nullptr) return "<none>";
  return s->phase ? ToString(*s->phase) : "";
}

std::string Condition(const PipelineExecutionStatus& s, const char* type) {
  const reconcilers::Condition* c = FindCondition(s.conditions, type);
  return c == nullptr ? "" : c->status + "/" + c->reason;
}

std::string StatusOf(const FakeRun& run) {
  const auto& s = const_cast<FakeRun&>(run).execution().status.pipeline_execution_status;
  return s ? ToString(*s) : "";
}

ArtifactRepository TestArtifactRepository() {
  ArtifactRepository r;
  r.bucket = "arts";
  r.prefix = "runs";
  r.endpoint = "http://127.0.0.1:4568";
  r.credentials_secret = "s3-creds";
  r.path_style = true;
  return r;
}

Object Items(int n) {
  Object items = Object::array();
  for (int i = 0; i < n; ++i) items.push_back(i);
  return items;
}

std::string ChildJob(const std::string& step, int index) {
  return "run-" + step + "-" + std::to_string(index) + "-1";
}

Object Steps(Object steps, Object extra) {
  extra["stepDefaults"] = {{"image", "busybox"}};
  extra["steps"] = std::move(steps);
  return extra;
}

Object S(const std::string& name, Object more) {
  more["name"] = name;
  std::string type = more.value("type", "");
  if (!more.contains("command") && type != "Fail" && type != "Notebook") more["command"] = {"true"};
  return more;
}

}  // namespace stepline::reconcilers::testing
