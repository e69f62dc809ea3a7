// What the controller writes into a status survives the CRDs' structural schemas: a status with
// every field of both kinds set (and the fields the planner keeps beside the typed ones, such
// as a step's quotaWaits) is written through /status to the real API server (KUBECONFIG) and
// read back unchanged. A field the schema does not declare is pruned by the server without an
// error, so only a round trip shows it.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "../reconcilers/api_fixtures.h"
#include "k8sclient/api_client.h"
#include "k8sclient/config.h"
#include "reconcilers/planner.h"
#include "reconcilers/rerun.h"

namespace stepline::reconcilers {
namespace {

using std::chrono::seconds;

constexpr const char* kNamespace = "default";

std::string UniqueName(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(rd() % 1'000'000);
}

// The fixture with the metadata a create may carry: name and namespace only.
k8s::Object Fresh(Json object, const std::string& name) {
  object["metadata"] = {{"name", name}, {"namespace", kNamespace}};
  object.erase("status");
  return object;
}

class StatusSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = k8s::LoadDefault("");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    client_ = k8s::ApiServerClient::New(*config, clock_);
  }
  void TearDown() override {
    // Cleanup only: whether it succeeds does not change what the test found.
    for (auto& [res, name] : created_) (void)client_->Delete(*res, kNamespace, name);
  }

  // Creates the object, writes `status` through /status and returns the status read back.
  Json WriteAndReadStatus(const k8s::Resource& res, const k8s::Object& object, const Json& status) {
    auto created = client_->Create(res, kNamespace, object);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return nullptr;
    created_.emplace_back(&res, k8s::NameOf(*created));
    k8s::Object with_status = *created;
    with_status["status"] = status;
    auto written = client_->UpdateStatus(res, kNamespace, with_status);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    auto got = client_->Get(res, kNamespace, k8s::NameOf(*created));
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->value("status", Json()) : Json();
  }

  k8s::RealClock clock_;
  std::unique_ptr<k8s::ApiServerClient> client_;
  std::vector<std::pair<const k8s::Resource*, std::string>> created_;
};

TEST_F(StatusSchemaTest, PipelineStatusKeepsEveryField) {
  const Json full = fixtures::FullPipeline();
  Json got = WriteAndReadStatus(k8s::resources::kPipelines, Fresh(full, UniqueName("schema-pl")),
                                full["status"]);
  EXPECT_EQ(got, full["status"]) << got.dump(2);
}

// A step waiting after a refused Job create, as the planner writes it: the wait after
// WaitAfterQuotaRefusals, counted in quotaWaits.
void WaitForQuota(StepStatus* step, const std::string& message, k8s::WallTime now) {
  QuotaRefusalWait wait = WaitAfterQuotaRefusals(step->extra.value("quotaWaits", 0), 1, now);
  step->phase = StepPhase::kWaitingForQuota;
  step->reason = "QuotaExceeded";
  step->message = message;
  step->job_name.clear();
  step->next_attempt_time = wait.until;
  step->extra["quotaWaits"] = wait.waits;
}

// The planner's own status: every typed field plus a quota wait recorded on a step and a step a
// re-run reused.
PipelineExecutionStatus PlannerStatusWithQuotaWait(k8s::WallTime now) {
  auto parsed = ParsePipelineExecution(fixtures::FullExecution());
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  PlanResult result;
  result.status = parsed->status;
  WaitForQuota(&result.status.steps[1], "exceeded quota: q1, requested: count/jobs.batch=1", now);
  EXPECT_EQ(result.status.steps[1].extra.value("quotaWaits", 0), 1);
  result.status.steps[0].extra[kReusedFromField] = "run-0";  // a re-run's reused step
  result.status.steps[1].extra[kCachedFromField] = {         // a step taken from the step cache
                                                    {"execution", "run-1"},
                                                    {"step", "approve"},
                                                    {"attempt", 2},
                                                    {"key", std::string(64, 'a')}};
  return result.status;
}

TEST_F(StatusSchemaTest, ExecutionStatusKeepsEveryFieldTheControllerWrites) {
  const k8s::WallTime now = clock_.Now();
  Json status = ToJson(PlannerStatusWithQuotaWait(now));
  ASSERT_EQ(status["steps"][1]["quotaWaits"], 1);
  ASSERT_EQ(status["steps"][0]["reusedFrom"], "run-0");
  ASSERT_EQ(status["steps"][1]["cachedFrom"]["attempt"], 2);
  Json got = WriteAndReadStatus(k8s::resources::kPipelineExecutions,
                                Fresh(fixtures::FullExecution(), UniqueName("schema-plx")), status);
  EXPECT_EQ(got, status) << got.dump(2);
}

// The user-visible consequence: a Job create refused by quota again and again waits 10 s, then
// 20 s, then 40 s; with the counter pruned on its way to the server every wait was 10 s.
TEST_F(StatusSchemaTest, QuotaBackoffGrowsAcrossStatusWrites) {
  const k8s::WallTime now = clock_.Now();
  PipelineExecutionStatus status = PlannerStatusWithQuotaWait(now);
  auto created = client_->Create(k8s::resources::kPipelineExecutions, kNamespace,
                                 Fresh(fixtures::FullExecution(), UniqueName("schema-qw")));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  created_.emplace_back(&k8s::resources::kPipelineExecutions, k8s::NameOf(*created));
  k8s::Object object = *created;
  for (int wait = 2; wait <= 3; ++wait) {
    object["status"] = ToJson(status);
    auto written = client_->UpdateStatus(k8s::resources::kPipelineExecutions, kNamespace, object);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    object = *written;
    auto read = ParsePipelineExecutionStatus(object["status"], "status");
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    PipelineExecutionStatus next = *read;
    WaitForQuota(&next.steps[1], "exceeded quota", now);
    const auto delay = *next.steps[1].next_attempt_time - now;
    EXPECT_EQ(std::chrono::duration_cast<seconds>(delay), seconds(10 << (wait - 1)))
        << "wait " << wait;
    status = next;
  }
}

}  // namespace
}  // namespace stepline::reconcilers
