#include "controller/event_recorder.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_object_writer.h"

namespace stepline::controller {
namespace {

using fakes::FakeObjectWriter;
using std::chrono::minutes;
using std::chrono::seconds;

k8s::Object Execution(const std::string& name) {
  return {
      {"apiVersion", "stepline.dev/v1alpha1"},
      {"kind", "PipelineExecution"},
      {"metadata",
       {{"name", name}, {"namespace", "ml"}, {"uid", "uid-" + name}, {"resourceVersion", "7"}}}};
}

struct EventRecorderTest : ::testing::Test {
  k8s::FakeClock clock;
  FakeObjectWriter writer;
  metrics::Registry registry;
  EventRecorderOptions Options() {
    EventRecorderOptions o;
    o.instance = "replica-a";
    o.queue_capacity = 5;
    return o;
  }
};

TEST_F(EventRecorderTest, FirstOccurrenceCreatesACoreV1Event) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  recorder.Record(Execution("run-1"), EventType::kWarning, "StepFailed", "step train failed");
  EXPECT_EQ(recorder.Drain(), 1u);
  auto events = writer.Objects(k8s::resources::kEvents);
  ASSERT_EQ(events.size(), 1u);
  const k8s::Object& e = events[0];
  EXPECT_EQ(e["apiVersion"], "v1");
  EXPECT_EQ(e["kind"], "Event");
  EXPECT_EQ(e["metadata"]["namespace"], "ml");
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("run-1.", 0), 0u);
  EXPECT_EQ(e["involvedObject"]["kind"], "PipelineExecution");
  EXPECT_EQ(e["involvedObject"]["apiVersion"], "stepline.dev/v1alpha1");
  EXPECT_EQ(e["involvedObject"]["uid"], "uid-run-1");
  EXPECT_EQ(e["involvedObject"]["name"], "run-1");
  EXPECT_EQ(e["reason"], "StepFailed");
  EXPECT_EQ(e["message"], "step train failed");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["source"]["component"], "stepline-controller");
  EXPECT_EQ(e["reportingComponent"], "stepline-controller");
  EXPECT_EQ(e["reportingInstance"], "replica-a");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["firstTimestamp"], k8s::FormatRfc3339(clock.Now()));
  EXPECT_EQ(e["lastTimestamp"], e["firstTimestamp"]);
}

TEST_F(EventRecorderTest, RepeatWithinTenMinutesPatchesCountAndLastTimestamp) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  const std::string first_ts = k8s::FormatRfc3339(clock.Now());
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "step prepare started");
  recorder.Drain();
  clock.Advance(seconds(30));
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "step prepare started");
  recorder.Drain();
  clock.Advance(minutes(9));
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "step prepare started");
  recorder.Drain();
  auto events = writer.Objects(k8s::resources::kEvents);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 3);
  EXPECT_EQ(events[0]["firstTimestamp"], first_ts);
  EXPECT_EQ(events[0]["lastTimestamp"], k8s::FormatRfc3339(clock.Now()));
  EXPECT_EQ(registry.Counter("stepline_events_total", "", {"result"}).Value({"patched"}), 2);
}

TEST_F(EventRecorderTest, DifferentObjectReasonOrMessageAreSeparateEvents) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "step a started");
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "step b started");
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepSucceeded", "step a started");
  recorder.Record(Execution("run-2"), EventType::kNormal, "StepStarted", "step a started");
  recorder.Drain();
  auto events = writer.Objects(k8s::resources::kEvents);
  EXPECT_EQ(events.size(), 4u) << "same-instant events still get distinct names";
  for (const auto& e : events) EXPECT_EQ(e["count"], 1);
}

TEST_F(EventRecorderTest, RepeatAfterTheWindowCreatesANewEvent) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  recorder.Record(Execution("run-1"), EventType::kWarning, "StepRetrying", "retrying in 30s");
  recorder.Drain();
  clock.Advance(minutes(10));
  recorder.Record(Execution("run-1"), EventType::kWarning, "StepRetrying", "retrying in 30s");
  recorder.Drain();
  auto events = writer.Objects(k8s::resources::kEvents);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["count"], 1);
  EXPECT_EQ(events[1]["count"], 1);
}

TEST_F(EventRecorderTest, EventDeletedByTheServerIsCreatedAgain) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "x");
  recorder.Drain();
  auto name = writer.Objects(k8s::resources::kEvents)[0]["metadata"]["name"].get<std::string>();
  writer.Remove(k8s::resources::kEvents, "ml", name);
  clock.Advance(seconds(1));
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "x");
  recorder.Drain();
  auto events = writer.Objects(k8s::resources::kEvents);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 1);
}

TEST_F(EventRecorderTest, FullQueueDropsAndCountsInsteadOfBlocking) {
  ApiEventRecorder recorder(writer, clock, registry, Options());  // capacity 5, no writer thread
  for (int i = 0; i < 8; ++i) {
    recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", std::to_string(i));
  }
  EXPECT_EQ(recorder.dropped(), 3u);
  EXPECT_EQ(registry.Counter("stepline_events_total", "", {"result"}).Value({"dropped"}), 3);
  EXPECT_EQ(recorder.Drain(), 5u);
}

TEST_F(EventRecorderTest, StopFlushesWhatIsQueued) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  recorder.Start();
  recorder.Record(Execution("run-1"), EventType::kNormal, "ExecutionSucceeded", "done");
  recorder.Stop();
  EXPECT_EQ(writer.Objects(k8s::resources::kEvents).size(), 1u);
  recorder.Record(Execution("run-1"), EventType::kNormal, "ExecutionSucceeded", "late");
  EXPECT_EQ(recorder.dropped(), 1u) << "after Stop nothing is queued";
}

TEST_F(EventRecorderTest, WriteFailuresAreCountedNotThrown) {
  ApiEventRecorder recorder(writer, clock, registry, Options());
  writer.FailWith(k8s::Status::Forbidden("events is forbidden"));
  recorder.Record(Execution("run-1"), EventType::kNormal, "StepStarted", "x");
  recorder.Drain();
  EXPECT_EQ(registry.Counter("stepline_events_total", "", {"result"}).Value({"failed"}), 1);
}

}  // namespace
}  // namespace stepline::controller
