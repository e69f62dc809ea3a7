#include "lean_fan_out_test_util.h"

#include <utility>

namespace stepline::reconcilers::testing {

using k8s::Object;

namespace {

Object ItemList(int n) {
  Object items = Object::array();
  for (int i = 0; i < n; ++i) items.push_back(i);
  return items;
}

std::string NameOf(const Object& o) { return o["metadata"]["name"]; }

}  // namespace

LeanFanOut::LeanFanOut(int children, const Object& step) {
  k8s::ParseRfc3339("2026-11-22T12:00:00Z", &now_);
  Object f = step;
  f["name"] = "f";
  f["forEach"] = "{{parameters.items}}";
  Object g = {{"name", "g"}, {"dependsOn", {"f"}}, {"command", {"echo", "{{steps.f.outputs.v}}"}}};
  Object pl = {{"apiVersion", kApiVersion},
               {"kind", "Pipeline"},
               {"metadata", {{"name", "pl"}, {"namespace", "ml"}, {"uid", "u"}}},
               {"spec",
                {{"stepDefaults", {{"image", "busybox"}}},
                 {"parameters", {{{"name", "items"}, {"type", "List"}}}},
                 {"steps", {f, g}}}}};
  pipeline_ = *ParsePipeline(pl);
  Object given = Object::array({{{"name", "items"}, {"value", ItemList(children).dump()}}});
  Object ex = {{"apiVersion", kApiVersion},
               {"kind", "PipelineExecution"},
               {"metadata", {{"name", "run"}, {"namespace", "ml"}, {"uid", "x"}}},
               {"spec", {{"pipelineName", "pl"}, {"pipelineParameters", given}}}};
  execution_ = *ParsePipelineExecution(ex);
}

PlanResult LeanFanOut::Plan() {
  PlanInputs in;
  in.execution = &execution_;
  in.pipeline = &pipeline_;
  in.now = now_;
  ArtifactRepository repository;
  repository.bucket = "arts";
  repository.endpoint = "http://127.0.0.1:4568";
  in.artifact_repository = repository;
  in.jobs.reserve(jobs_.size());
  for (size_t i = 0; i < jobs_.size(); ++i) in.jobs.push_back({&jobs_[i], {&pods_[i]}, {}});
  PlanResult r = reconcilers::Plan(in);
  for (const Action& a : r.actions) {
    if (a.kind == Action::Kind::kCreateJob) Keep(a.job);
  }
  r.actions.clear();
  now_ += std::chrono::seconds(10);
  execution_.status = r.status;
  return r;
}

void LeanFanOut::Run(size_t i) {
  Object running = {{"running", {{"startedAt", At()}}}};
  pods_[i]["status"] = {{"phase", "Running"},
                        {"containerStatuses", {{{"name", "step"}, {"state", running}}}}};
}

void LeanFanOut::Succeed(size_t i, const std::string& outputs) {
  Terminate(i, 0, "Completed", outputs);
  Condition(i, "SuccessCriteriaMet");
  Condition(i, "Complete");
}

void LeanFanOut::Fail(size_t i) {
  Terminate(i, 1, "Error", "exit status 1: " + std::string(300, 'e'));
  Condition(i, "FailureTarget");
  Condition(i, "Failed");
}

void LeanFanOut::Finish(size_t from, size_t to, const std::string& outputs) {
  for (size_t i = from; i < to; ++i) {
    if (i % 100 == 7) {
      Fail(i);
    } else {
      Succeed(i, outputs);
    }
  }
}

const StepStatus* LeanFanOut::StepOf(const std::string& name) const {
  for (const auto& s : execution_.status.steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string LeanFanOut::At() const { return k8s::FormatRfc3339(now_); }

// The Job as far as the planner reads it (what the informer's trimmed cache holds of it).
void LeanFanOut::Keep(const Object& created) {
  const Object& meta = created["metadata"];
  Object job = {{"metadata",
                 {{"name", meta["name"]},
                  {"uid", "job-" + std::to_string(jobs_.size())},
                  {"creationTimestamp", At()},
                  {"labels", meta["labels"]}}},
                {"status", Object::object()}};
  if (meta.contains("annotations")) job["metadata"]["annotations"] = meta["annotations"];
  jobs_.push_back(std::move(job));
  pods_.push_back(
      {{"metadata", {{"name", NameOf(jobs_.back()) + "-x"}}}, {"status", {{"phase", "Pending"}}}});
}

void LeanFanOut::Terminate(size_t i, int code, const std::string& reason,
                           const std::string& message) {
  Object terminated = {
      {"exitCode", code}, {"reason", reason}, {"message", message}, {"finishedAt", At()}};
  pods_[i]["status"] = {
      {"phase", code == 0 ? "Succeeded" : "Failed"},
      {"containerStatuses", {{{"name", "step"}, {"state", {{"terminated", terminated}}}}}}};
}

void LeanFanOut::Condition(size_t i, const std::string& type) {
  jobs_[i]["status"]["conditions"].push_back(
      {{"type", type}, {"status", "True"}, {"lastTransitionTime", At()}});
}

}  // namespace stepline::reconcilers::testing
