// bench_fanin: one fan-out of N children (default 10,000) through its life, planned by the pure
// planner and written by the StatusWriter, as the execution reconciler does, to a fake writer
// (no API server: the figures are the controller's own). Each child declares an output `v` and
// an output artifact `m`, writes a 200-byte value, 1% of the first half fail (caught), and a
// step after the fan-out reads {{steps.f.outputs.v}}. Printed per stage: the status and the
// whole object the writer sent (spec + status), the plan's time, and the process's RSS; at the
// end the largest status written against the 256 KiB limit (issue #22) and the peak RSS.
//
// The planner level: at the 4.5 children per second the whole stack ran in bench/e2e's fan-out
// (bench/RESULTS.md), 10,000 children would take 37 minutes through the local agent and 100,000
// six hours. The objects are those the informers' trimmed caches hold
// (tests/reconcilers/lean_fan_out_test_util.h); the items are a parameter longer than the CRD
// lets an execution give (4096 characters): the API cannot express 100,000 items today, the
// planner fed directly plans them. The RSS is this process's (the planner's working set, with
// every Job the first plan creates held in its result at once), not a controller's. For the
// status on a real API server and the controller's RSS with such a run cached (no agent: the run
// is simulated in memory and loaded, about 4 minutes for 10,000 children here):
//   eval "$(testenv/up.sh)"
//   build/bin/bench_memory_load --fanout 10000 --finished 0 --running 0 --namespace bench-fanin
//   bench/memory/run.sh --skip-load --namespace bench-fanin
//
//   build/bin/bench_fanin [--children N] [--value-bytes B]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "lean_fan_out_test_util.h"
#include "reconcilers/read_your_writes.h"
#include "reconcilers/status_bounds.h"
#include "reconcilers/status_writer.h"
#include "tests/fakes/fake_cache.h"
#include "tests/fakes/fake_object_writer.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;

// The process's resident set and its peak, in MiB (/proc/self/status).
std::pair<double, double> RssMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  double rss = 0, peak = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atof(line.c_str() + 6) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::atof(line.c_str() + 6) / 1024;
  }
  return {rss, peak};
}

class Bench {
 public:
  Bench(int children, size_t value_bytes)
      : children_(children),
        value_("{\"v\":\"" + std::string(value_bytes, 'v') + "\"}"),
        run_(children, Step()) {
    Object ex = {{"apiVersion", kApiVersion},
                 {"kind", "PipelineExecution"},
                 {"metadata", {{"name", "run"}, {"namespace", "ml"}, {"uid", "x"}}},
                 {"spec", ToJson(run_.execution().spec)},
                 {"status", Object::object()}};
    cache_.Put(ex);
  }

  int Run() {
    Stage("start: every child's Job");
    for (size_t i = 0; i < run_.jobs(); ++i) run_.Run(i);
    Stage("every child running");
    run_.Finish(0, children_ / 2, value_);
    Stage("half done, 1% of them failed");
    for (size_t i = children_ / 2; i < run_.jobs(); ++i) run_.Succeed(i, value_);
    Stage("all done, and the step after");
    auto [rss, peak] = RssMiB();
    std::printf(
        "children=%d largest_status_bytes=%zu limit=%zu %s largest_object_bytes=%zu "
        "rss_mib=%.0f peak_rss_mib=%.0f\n",
        children_, largest_status_, kMaxStatusBytes,
        largest_status_ < kMaxStatusBytes ? "met" : "MISSED", largest_object_, rss, peak);
    return largest_status_ < kMaxStatusBytes ? 0 : 1;
  }

 private:
  static Object Step() {
    Object outputs = {{"parameters", {"v"}}, {"artifacts", {{{"name", "m"}, {"path", "/out/m"}}}}};
    return {{"command", {"true", "{{item}}"}}, {"outputs", outputs}, {"onFailure", "Continue"}};
  }

  void Stage(const char* what) {
    const auto start = std::chrono::steady_clock::now();
    Object before = (*ryw_.Get("ml", "run"))["status"];
    PlanResult r = run_.Plan();
    const double plan_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    Object current = *ryw_.Get("ml", "run");
    StatusWriter::Settled s =
        writer_.Settle(current, before, ToJson(r.status), StatusWriter::Change::kProgress);
    size_t object = 0;
    if (s.written) object = fake_.calls().back().body.size();
    const size_t status = StatusBytes(r.status);
    largest_status_ = std::max(largest_status_, status);
    largest_object_ = std::max(largest_object_, object);
    auto [rss, peak] = RssMiB();
    std::printf(
        "%-32s status_bytes=%-7zu object_bytes=%-8zu plan_ms=%-8.0f rss_mib=%-6.0f "
        "peak_rss_mib=%.0f\n",
        what, status, object, plan_ms, rss, peak);
  }

  int children_;
  std::string value_;
  testing::LeanFanOut run_;
  fakes::FakeCache cache_;
  k8s::FakeClock clock_;
  ReadYourWritesCache ryw_{cache_, clock_, std::chrono::seconds(30)};
  fakes::FakeObjectWriter fake_;
  StatusWriter writer_{k8s::resources::kPipelineExecutions, fake_, ryw_, clock_, {}};
  size_t largest_status_ = 0;
  size_t largest_object_ = 0;
};

}  // namespace
}  // namespace stepline::reconcilers

int main(int argc, char** argv) {
  int children = 10000;
  size_t value_bytes = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--children") {
      children = std::atoi(argv[i + 1]);
    } else if (flag == "--value-bytes") {
      value_bytes = std::strtoul(argv[i + 1], nullptr, 10);
    } else {
      std::fprintf(stderr, "bench_fanin: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (children < 1) {
    std::fprintf(stderr, "bench_fanin: --children must be at least 1\n");
    return 2;
  }
  return stepline::reconcilers::Bench(children, value_bytes).Run();
}
