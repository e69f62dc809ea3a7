// Planner micro-benchmarks (Google Benchmark): the pure Plan() on executions of 10, 100, 1,000
// and 10,000 steps in four shapes, each planned two ways:
//
//   FromScratch  the first Plan after the snapshot: no Job exists yet (a fan-out or N roots
//                build N Jobs here; a chain or a wide DAG builds one).
//   Replan       the common reconcile: the Jobs of the run so far exist and one of them has
//                just finished (its pod terminated); the status is the one the last Plan wrote.
//                As the reconciler plans: the inputs are built with the execution's
//                JobRecordMemo from the reconcile before, so only the Job that finished (and
//                its pod, new objects each iteration) is read again; the inputs' building is
//                timed too. Counter records_read: records read per iteration (want 1).
//   ReplanCold   (fan-out only) the same plan with no memo: every Job and pod read, as in the
//                first reconcile after a restart.
//
// Shapes (n = the number of steps, or of children for the fan-out):
// Every Job the run created has its pod: Running, or terminated (exit 0) once the Job finished.
//   Chain   s0 -> s1 -> ... -> s(n-1); re-planned halfway: s0..s(n/2-1) succeeded, s(n/2)'s
//           Job just finished.
//   Wide    root -> n independent steps -> join; the root succeeded, the n Jobs run, one
//           finished.
//   Roots   n independent steps; all n Jobs run, one finished.
//   FanOut  one step with forEach over n items; all n child Jobs run, one finished.
//
// Pipelines of more than kMaxSteps (500) steps fail validation, so Chain/Wide/Roots at 1,000
// and 10,000 only exist here; they measure how the planner grows. Times are CPU time of the
// benchmark thread (the machine is shared). Counter per_step = CPU time / n. After the table a
// summary gives each family's per-step cost at every n, its growth (per-step cost at the
// largest n over the n before it; 1.0 is linear) and the target: FanOutReplan/10000 < 5 ms CPU.
//
//   build/bin/bench_plan [--benchmark_filter=FanOut] [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reconcilers/job_builder.h"
#include "reconcilers/job_name.h"
#include "reconcilers/job_record_memo.h"
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

Object StepNamed(const std::string& name, const std::vector<std::string>& deps) {
  Object s = {{"name", name}, {"command", {"true", "{{execution.name}}"}}};
  if (!deps.empty()) s["dependsOn"] = deps;
  return s;
}

Object FanOutSteps(int items) {
  Object list = Object::array();
  for (int i = 0; i < items; ++i) list.push_back("item-" + std::to_string(i));
  return Object::array(
      {{{"name", "f"}, {"forEach", list.dump()}, {"command", {"train", "--item", "{{item}}"}}}});
}

Object ChainSteps(int steps) {
  Object out = Object::array();
  for (int i = 0; i < steps; ++i) {
    std::vector<std::string> deps;
    if (i > 0) deps.push_back("s" + std::to_string(i - 1));
    out.push_back(StepNamed("s" + std::to_string(i), deps));
  }
  return out;
}

Object WideSteps(int width) {
  Object out = Object::array({StepNamed("root", {})});
  std::vector<std::string> middle;
  for (int i = 0; i < width; ++i) {
    middle.push_back("m" + std::to_string(i));
    out.push_back(StepNamed(middle.back(), {"root"}));
  }
  out.push_back(StepNamed("join", middle));
  return out;
}

Object RootSteps(int steps) {
  Object out = Object::array();
  for (int i = 0; i < steps; ++i) out.push_back(StepNamed("r" + std::to_string(i), {}));
  return out;
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

std::string Rfc(k8s::WallTime t) { return k8s::FormatRfc3339(t); }

Object Pod(const Object& job, Object status) {
  return {{"metadata", {{"name", k8s::NameOf(job) + "-p"}, {"creationTimestamp", Rfc(Now())}}},
          {"status", std::move(status)}};
}

// A run in progress: the execution with the status of its last Plan, its Jobs and their pods.
// Objects are shared and immutable once made, as in the informer's cache: a change makes a new
// object, so a JobRecordMemo sees it.
struct Run {
  using Shared = std::shared_ptr<const Object>;
  PipelineExecution execution;
  std::vector<Shared> jobs;
  std::map<size_t, Shared> pods;  // by index into jobs: the pod of each Job

  // The Plan's inputs; with a memo, records of unchanged Jobs come from it (as in a reconcile).
  PlanInputs Inputs(JobRecordMemo* memo = nullptr) const {
    PlanInputs in;
    in.execution = &execution;
    in.now = Now();
    in.jobs.reserve(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      in.jobs.push_back(ObservedJob{jobs[i].get(), {}, {}});
      std::vector<Shared> related;
      auto pod = pods.find(i);
      if (pod != pods.end()) {
        in.jobs.back().pods.push_back(pod->second.get());
        related.push_back(pod->second);
      }
      if (memo != nullptr) memo->Attach(&in.jobs.back(), jobs[i], std::move(related));
    }
    return in;
  }

  // One reconcile: the Jobs it creates start running (each with its Running pod), its status
  // is written.
  size_t Advance() {
    PlanResult r = Plan(Inputs());
    size_t created = 0;
    for (const auto& a : r.actions) {
      if (a.kind != Action::Kind::kCreateJob) continue;
      Object job = a.job;
      job["metadata"]["uid"] = "job-" + std::to_string(jobs.size());
      job["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(Now());
      job["status"] = {{"active", 1}};
      pods[jobs.size()] = std::make_shared<const Object>(Pod(
          job, {{"phase", "Running"},
                {"containerStatuses", {{{"state", {{"running", {{"startedAt", Rfc(Now())}}}}}}}}}));
      jobs.push_back(std::make_shared<const Object>(std::move(job)));
      ++created;
    }
    execution.status = std::move(r.status);
    return created;
  }

  // The Job finished: Complete, and its pod terminated with exit code 0 (both new objects).
  void Finish(size_t i) {
    Object job = *jobs[i];
    job["status"] = {{"succeeded", 1},
                     {"conditions",
                      {{{"type", "Complete"},
                        {"status", "True"},
                        {"lastTransitionTime", k8s::FormatRfc3339(Now())}}}}};
    Object terminated = {{"exitCode", 0},
                         {"reason", "Completed"},
                         {"startedAt", Rfc(Now())},
                         {"finishedAt", Rfc(Now())}};
    pods[i] = std::make_shared<const Object>(
        Pod(job, {{"phase", "Succeeded"},
                  {"containerStatuses", {{{"state", {{"terminated", terminated}}}}}}}));
    jobs[i] = std::make_shared<const Object>(std::move(job));
  }

  // The same objects again, as new objects (what the memo must read again).
  void Touch(size_t i) {
    jobs[i] = std::make_shared<const Object>(*jobs[i]);
    auto pod = pods.find(i);
    if (pod != pods.end()) pod->second = std::make_shared<const Object>(*pod->second);
  }

  // A finished Job of step `name` as the controller would have created it (the chain's past).
  void AddFinished(const Object& model, const std::string& name) {
    Object job = model;
    job["metadata"]["name"] = JobName("run", name, std::nullopt, 1);
    job["metadata"]["labels"][kLabelStep] = name;
    job["metadata"]["uid"] = "job-" + std::to_string(jobs.size());
    jobs.push_back(std::make_shared<const Object>(std::move(job)));
    Finish(jobs.size() - 1);
  }
};

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

enum class Shape { kChain, kWide, kRoots, kFanOut };

Object StepsOf(Shape shape, int n) {
  switch (shape) {
    case Shape::kChain:
      return ChainSteps(n);
    case Shape::kWide:
      return WideSteps(n);
    case Shape::kRoots:
      return RootSteps(n);
    case Shape::kFanOut:
      return FanOutSteps(n);
  }
  return Object::array();
}

// Brings a run to the state Replan measures; returns how many Jobs are running (want: 1 for a
// chain, n otherwise), or -1 if the execution did not start. *finished: the Job that has just
// finished. memo (may be null): warmed by the reconcile before that Job finished.
int Prepare(Run& run, Shape shape, int n, size_t* finished, JobRecordMemo* memo) {
  if (run.execution.status.pipeline_execution_status != ExecutionStatus::kExecuting) return -1;
  if (shape == Shape::kChain) {
    run.Advance();  // s0's Job
    Object model = *run.jobs.front();
    run.jobs.clear();
    for (int i = 0; i < n / 2; ++i) run.AddFinished(model, "s" + std::to_string(i));
  }
  if (shape == Shape::kWide) {
    run.Advance();  // root's Job
    run.Finish(0);
  }
  size_t before = run.jobs.size();
  size_t running = run.Advance();  // the Jobs whose turn has come
  run.Advance();                   // the status that shows them running
  if (running == 0) return 0;
  if (memo != nullptr) {
    Plan(run.Inputs(memo));
    memo->Sweep();
  }
  run.Finish(before);  // the first of them has just finished
  *finished = before;
  return static_cast<int>(running);
}

// The measured call, in a function of its own so that a profiler can single it out:
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*MeasuredPlan*'
//     build/bin/bench_plan --benchmark_filter=FanOutReplan/10000 --benchmark_min_time=0.01
// (one command line)
[[gnu::noinline]] PlanResult MeasuredPlan(const PlanInputs& in) { return Plan(in); }

void SetCounters(benchmark::State& state) {
  state.SetComplexityN(state.range(0));
  state.counters["per_step"] = benchmark::Counter(
      static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void FromScratch(benchmark::State& state, Shape shape) {
  int n = static_cast<int>(state.range(0));
  Run run{Execution(StepsOf(shape, n)), {}, {}};
  PlanInputs in = run.Inputs();
  for (auto _ : state) benchmark::DoNotOptimize(MeasuredPlan(in));
  SetCounters(state);
}

// memo: as the reconciler plans, with the JobRecordMemo of the reconcile before; each iteration
// the Job that finished and its pod are new objects again, so the memo reads them (and only
// them) again. Without: every Job and pod is read, as in the first reconcile after a restart.
void Replan(benchmark::State& state, Shape shape, bool memo) {
  int n = static_cast<int>(state.range(0));
  Run run{Execution(StepsOf(shape, n)), {}, {}};
  JobRecordMemo records(std::chrono::seconds(600));
  size_t finished = 0;
  int running = Prepare(run, shape, n, &finished, memo ? &records : nullptr);
  if (running != (shape == Shape::kChain ? 1 : n)) {
    state.SkipWithError(("setup: " + std::to_string(running) + " Jobs running").c_str());
    for (auto _ : state) {
    }
    return;
  }
  if (memo) {
    const size_t warm_reads = records.reads();
    for (auto _ : state) {
      state.PauseTiming();
      run.Touch(finished);
      state.ResumeTiming();
      PlanInputs in = run.Inputs(&records);
      benchmark::DoNotOptimize(MeasuredPlan(in));
      records.Sweep();
    }
    state.counters["records_read"] = benchmark::Counter(
        static_cast<double>(records.reads() - warm_reads), benchmark::Counter::kAvgIterations);
  } else {
    PlanInputs in = run.Inputs();
    for (auto _ : state) benchmark::DoNotOptimize(MeasuredPlan(in));
  }
  SetCounters(state);
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

void BM_ChainFromScratch(benchmark::State& s) { FromScratch(s, Shape::kChain); }
void BM_ChainReplan(benchmark::State& s) { Replan(s, Shape::kChain, true); }
void BM_WideFromScratch(benchmark::State& s) { FromScratch(s, Shape::kWide); }
void BM_WideReplan(benchmark::State& s) { Replan(s, Shape::kWide, true); }
void BM_RootsFromScratch(benchmark::State& s) { FromScratch(s, Shape::kRoots); }
void BM_RootsReplan(benchmark::State& s) { Replan(s, Shape::kRoots, true); }
void BM_FanOutFromScratch(benchmark::State& s) { FromScratch(s, Shape::kFanOut); }
void BM_FanOutReplan(benchmark::State& s) { Replan(s, Shape::kFanOut, true); }
void BM_FanOutReplanCold(benchmark::State& s) { Replan(s, Shape::kFanOut, false); }

#define STEPLINE_PLAN_BENCH(fn)       \
  BENCHMARK(fn)                       \
      ->RangeMultiplier(10)           \
      ->Range(10, 10000)              \
      ->Unit(benchmark::kMillisecond) \
      ->Complexity(benchmark::oN)

STEPLINE_PLAN_BENCH(BM_ChainFromScratch);
STEPLINE_PLAN_BENCH(BM_ChainReplan);
STEPLINE_PLAN_BENCH(BM_WideFromScratch);
STEPLINE_PLAN_BENCH(BM_WideReplan);
STEPLINE_PLAN_BENCH(BM_RootsFromScratch);
STEPLINE_PLAN_BENCH(BM_RootsReplan);
STEPLINE_PLAN_BENCH(BM_FanOutFromScratch);
STEPLINE_PLAN_BENCH(BM_FanOutReplan);
STEPLINE_PLAN_BENCH(BM_FanOutReplanCold);

}  // namespace
}  // namespace stepline::reconcilers

namespace {

// The console table, then per family: the per-step cost at each n and its growth, and the
// target of the fan-out re-plan.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred || r.complexity_n <= 0) continue;
      double ms = r.GetAdjustedCPUTime();  // the family's unit is ms
      families_[r.run_name.function_name][r.complexity_n] = ms;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf(
        "\nper-step CPU cost (us/step); growth: per-step cost at the largest n over the one "
        "before (1.0 = linear)\n");
    for (const auto& [name, by_n] : families_) {
      std::printf("  %-22s", name.c_str());
      for (const auto& [n, ms] : by_n) std::printf("  n=%-6lld %8.3f", (long long)n, ms * 1e3 / n);
      if (by_n.size() >= 2) {
        auto last = by_n.rbegin(), before = std::next(last);
        std::printf("  growth %.2f",
                    (last->second / last->first) / (before->second / before->first));
      }
      std::printf("\n");
    }
    auto f = families_.find("BM_FanOutReplan");
    if (f != families_.end() && f->second.count(10000) != 0) {
      double ms = f->second.at(10000);
      std::printf("\ntarget: FanOutReplan/10000 = %.3f ms CPU, target < 5 ms: %s\n", ms,
                  ms < 5.0 ? "MET" : "MISSED");
    }
  }

 private:
  std::map<std::string, std::map<int64_t, double>> families_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
