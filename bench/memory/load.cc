// bench_memory_load: fills the cluster of $KUBECONFIG with what a controller that has run for a
// while sees: one 4-step Pipeline, N finished (Succeeded) PipelineExecutions and M running ones,
// with every step's Job and Pod.
//
//   build/bin/bench_memory_load [--finished N] [--running M] [--namespace NS]
//                               [--concurrency C] [--counts FILE] [--fanout K]
//
// --fanout K: instead, one finished execution of the Pipeline `fan`, whose one step fans out
// over K items (at most about 12,000: the CRD bounds a forEach list at 65536 characters), each
// child with a 200-byte output `v`, with its K Jobs and Pods (issue #22: the status of a large
// fan-in).
//
// What is realistic and what is not:
//  - Every execution is run through the real planner in memory (bench/memory/sim.h), so its
//    status (pipelineSnapshot, steps, conditions) is what the controller writes; its Jobs are
//    BuildStepJob's, their status the local agent's Job controller's, their Pods the Job
//    controller's with the kubelet's status. Objects are then created on the server and their
//    status written through /status; no agent or controller runs during the load.
//  - Finished executions keep their Jobs and Pods (Stepline keeps the history). No Events are
//    created: the API server drops Events after an hour, so old runs have none.
//  - Running executions: the first step finished, the next one running (its Pod Running).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/memory/sim.h"
#include "k8sclient/api_client.h"
#include "k8sclient/config.h"

namespace stepline::bench {
namespace {

using k8s::Object;
using k8s::Result;
namespace res = k8s::resources;

struct Options {
  int finished = 10000;
  int running = 1000;
  int concurrency = 32;
  std::string ns = "bench-memory";
  std::string counts_file;
  int fanout = 0;  // > 0: one execution of a K-child fan-out instead
};

struct Counters {
  std::atomic<int> executions{0}, jobs{0}, pods{0}, failures{0};
  std::atomic<int64_t> requests{0}, bytes{0};
};

Object PipelineObject(const std::string& ns) {
  auto step = [](const char* name, const char* dep, const char* cmd) {
    Object s = {{"name", name}, {"command", {"sh", "-c", cmd}}};
    if (dep != nullptr) s["dependsOn"] = {dep};
    return s;
  };
  Object steps = Object::array(
      {step("prepare", nullptr, "python prepare.py --horizon {{parameters.horizon}}"),
       step("train", "prepare", "python train.py --horizon {{parameters.horizon}} --epochs 20"),
       step("evaluate", "train", "python evaluate.py --min {{parameters.minAccuracy}}"),
       step("register", "evaluate",
            "python register.py --accuracy {{steps.evaluate.outputs.accuracy}}")});
  steps[1]["resources"] = {{"requests", {{"cpu", "4"}, {"memory", "16Gi"}}},
                           {"limits", {{"memory", "16Gi"}}}};
  steps[0]["timeoutSeconds"] = 1800;
  return {{"apiVersion", "stepline.dev/v1alpha1"},
          {"kind", "Pipeline"},
          {"metadata", {{"name", "forecast"}, {"namespace", ns}}},
          {"spec",
           {{"parameters",
             {{{"name", "horizon"}, {"type", "String"}, {"default", "1d"}},
              {{"name", "minAccuracy"}, {"type", "Float"}, {"default", "0.8"}}}},
            {"stepDefaults",
             {{"image", "registry.example/ml:1.4"},
              {"resources", {{"requests", {{"cpu", "1"}, {"memory", "2Gi"}}}}},
              {"retryPolicy", {{"maxAttempts", 3}, {"intervalSeconds", 30}, {"backoffRate", 2}}},
              {"env", {{{"name", "MLFLOW_TRACKING_URI"}, {"value", "http://mlflow.ml:5000"}}}}}},
            {"steps", steps}}}};
}

Object ExecutionObject(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "stepline.dev/v1alpha1"},
          {"kind", "PipelineExecution"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"pipelineName", "forecast"},
            {"pipelineExecutionDisplayName", "weekly retrain " + name},
            {"pipelineParameters", {{{"name", "horizon"}, {"value", "1w"}}}}}}};
}

// --fanout: one step over `items` (a literal list: the CRDs bound a parameter's value at 4096
// characters, a forEach at 65536), each child with an output (no artifact: the simulated pods
// have no upload sidecars).
Object FanPipelineObject(const std::string& ns, int items) {
  Object list = Object::array();
  for (int i = 0; i < items; ++i) list.push_back(i);
  Object fan = {{"name", "fan"},
                {"forEach", list.dump()},
                {"command", {"sh", "-c", "python score.py --shard {{item}}"}},
                {"outputs", {"v"}}};
  return {{"apiVersion", "stepline.dev/v1alpha1"},
          {"kind", "Pipeline"},
          {"metadata", {{"name", "fan"}, {"namespace", ns}}},
          {"spec", {{"stepDefaults", {{"image", "registry.example/ml:1.4"}}}, {"steps", {fan}}}}};
}

bool Check(const k8s::Status& s, const char* what, const std::string& name, Counters& c) {
  c.requests += 1;
  if (s.ok()) return true;
  if (c.failures++ < 10)
    std::fprintf(stderr, "%s %s: %s\n", what, name.c_str(), s.ToString().c_str());
  return false;
}

// Creates obj, then writes `status` through /status; the stored object, or null on failure.
Object CreateWithStatus(k8s::Client& client, const k8s::Resource& r, const std::string& ns,
                        const Object& obj, const Object& status, Counters& c) {
  Result<Object> created = client.Create(r, ns, obj);
  if (!Check(created.status(), "create", k8s::NameOf(obj), c)) return nullptr;
  Object with_status = std::move(created).value();
  with_status["status"] = status;
  Result<Object> written = client.UpdateStatus(r, ns, with_status);
  if (!Check(written.status(), "status", k8s::NameOf(obj), c)) return nullptr;
  c.bytes += static_cast<int64_t>(written->dump().size());
  return std::move(written).value();
}

void LoadOne(k8s::Client& client, const reconcilers::Pipeline& pipeline, const Options& o, int i,
             k8s::WallTime start, Counters& c) {
  const bool finished = i < o.finished;
  char name[32];
  std::snprintf(name, sizeof name, finished ? "done-%05d" : "run-%05d",
                finished ? i : i - o.finished);
  Result<Object> ex = client.Create(res::kPipelineExecutions, o.ns, ExecutionObject(o.ns, name));
  if (!Check(ex.status(), "create", name, c)) return;
  SimulatedExecution sim = Simulate(pipeline, *ex, start, finished);
  for (const SimulatedJob& j : sim.jobs) {
    Object job = CreateWithStatus(client, res::kJobs, o.ns, j.job, j.job_status, c);
    if (job.is_null()) return;
    c.jobs += 1;
    Object pod = PodFor(job, std::hash<std::string>{}(k8s::NameOf(job)), "node-1");
    if (j.finished) pod["metadata"].erase("finalizers");  // counted by the Job controller
    if (CreateWithStatus(client, res::kPods, o.ns, pod, j.pod_status, c).is_null()) return;
    c.pods += 1;
  }
  Object with_status = std::move(ex).value();
  with_status["status"] = sim.status;
  Result<Object> written = client.UpdateStatus(res::kPipelineExecutions, o.ns, with_status);
  if (!Check(written.status(), "status", name, c)) return;
  c.bytes += static_cast<int64_t>(written->dump().size());
  c.executions += 1;
}

// --fanout: the execution, run to its end in memory (its status as the planner writes it), then
// its Jobs and Pods created o.concurrency at a time, and its status written last.
void LoadFanOut(k8s::Client& client, const reconcilers::Pipeline& pipeline, const Options& o,
                k8s::WallTime start, Counters& c) {
  Object ex = {{"apiVersion", "stepline.dev/v1alpha1"},
               {"kind", "PipelineExecution"},
               {"metadata", {{"name", "fan-run"}, {"namespace", o.ns}}},
               {"spec", {{"pipelineName", "fan"}}}};
  Result<Object> created = client.Create(res::kPipelineExecutions, o.ns, ex);
  if (!Check(created.status(), "create", "fan-run", c)) return;
  SimulatedExecution sim = Simulate(pipeline, *created, start, true);
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.concurrency; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < sim.jobs.size(); i = next++) {
        const SimulatedJob& j = sim.jobs[i];
        Object job = CreateWithStatus(client, res::kJobs, o.ns, j.job, j.job_status, c);
        if (job.is_null()) continue;
        c.jobs += 1;
        Object pod = PodFor(job, std::hash<std::string>{}(k8s::NameOf(job)), "node-1");
        pod["metadata"].erase("finalizers");  // counted by the Job controller
        if (!CreateWithStatus(client, res::kPods, o.ns, pod, j.pod_status, c).is_null()) {
          c.pods += 1;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Object with_status = std::move(created).value();
  with_status["status"] = sim.status;
  Result<Object> written = client.UpdateStatus(res::kPipelineExecutions, o.ns, with_status);
  if (!Check(written.status(), "status", "fan-run", c)) return;
  c.bytes += static_cast<int64_t>(written->dump().size());
  c.executions += 1;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--finished") {
      o->finished = std::atoi(value.c_str());
    } else if (arg == "--running") {
      o->running = std::atoi(value.c_str());
    } else if (arg == "--concurrency") {
      o->concurrency = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--namespace") {
      o->ns = value;
    } else if (arg == "--counts") {
      o->counts_file = value;
    } else if (arg == "--fanout") {
      o->fanout = std::atoi(value.c_str());
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

// The Pipeline as stored (created now, or found from an earlier run), parsed.
Result<reconcilers::Pipeline> EnsurePipeline(k8s::Client& client, const std::string& ns,
                                             const Object& pipeline) {
  Result<Object> ns_created = client.Create(res::kNamespaces, "", {{"metadata", {{"name", ns}}}});
  if (!ns_created.ok() && !ns_created.status().IsAlreadyExists()) return ns_created.status();
  Result<Object> p = client.Create(res::kPipelines, ns, pipeline);
  if (!p.ok() && p.status().IsAlreadyExists())
    p = client.Get(res::kPipelines, ns, k8s::NameOf(pipeline));
  if (!p.ok()) return p.status();
  return reconcilers::ParsePipeline(*p);
}

void WriteCounts(const Options& o, const Counters& c, double seconds) {
  Object counts = {{"pipelines", 1},
                   {"executions_finished", o.finished},
                   {"executions_running", o.running},
                   {"executions", c.executions.load()},
                   {"jobs", c.jobs.load()},
                   {"pods", c.pods.load()},
                   {"events", 0},
                   {"stored_json_bytes", c.bytes.load()},
                   {"load_requests", c.requests.load()},
                   {"load_seconds", seconds},
                   {"failures", c.failures.load()}};
  std::printf("%s\n", counts.dump().c_str());
  if (o.counts_file.empty()) return;
  std::ofstream(o.counts_file) << counts.dump() << "\n";
}

int Run(const Options& o) {
  Result<k8s::RestConfig> config = k8s::LoadDefault("");
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 1;
  }
  config->qps = 0;  // as many requests in flight as there are threads
  k8s::RealClock clock;
  auto client = k8s::ApiServerClient::New(*config, clock);
  Result<reconcilers::Pipeline> pipeline = EnsurePipeline(
      *client, o.ns, o.fanout > 0 ? FanPipelineObject(o.ns, o.fanout) : PipelineObject(o.ns));
  if (!pipeline.ok()) {
    std::fprintf(stderr, "pipeline: %s\n", pipeline.status().ToString().c_str());
    return 1;
  }
  Counters c;
  std::atomic<int> next{0};
  const int total = o.fanout > 0 ? 0 : o.finished + o.running;
  const k8s::WallTime start = clock.Now() - std::chrono::hours(72);
  const auto t0 = std::chrono::steady_clock::now();
  if (o.fanout > 0) LoadFanOut(*client, *pipeline, o, start, c);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        LoadOne(*client, *pipeline, o, i, start + std::chrono::seconds(20) * i, c);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  std::fprintf(stderr, "loaded %d executions in %.1fs (%.0f requests/s)\n", c.executions.load(),
               took.count(), c.requests.load() / took.count());
  WriteCounts(o, c, took.count());
  return c.failures.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace stepline::bench

int main(int argc, char** argv) {
  stepline::bench::Options o;
  if (!stepline::bench::ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: %s [--finished N] [--running M] [--namespace NS] [--concurrency C] "
                 "[--counts FILE] [--fanout K]\n",
                 argv[0]);
    return 2;
  }
  return stepline::bench::Run(o);
}
