// bench_api_baseline: the most "step dispatches" per second the API server of $KUBECONFIG
// accepts from the project's own client, where one dispatch is exactly the controller's two
// writes for a step: a Job create and a PUT of an execution's /status. Run with the
// controller's concurrency (--workers) and its client (ApiServerClient::New, one multiplexed
// HTTP/2 connection; the client-side rate limit is off unless --qps is given): the physical
// limit the controller's throughput is compared with.
//
//   eval "$(testenv/up.sh)"; build/bin/bench_api_baseline [--steps N] [--workers W] [--json F]
//
// Jobs are created suspended, so that a local agent beside the server leaves them alone. The
// executions it writes name a Pipeline that does not exist; run it before a controller starts.
// Everything lives in a fresh namespace, deleted at the end.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "k8sclient/api_client.h"

namespace stepline::k8s {
namespace {

struct Options {
  int steps = 2000;
  int workers = 2;
  double qps = 0;
  std::string json_path;
};

Object BaselineJob(const std::string& ns, const std::string& name) {
  Object container = {
      {"name", "step"}, {"image", "registry.example/ml:1.4"}, {"command", Object::array({"true"})}};
  return {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels", {{"stepline.dev/execution", "baseline"}, {"stepline.dev/step", "s"}}}}},
      {"spec",
       {{"suspend", true},
        {"backoffLimit", 0},
        {"template",
         {{"spec", {{"restartPolicy", "Never"}, {"containers", Object::array({container})}}}}}}}};
}

Object BaselineExecution(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "stepline.dev/v1alpha1"},
          {"kind", "PipelineExecution"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"pipelineName", "api-baseline-absent"}}}};
}

// A status of the size and shape the controller writes for a 10-step chain.
Object BaselineStatus(int step) {
  Object steps = Object::array();
  for (int i = 0; i < 10; ++i) {
    steps.push_back({{"name", "s" + std::to_string(i)},
                     {"phase", i < step ? "Succeeded" : (i == step ? "Running" : "Pending")},
                     {"attempts", i <= step ? 1 : 0}});
  }
  return {{"pipelineExecutionStatus", "Executing"},
          {"progress", std::to_string(step) + "/10"},
          {"steps", steps}};
}

struct Totals {
  std::atomic<int> creates{0}, status_writes{0}, failures{0};
};

// Worker w: its own execution; dispatches steps w, w+workers, ... (create, then status PUT).
void Dispatch(ApiServerClient& client, const std::string& ns, int w, const Options& opts,
              Totals* totals) {
  Result<Object> ex = client.Create(resources::kPipelineExecutions, ns,
                                    BaselineExecution(ns, "baseline-" + std::to_string(w)));
  if (!ex.ok()) {
    std::fprintf(stderr, "creating an execution: %s\n", ex.status().ToString().c_str());
    ++totals->failures;
    return;
  }
  Object current = std::move(ex).value();
  for (int i = w; i < opts.steps; i += opts.workers) {
    if (client.Create(resources::kJobs, ns, BaselineJob(ns, "baseline-job-" + std::to_string(i)))
            .ok()) {
      ++totals->creates;
    } else {
      ++totals->failures;
    }
    current["status"] = BaselineStatus(i % 10);
    Result<Object> written = client.UpdateStatus(resources::kPipelineExecutions, ns, current);
    if (!written.ok()) {
      ++totals->failures;
      continue;
    }
    current = std::move(written).value();
    ++totals->status_writes;
  }
}

bool ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    if (arg == "--steps") {
      opts->steps = std::atoi(value.c_str());
    } else if (arg == "--workers") {
      opts->workers = std::atoi(value.c_str());
    } else if (arg == "--qps") {
      opts->qps = std::atof(value.c_str());
    } else if (arg == "--json") {
      opts->json_path = value;
    } else {
      return false;
    }
  }
  return opts->steps > 0 && opts->workers > 0 && opts->qps >= 0;
}

void WriteJson(const Options& opts, double seconds, const Totals& t) {
  if (opts.json_path.empty()) return;
  Object out = {{"workers", opts.workers},
                {"qps_limit", opts.qps},
                {"steps", opts.steps},
                {"seconds", seconds},
                {"creates", t.creates.load()},
                {"status_writes", t.status_writes.load()},
                {"failures", t.failures.load()},
                {"dispatches_per_second", t.status_writes.load() / seconds},
                {"writes_per_second", (t.creates.load() + t.status_writes.load()) / seconds}};
  std::ofstream(opts.json_path) << out.dump(2) << "\n";
}

int Run(const Options& opts) {
  Result<RestConfig> config = LoadDefault("");
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n(start a server: eval \"$(testenv/up.sh)\")\n",
                 config.status().ToString().c_str());
    return 1;
  }
  config->qps = opts.qps;
  config->burst = std::max(1, static_cast<int>(opts.qps * 2));
  RealClock clock;
  auto client = ApiServerClient::New(*config, clock);
  const std::string ns = "api-baseline-" + std::to_string(getpid());
  if (auto r = client->Create(resources::kNamespaces, "", {{"metadata", {{"name", ns}}}});
      !r.ok()) {
    std::fprintf(stderr, "creating namespace %s: %s\n", ns.c_str(), r.status().ToString().c_str());
    return 1;
  }
  // Warm up the connection and both resources' storage.
  (void)client->Create(resources::kJobs, ns, BaselineJob(ns, "baseline-warmup"));
  Totals totals;
  const MonoTime start = clock.MonotonicNow();
  std::vector<std::thread> threads;
  for (int w = 0; w < opts.workers; ++w) {
    threads.emplace_back([&, w] { Dispatch(*client, ns, w, opts, &totals); });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(clock.MonotonicNow() - start).count();
  std::printf(
      "api_baseline: %d step dispatches (Job create + execution /status PUT), %d in "
      "flight, client qps limit %s, server %s\n",
      opts.steps, opts.workers, opts.qps > 0 ? std::to_string(opts.qps).c_str() : "off",
      config->server.c_str());
  std::printf(
      "  %.1f s  %.0f dispatches/s  %.0f writes/s  creates=%d status_writes=%d "
      "failures=%d\n",
      seconds, totals.status_writes.load() / seconds,
      (totals.creates.load() + totals.status_writes.load()) / seconds, totals.creates.load(),
      totals.status_writes.load(), totals.failures.load());
  WriteJson(opts, seconds, totals);
  (void)client->Delete(resources::kNamespaces, "", ns);
  return totals.failures.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace stepline::k8s

int main(int argc, char** argv) {
  stepline::k8s::Options opts;
  if (!stepline::k8s::ParseArgs(argc, argv, &opts)) {
    std::fprintf(stderr, "usage: %s [--steps N] [--workers W] [--qps Q] [--json FILE]\n", argv[0]);
    return 2;
  }
  return stepline::k8s::Run(opts);
}
