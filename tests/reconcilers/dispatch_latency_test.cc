#include "reconcilers/dispatch_latency.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace stepline::reconcilers {
namespace {

using std::chrono::milliseconds;

k8s::Object Job(const std::string& condition, const std::string& status = "True") {
  k8s::Object job = {{"metadata", {{"name", "run-1-a-1"}, {"namespace", "ml"}}}};
  if (!condition.empty()) {
    job["status"]["conditions"] = {{{"type", condition}, {"status", status}}};
  }
  return job;
}

// What the sink was given: how many latencies and their sum.
struct Seen {
  std::vector<double> seconds;
  DispatchLatency::Sink Sink() {
    return [this](double s) { seconds.push_back(s); };
  }
  std::pair<uint64_t, double> CountAndSum() const {
    return {seconds.size(), std::accumulate(seconds.begin(), seconds.end(), 0.0)};
  }
};

// Finished as the planner reads it (k8sclient/job_state.h): once the outcome is decided, so the
// clock starts when the planner may start the next step.
TEST(DispatchLatencyTest, TheClockStartsOnceAJobsOutcomeIsDecided) {
  struct Case {
    std::string name;
    k8s::Object job;
    bool want;
  };
  const std::vector<Case> cases = {
      {"no status", Job(""), false},
      {"complete", Job("Complete"), true},
      {"failed", Job("Failed"), true},
      {"complete false", Job("Complete", "False"), false},
      {"success criteria met only", Job("SuccessCriteriaMet"), true},
      {"failure target only", Job("FailureTarget"), true},
      {"suspended", Job("Suspended"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::FakeClock clock;
    DispatchLatency d(clock, nullptr);
    d.OnJobUpdate("ml/run-1", Job(""), c.job);
    EXPECT_EQ(d.PendingFinish("ml/run-1").has_value(), c.want);
  }
}

TEST(DispatchLatencyTest, MeasuresFromTheFinishEventToEachCreateThatFollows) {
  k8s::FakeClock clock;
  Seen seen;
  DispatchLatency d(clock, seen.Sink());
  EXPECT_FALSE(d.PendingFinish("ml/run-1"));  // the first step's create: nothing to measure

  d.OnJobUpdate("ml/run-1", Job(""), Job("Complete"));
  clock.Advance(milliseconds(4));
  auto since = d.PendingFinish("ml/run-1");
  ASSERT_TRUE(since);
  clock.Advance(milliseconds(1));
  d.JobCreated("ml/run-1", *since);  // 5 ms after the finish
  clock.Advance(milliseconds(2));
  d.JobCreated("ml/run-1", *since);  // a second dependent of the same finish: 7 ms
  d.Dispatched("ml/run-1", *since);
  EXPECT_FALSE(d.PendingFinish("ml/run-1"));

  auto [count, sum] = seen.CountAndSum();
  EXPECT_EQ(count, 2u);
  EXPECT_NEAR(sum, 0.012, 1e-9);
}

TEST(DispatchLatencyTest, TheControllersPartEndsAsEachCreateRequestLeaves) {
  k8s::FakeClock clock;
  Seen latency, controller_part;
  DispatchLatency d(clock, latency.Sink(), controller_part.Sink());
  d.OnJobUpdate("ml/run-1", Job(""), Job("Complete"));
  auto since = d.PendingFinish("ml/run-1");
  ASSERT_TRUE(since);
  clock.Advance(milliseconds(3));
  d.JobRequestSending("ml/run-1", *since);  // planned and built: 3 ms
  clock.Advance(milliseconds(20));          // the server's answer
  d.JobCreated("ml/run-1", *since);
  d.Dispatched("ml/run-1", *since);

  EXPECT_EQ(controller_part.CountAndSum().first, 1u);
  EXPECT_NEAR(controller_part.CountAndSum().second, 0.003, 1e-9);
  EXPECT_NEAR(latency.CountAndSum().second, 0.023, 1e-9);
}

TEST(DispatchLatencyTest, OnlyTheTransitionToFinishedCounts) {
  k8s::FakeClock clock;
  Seen seen;
  DispatchLatency d(clock, seen.Sink());
  d.OnJobUpdate("ml/run-1", Job("Complete"), Job("Complete"));  // a later update of a done Job
  // Complete after SuccessCriteriaMet: the outcome was decided already, the planner acted then.
  d.OnJobUpdate("ml/run-1", Job("SuccessCriteriaMet"), Job("Complete"));
  EXPECT_FALSE(d.PendingFinish("ml/run-1"));
  d.OnJobUpdate("ml/run-1", Job(""), Job("SuccessCriteriaMet"));
  EXPECT_TRUE(d.PendingFinish("ml/run-1"));
  EXPECT_FALSE(d.PendingFinish("ml/run-2"));
  d.Forget("ml/run-1");
  EXPECT_FALSE(d.PendingFinish("ml/run-1"));
}

TEST(DispatchLatencyTest, AFinishSeenDuringAReconcileStaysPendingAndTheNewestWins) {
  k8s::FakeClock clock;
  Seen seen;
  DispatchLatency d(clock, seen.Sink());
  d.OnJobUpdate("ml/run-1", Job(""), Job("Complete"));
  auto since = d.PendingFinish("ml/run-1");  // a reconcile begins
  clock.Advance(milliseconds(3));
  d.OnJobUpdate("ml/run-1", Job(""), Job("Failed"));  // another Job finishes meanwhile
  d.JobCreated("ml/run-1", *since);
  d.Dispatched("ml/run-1", *since);
  auto newer = d.PendingFinish("ml/run-1");
  ASSERT_TRUE(newer);  // the next reconcile measures from the newer finish
  EXPECT_EQ(*newer - *since, milliseconds(3));
  clock.Advance(milliseconds(2));
  d.JobCreated("ml/run-1", *newer);
  auto [count, sum] = seen.CountAndSum();
  EXPECT_EQ(count, 2u);
  EXPECT_NEAR(sum, 0.003 + 0.002, 1e-9);
}

}  // namespace
}  // namespace stepline::reconcilers
