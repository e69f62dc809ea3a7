// Planner micro-benchmarks (Google Benchmark): the pure Plan() on fan-outs and chains of
// growing size, planned from scratch (no Jobs yet) and re-planned when every Job exists and
// one of them has just finished — the common case of a reconcile.
//
//   build/bin/bench_plan [--benchmark_filter=FanOut]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "reconcilers/planner.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;

k8s::WallTime Now() { return k8s::WallTime{std::chrono::seconds(1'800'000'000)}; }

PipelineExecution Execution(const Object& steps) {
  Object pl = {{"apiVersion", kApiVersion},
               {"kind", "Pipeline"},
               {"metadata", {{"name", "pl"}, {"namespace", "ml"}, {"uid", "u"}, {"generation", 1}}},
               {"spec", {{"stepDefaults", {{"image", "busybox"}}}, {"steps", steps}}}};
  Pipeline pipeline = *ParsePipeline(pl);
  Object ex = {
      {"apiVersion", kApiVersion},
      {"kind", "PipelineExecution"},
      {"metadata", {{"name", "run"}, {"namespace", "ml"}, {"uid", "x"}, {"generation", 1}}},
      {"spec", {{"pipelineName", "pl"}}}};
  PipelineExecution execution = *ParsePipelineExecution(ex);
  PlanInputs in;
  in.execution = &execution;
  in.pipeline = &pipeline;
  in.now = Now();
  execution.status = Plan(in).status;  // takes the snapshot
  return execution;
}

Object FanOutSteps(int items) {
  Object list = Object::array();
  for (int i = 0; i < items; ++i) list.push_back(i);
  return Object::array({{{"name", "f"}, {"forEach", list.dump()}, {"command", {"true"}}}});
}

Object ChainSteps(int steps) {
  Object out = Object::array();
  for (int i = 0; i < steps; ++i) {
    Object s = {{"name", "s" + std::to_string(i)}, {"command", {"true"}}};
    if (i > 0) s["dependsOn"] = {"s" + std::to_string(i - 1)};
    out.push_back(s);
  }
  return out;
}

// The Jobs a first Plan creates, each marked running (or the first one finished).
std::vector<Object> JobsOf(const PlanResult& r, bool one_finished) {
  std::vector<Object> jobs;
  for (const auto& a : r.actions) {
    if (a.kind != Action::Kind::kCreateJob) continue;
    Object job = a.job;
    job["metadata"]["uid"] = "job-" + std::to_string(jobs.size());
    job["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(Now());
    job["status"] = {{"active", 1}};
    jobs.push_back(std::move(job));
  }
  if (one_finished && !jobs.empty()) {
    jobs.front()["status"]["conditions"] = {{{"type", "Complete"},
                                             {"status", "True"},
                                             {"lastTransitionTime", k8s::FormatRfc3339(Now())}}};
  }
  return jobs;
}

void PlanFromScratch(benchmark::State& state, Object steps) {
  PipelineExecution execution = Execution(steps);
  PlanInputs in;
  in.execution = &execution;
  in.now = Now();
  for (auto _ : state) benchmark::DoNotOptimize(Plan(in));
  state.SetComplexityN(state.range(0));
}

void Replan(benchmark::State& state, Object steps) {
  PipelineExecution execution = Execution(steps);
  PlanInputs in;
  in.execution = &execution;
  in.now = Now();
  PlanResult first = Plan(in);
  execution.status = first.status;
  std::vector<Object> jobs = JobsOf(first, /*one_finished=*/true);
  std::vector<Object> pods;  // the finished Job's pod, with its final state
  pods.push_back(
      {{"metadata", {{"name", "p"}, {"creationTimestamp", k8s::FormatRfc3339(Now())}}},
       {"status",
        {{"phase", "Succeeded"},
         {"containerStatuses",
          {{{"state", {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}}}}}}}}});
  for (size_t i = 0; i < jobs.size(); ++i) {
    ObservedJob o{&jobs[i], {}, {}};
    if (i == 0) o.pods.push_back(&pods[0]);
    in.jobs.push_back(o);
  }
  for (auto _ : state) benchmark::DoNotOptimize(Plan(in));
  state.SetComplexityN(state.range(0));
}

void BM_FanOutFromScratch(benchmark::State& s) { PlanFromScratch(s, FanOutSteps(s.range(0))); }
void BM_FanOutReplan(benchmark::State& s) { Replan(s, FanOutSteps(s.range(0))); }
void BM_ChainFromScratch(benchmark::State& s) { PlanFromScratch(s, ChainSteps(s.range(0))); }
void BM_ChainReplan(benchmark::State& s) { Replan(s, ChainSteps(s.range(0))); }

BENCHMARK(BM_FanOutFromScratch)
    ->RangeMultiplier(10)
    ->Range(10, 10000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();
BENCHMARK(BM_FanOutReplan)
    ->RangeMultiplier(10)
    ->Range(10, 10000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();
BENCHMARK(BM_ChainFromScratch)
    ->RangeMultiplier(10)
    ->Range(10, 1000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();
BENCHMARK(BM_ChainReplan)
    ->RangeMultiplier(10)
    ->Range(10, 1000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

}  // namespace
}  // namespace stepline::reconcilers

BENCHMARK_MAIN();
