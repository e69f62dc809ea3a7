#include "controller/reconcile_loop.h"

#include <gtest/gtest.h>

namespace stepline::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ScriptedReconciler final : public Reconciler {
 public:
  const std::string& Name() const override { return name_; }
  ReconcileOutcome Reconcile(const std::string&) override {
    if (throws) throw std::runtime_error("boom");
    return next;
  }
  ReconcileOutcome next;
  bool throws = false;

 private:
  const std::string name_ = "pipelineexecution";
};

struct ReconcileLoopTest : ::testing::Test {
  k8s::FakeClock clock;
  metrics::Registry registry;
  ScriptedReconciler reconciler;
  ReconcileLoop loop{reconciler, clock, registry};
  double Count(const std::string& result) {
    return registry.Counter("stepline_reconcile_total", "", {"controller", "result"})
        .Value({"pipelineexecution", result});
  }
};

TEST_F(ReconcileLoopTest, ErrorRequeuesWithGrowingBackoff) {
  reconciler.next = ReconcileOutcome::Retry(k8s::Status::Conflict("stale"));
  loop.Enqueue("ml/run-1");
  ASSERT_TRUE(loop.ProcessNext());
  EXPECT_EQ(loop.queue().Len(), 0u);
  clock.Advance(milliseconds(5));
  EXPECT_EQ(loop.queue().Len(), 1u);
  ASSERT_TRUE(loop.ProcessNext());
  clock.Advance(milliseconds(9));
  EXPECT_EQ(loop.queue().Len(), 0u) << "second retry waits 10ms";
  clock.Advance(milliseconds(1));
  EXPECT_EQ(loop.queue().Len(), 1u);
  EXPECT_EQ(loop.queue().NumRequeues("ml/run-1"), 2);
  EXPECT_EQ(Count("error"), 2);
  EXPECT_EQ(registry.Counter("stepline_reconcile_errors_total", "", {"controller"})
                .Value({"pipelineexecution"}),
            2);
  EXPECT_EQ(registry.Histogram("stepline_reconcile_duration_seconds", "", {"controller"}, {})
                .Count({"pipelineexecution"}),
            2u);
}

TEST_F(ReconcileLoopTest, SuccessForgetsTheBackoff) {
  reconciler.next = ReconcileOutcome::Retry(k8s::Status::Conflict("stale"));
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  clock.Advance(milliseconds(5));
  reconciler.next = ReconcileOutcome::Done();
  loop.ProcessNext();
  EXPECT_EQ(loop.queue().NumRequeues("ml/run-1"), 0);
  clock.Advance(seconds(3600));
  EXPECT_EQ(loop.queue().Len(), 0u);
  EXPECT_EQ(Count("success"), 1);
}

TEST_F(ReconcileLoopTest, TerminalErrorDropsTheKey) {
  reconciler.next = ReconcileOutcome::Drop(k8s::Status::Invalid("bad spec"));
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  clock.Advance(seconds(3600));
  EXPECT_EQ(loop.queue().Len(), 0u);
  EXPECT_EQ(loop.queue().NumRequeues("ml/run-1"), 0);
  EXPECT_EQ(Count("dropped"), 1);
}

TEST_F(ReconcileLoopTest, RequeueAfterWaitsExactlyThatLong) {
  reconciler.next = ReconcileOutcome::After(seconds(30));
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  clock.Advance(seconds(29));
  EXPECT_EQ(loop.queue().Len(), 0u);
  clock.Advance(seconds(1));
  EXPECT_EQ(loop.queue().Len(), 1u);
  EXPECT_EQ(loop.queue().NumRequeues("ml/run-1"), 0);
  EXPECT_EQ(Count("requeue_after"), 1);
}

TEST_F(ReconcileLoopTest, TheNewestOutcomeReplacesAnEarlierWakeUp) {
  reconciler.next = ReconcileOutcome::After(seconds(1));
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  reconciler.next = ReconcileOutcome::Done();  // an event came first; all is settled now
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  clock.Advance(seconds(2));
  EXPECT_EQ(loop.queue().Len(), 0u) << "the earlier reconcile's wake-up was superseded";
  reconciler.next = ReconcileOutcome::After(seconds(5));
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  reconciler.next = ReconcileOutcome::After(seconds(30));
  loop.Enqueue("ml/run-1");
  loop.ProcessNext();
  clock.Advance(seconds(29));
  EXPECT_EQ(loop.queue().Len(), 0u) << "the newest outcome's time counts";
  clock.Advance(seconds(1));
  EXPECT_EQ(loop.queue().Len(), 1u);
}

TEST_F(ReconcileLoopTest, AThrowingReconcilerIsRetriedNotFatal) {
  reconciler.throws = true;
  loop.Enqueue("ml/run-1");
  ASSERT_TRUE(loop.ProcessNext());
  EXPECT_EQ(Count("error"), 1);
  EXPECT_EQ(loop.queue().NumRequeues("ml/run-1"), 1);
}

TEST_F(ReconcileLoopTest, ShutDownEndsProcessing) {
  loop.ShutDown();
  EXPECT_FALSE(loop.ProcessNext());
}

}  // namespace
}  // namespace stepline::controller
