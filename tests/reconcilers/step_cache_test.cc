// Step caching (step_cache.h): durations, the key and its traps, the index and its bounds, and
// the planner with a namespace's index shared by several runs (simulator style, planner_test).
#include "reconcilers/step_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "planner_test_util.h"
#include "reconcilers/step_cache_store.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using testing::Created;
using ::testing::ElementsAre;
using testing::FakeRun;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Phase;
using testing::S;
using testing::StatusOf;
using testing::Steps;

TEST(StepCacheTest, IsoDurations) {
  struct Case {
    std::string text;
    int64_t want;  // seconds; -1: invalid
  };
  const std::vector<Case> cases = {
      {"P30D", 30 * 86400},
      {"PT12H", 12 * 3600},
      {"P1DT6H", 30 * 3600},
      {"p1w", 7 * 86400},
      {"PT90M", 5400},
      {"PT45S", 45},
      {"P1Y", 365 * 86400},
      {"P1M", 30 * 86400},
      {"P1MT1M", 30 * 86400 + 60},
      {"30d", 30 * 86400},
      {"T12H", 12 * 3600},
      {"10d", 10 * 86400},
      {"", -1},
      {"30", -1},
      {"P", -1},
      {"PT", -1},
      {"T", -1},
      {"D", -1},
      {"12H", -1},
      {"P1.5D", -1},
      {"P1H", -1},
      {"PT1D", -1},
      {"P-1D", -1},
      {"P0D", -1},
      {"P1D2D", -1},
      {"P1DT", -1},
      {"P200Y", -1},
      {"P1D ", -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    k8s::Result<std::chrono::seconds> got = ParseIsoDuration(c.text);
    if (c.want < 0) {
      EXPECT_FALSE(got.ok());
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->count(), c.want);
  }
  EXPECT_THAT(ParseIsoDuration("30 days").status().message(), HasSubstr("ISO-8601 duration"));
}

TEST(StepCacheTest, StepDefaultsMergeFieldByField) {
  Step defaults;
  defaults.cache = StepCache{true, "P30D", Json::object()};
  Step step;
  step.name = "a";
  step.cache = StepCache{std::nullopt, "PT1H", Json::object()};
  Step merged = EffectiveStep(defaults, step);
  EXPECT_EQ(merged.cache->enabled, true);
  EXPECT_EQ(merged.cache->expire_after, "PT1H");
  step.cache = StepCache{false, "", Json::object()};
  merged = EffectiveStep(defaults, step);
  EXPECT_EQ(merged.cache->enabled, false) << "a step may turn the default off";
  EXPECT_EQ(merged.cache->expire_after, "P30D");
  EXPECT_FALSE(StepCached(merged));
  step.cache.reset();
  EXPECT_TRUE(StepCached(EffectiveStep(defaults, step)));
  step.for_each = "[1]";
  EXPECT_FALSE(StepCached(EffectiveStep(defaults, step))) << "forEach steps are not cached";
}

// ---- the key ----

struct KeyFixture {
  Step step;
  StepCacheKeyInput in;
  KeyFixture() {
    step.name = "train";
    step.image = "registry.example/ml:1.4";
    step.command = {"python", "train.py", "--rows", "42"};
    step.env = {{"MODE", std::string("fast"), std::nullopt, Json::object()}};
    in.pipeline = "forecast";
    in.parameters = {{"horizon", "1d"}, {"minAccuracy", "0.8"}};
    in.dependencies["prepare"] = StepValues{"Succeeded", {{"rows", "42"}}, {}};
  }
  std::string Key() {
    in.step = &step;
    return StepCacheKey(in);
  }
};

TEST(StepCacheTest, KeyIsSha256Hex) {
  KeyFixture f;
  std::string key = f.Key();
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(KeyFixture().Key(), key) << "the same inputs give the same key";
}

TEST(StepCacheTest, WhatChangesTheKey) {
  const std::string base = KeyFixture().Key();
  struct Case {
    std::string name;
    std::function<void(KeyFixture&)> change;
    bool changes;
  };
  const std::vector<Case> cases = {
      {"a parameter's value", [](KeyFixture& f) { f.in.parameters[0].second = "1w"; }, true},
      {"an upstream output",
       [](KeyFixture& f) { f.in.dependencies["prepare"].outputs["rows"] = "43"; }, true},
      {"an upstream artifact URI",
       [](KeyFixture& f) { f.in.dependencies["prepare"].artifacts["data"] = "s3://b/run2/data"; },
       true},
      {"the image", [](KeyFixture& f) { f.step.image += "-rc"; }, true},
      {"an argument", [](KeyFixture& f) { f.step.args = {"--fast"}; }, true},
      {"an env value", [](KeyFixture& f) { f.step.env[0].value = "slow"; }, true},
      {"a secretKeyRef's key",
       [](KeyFixture& f) {
         f.step.env[0].value.reset();
         f.step.env[0].value_from = EnvVarSource{KeySelector{"db", "password", {}, {}}, {}, {}};
         f.in.step = &f.step;
         std::string before = StepCacheKey(f.in);
         f.step.env[0].value_from->secret_key_ref->key = "token";
         EXPECT_NE(StepCacheKey(f.in), before);
       },
       true},
      {"the memory request",
       [](KeyFixture& f) {
         f.step.resources = ResourceRequirements{{{"memory", "2Gi"}}, {}, {}};
       },
       true},
      {"an input artifact's URI",
       [](KeyFixture& f) {
         Artifact data;
         data.name = "data";
         data.path = "/in/data";
         data.from = "{{steps.prepare.artifacts.d}}";
         f.step.input_artifacts = {data};
         f.in.input_uris["data"] = "s3://b/run-1/d";
         f.in.step = &f.step;
         std::string before = StepCacheKey(f.in);
         f.in.input_uris["data"] = "s3://b/run-2/d";
         EXPECT_NE(StepCacheKey(f.in), before);
       },
       true},
      {"a raw input's text",
       [](KeyFixture& f) {
         Artifact config;
         config.name = "config";
         config.path = "/etc/app.json";
         config.raw = "{\"depth\":\"5\"}";
         f.step.input_artifacts = {config};
         f.in.step = &f.step;
         std::string before = StepCacheKey(f.in);
         f.step.input_artifacts[0].raw = "{\"depth\":\"6\"}";
         EXPECT_NE(StepCacheKey(f.in), before);
       },
       true},
      {"an output artifact's archive",
       [](KeyFixture& f) {
         Artifact model;
         model.name = "model";
         model.path = "/out/";
         f.step.output_artifacts = {model};
         f.in.step = &f.step;
         std::string before = StepCacheKey(f.in);
         f.step.output_artifacts[0].archive = "none";
         EXPECT_EQ(StepCacheKey(f.in), before) << "none is the default";
         f.step.output_artifacts[0].archive = "tgz";
         EXPECT_NE(StepCacheKey(f.in), before);
       },
       true},
      {"the step's name", [](KeyFixture& f) { f.step.name = "train2"; }, true},
      {"a notebook parameter",
       [](KeyFixture& f) {
         f.step.notebook = NotebookSpec{"/nb/report.ipynb", "", Json{{"day", "mon"}}, {}};
         f.in.step = &f.step;
         std::string before = StepCacheKey(f.in);
         f.step.notebook->parameters["day"] = "tue";
         EXPECT_NE(StepCacheKey(f.in), before);
       },
       true},
      {"the pipeline", [](KeyFixture& f) { f.in.pipeline = "other"; }, true},
      {"the timeout", [](KeyFixture& f) { f.step.timeout_seconds = 60; }, false},
      {"the retry policy", [](KeyFixture& f) { f.step.retry_policy = RetryPolicy{}; }, false},
      {"when", [](KeyFixture& f) { f.step.when = "1 == 1"; }, false},
      {"the cache settings",
       [](KeyFixture& f) {
         f.step.cache = StepCache{true, "PT1H", Json::object()};
       },
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    KeyFixture f;
    c.change(f);
    EXPECT_EQ(f.Key() != base, c.changes);
  }
}

// ---- the index ----

StepCacheEntry Entry(const std::string& key, const std::string& execution, k8s::WallTime finished,
                     std::optional<k8s::WallTime> expires = std::nullopt) {
  StepCacheEntry e;
  e.key = key;
  e.pipeline = "pl";
  e.execution = execution;
  e.step = "train";
  e.attempt = 1;
  e.finished = finished;
  e.expires = expires;
  e.outputs = {{"accuracy", "0.91"}};
  e.artifacts = {{"model", "s3://b/" + execution + "/model"}};
  return e;
}

std::string K(char c) { return std::string(64, c); }

TEST(StepCacheTest, IndexRoundTripsThroughItsConfigMap) {
  StepCacheIndex index;
  const k8s::WallTime t0 = testing::T0();
  ASSERT_TRUE(AddStepCacheEntry(&index, Entry(K('a'), "run-1", t0), t0));
  Object cm = NewStepCacheConfigMap("ml", index);
  EXPECT_EQ(cm["metadata"]["labels"][kStepCacheLabel], "true");
  cm["data"]["not-a-key"] = "{}";   // left out
  cm["data"][K('b')] = "not json";  // left out
  cm["metadata"]["resourceVersion"] = "7";
  StepCacheIndex back = ParseStepCacheIndex(cm);
  EXPECT_EQ(back.resource_version, "7");
  ASSERT_EQ(back.entries.size(), 1u);
  const StepCacheEntry& e = back.entries.at(K('a'));
  EXPECT_EQ(e.execution, "run-1");
  EXPECT_EQ(e.finished, t0);
  EXPECT_EQ(e.outputs.at("accuracy"), "0.91");
  EXPECT_EQ(e.artifacts.at("model"), "s3://b/run-1/model");
}

TEST(StepCacheTest, ExpiredEntriesAreIgnoredAndPruned) {
  const k8s::WallTime t0 = testing::T0();
  StepCacheIndex index;
  ASSERT_TRUE(
      AddStepCacheEntry(&index, Entry(K('a'), "run-1", t0, t0 + std::chrono::hours(1)), t0));
  EXPECT_NE(FindUsableEntry(index, K('a'), t0 + std::chrono::minutes(59), std::nullopt), nullptr);
  EXPECT_EQ(FindUsableEntry(index, K('a'), t0 + std::chrono::hours(1), std::nullopt), nullptr)
      << "past its own expiry";
  EXPECT_EQ(FindUsableEntry(index, K('a'), t0 + std::chrono::minutes(31), std::chrono::minutes(30)),
            nullptr)
      << "older than the reader's expireAfter";
  const k8s::WallTime later = t0 + std::chrono::hours(2);
  ASSERT_TRUE(AddStepCacheEntry(&index, Entry(K('b'), "run-2", later), later));
  EXPECT_EQ(index.entries.count(K('a')), 0u) << "pruned by the next write";
  EXPECT_EQ(index.entries.count(K('b')), 1u);
}

TEST(StepCacheTest, TheFirstWriteOfAKeyWins) {
  const k8s::WallTime t0 = testing::T0();
  StepCacheIndex index;
  ASSERT_TRUE(AddStepCacheEntry(&index, Entry(K('a'), "run-1", t0), t0));
  EXPECT_FALSE(AddStepCacheEntry(&index, Entry(K('a'), "run-2", t0), t0));
  EXPECT_EQ(index.entries.at(K('a')).execution, "run-1");
}

TEST(StepCacheTest, TheIndexIsBounded) {
  const k8s::WallTime t0 = testing::T0();
  auto hex = [](size_t i) {
    char text[65];
    std::snprintf(text, sizeof text, "%064zx", i);
    return std::string(text);
  };
  StepCacheIndex index;
  for (size_t i = 0; i < kMaxStepCacheEntries + 4; ++i) {  // as read from a ConfigMap
    index.entries[hex(i)] = Entry(hex(i), "run-" + std::to_string(i), t0 + std::chrono::seconds(i));
  }
  const size_t last = kMaxStepCacheEntries + 4;
  ASSERT_TRUE(AddStepCacheEntry(
      &index, Entry(hex(last), "run-" + std::to_string(last), t0 + std::chrono::seconds(last)),
      t0));
  EXPECT_EQ(index.entries.size(), kMaxStepCacheEntries);
  EXPECT_EQ(index.entries.begin()->second.execution, "run-5") << "the oldest went first";
  EXPECT_LE(StepCacheData(index).dump().size(), kMaxStepCacheBytes + 64 * 1024);

  StepCacheEntry huge = Entry(K('f'), "run-huge", t0);
  huge.outputs["blob"] = std::string(kMaxStepCacheEntryBytes, 'x');
  StepCacheIndex small;
  EXPECT_FALSE(AddStepCacheEntry(&small, huge, t0)) << "too large to cache";
  EXPECT_THAT(small.entries, IsEmpty());

  StepCacheIndex bytes;
  StepCacheEntry big = Entry("", "run", t0);
  big.outputs["blob"] = std::string(kMaxStepCacheEntryBytes / 2, 'x');
  for (size_t i = 0; i < 100; ++i) {
    big.key = hex(i);
    big.finished = t0 + std::chrono::seconds(i);
    AddStepCacheEntry(&bytes, big, t0);
  }
  EXPECT_LE(StepCacheData(bytes).dump().size(), kMaxStepCacheBytes + 1024);
  EXPECT_LT(bytes.entries.size(), 100u);
}

// ---- validation ----

std::vector<std::string> Problems(const Object& spec) {
  Object pl = {{"apiVersion", kApiVersion},
               {"kind", "Pipeline"},
               {"metadata", {{"name", "pl"}, {"namespace", "ml"}}},
               {"spec", spec}};
  k8s::Result<Pipeline> p = ParsePipeline(pl);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? PipelineProblems(*p) : std::vector<std::string>{};
}

TEST(StepCacheTest, ValidationNamesStepAndField) {
  EXPECT_THAT(Problems(Steps({S("a", {{"cache", {{"enabled", true}, {"expireAfter", "P30D"}}}})})),
              IsEmpty());
  EXPECT_THAT(
      Problems(Steps({S("a", {{"cache", {{"enabled", true}, {"expireAfter", "30 days"}}}})})),
      ElementsAre("spec.steps[0] (a).cache.expireAfter: \"30 days\" must be an ISO-8601 "
                  "duration such as P30D or PT12H (SageMaker's 30d and T12H too)"));
  Object defaults = Steps({S("a")});
  defaults["stepDefaults"]["cache"] = {{"enabled", true}, {"expireAfter", "PT0S"}};
  EXPECT_THAT(Problems(defaults),
              ElementsAre("spec.stepDefaults.cache.expireAfter: \"PT0S\" must be longer than 0 "
                          "seconds"));
  EXPECT_THAT(Problems(Steps({S("a", {{"forEach", "[1,2]"}, {"cache", {{"enabled", true}}}})})),
              ElementsAre("spec.steps[0] (a).cache.enabled: not supported on a forEach step (its "
                          "items are not cached)"));
  EXPECT_THAT(
      Problems(Steps({{{"name", "ok"}, {"type", "Approval"}, {"cache", {{"enabled", true}}}}})),
      ElementsAre("spec.steps[0] (ok).cache: ignored by an Approval step"));
}

// ---- the planner, with a namespace's index shared by runs ----

// prepare -> train (cached, reads a parameter and prepare's output) -> report (when on train's
// output, and its command reads it).
Object CachedPipeline(Object cache = {{"enabled", true}}) {
  return Steps(
      {S("prepare", {{"command", {"sh", "-c", "prepare"}}}),
       S("train", {{"dependsOn", {"prepare"}},
                   {"cache", cache},
                   {"command", {"train", "{{parameters.rows}}", "{{steps.prepare.outputs.n}}"}}}),
       S("report", {{"dependsOn", {"train"}},
                    {"when", "{{steps.train.outputs.accuracy}} > 0.5"},
                    {"command", {"report", "{{steps.train.outputs.accuracy}}"}}})},
      {{"parameters", {{{"name", "rows"}, {"default", "100"}}}}});
}

// Runs the pipeline to its end as execution `name`: each step that gets a Job succeeds (prepare
// with output n = prepare_n, train with accuracy 0.91). Returns the Jobs created.
std::vector<std::string> RunToEnd(FakeRun& run, const std::string& name,
                                  const std::string& prepare_n = "7") {
  run.execution().metadata.name = name;
  const std::map<std::string, std::string> outputs = {
      {"prepare", R"({"n": ")" + prepare_n + R"("})"}, {"train", R"({"accuracy": "0.91"})"}};
  for (const std::string step : {"prepare", "train", "report"}) {
    run.Plan();
    const std::string job = name + "-" + step + "-1";
    if (run.Job(job) != nullptr) run.Succeed(job, outputs.count(step) ? outputs.at(step) : "");
  }
  run.Plan();
  EXPECT_EQ(StatusOf(run), "Succeeded");
  return run.JobNames();
}

TEST(StepCacheTest, ASecondRunReusesTheCachedStep) {
  StepCacheIndex ns;
  FakeRun first(CachedPipeline());
  first.step_cache = &ns;
  EXPECT_THAT(RunToEnd(first, "run-1"),
              ElementsAre("run-1-prepare-1", "run-1-train-1", "run-1-report-1"));
  ASSERT_EQ(ns.entries.size(), 1u) << "only train is cached";
  const StepCacheEntry& e = ns.entries.begin()->second;
  EXPECT_EQ(e.execution, "run-1");
  EXPECT_EQ(e.step, "train");
  EXPECT_EQ(e.attempt, 1);
  EXPECT_EQ(e.outputs.at("accuracy"), "0.91");

  FakeRun second(CachedPipeline());
  second.step_cache = &ns;
  EXPECT_THAT(RunToEnd(second, "run-2"), ElementsAre("run-2-prepare-1", "run-2-report-1"))
      << "no Job for train";
  const StepStatus* train = second.StepOf("train");
  EXPECT_EQ(Phase(train), "Succeeded");
  EXPECT_EQ(train->attempts, 0);
  EXPECT_EQ(train->outputs.at("accuracy"), "0.91");
  EXPECT_EQ(train->extra[kCachedFromField]["execution"], "run-1");
  EXPECT_EQ(train->extra[kCachedFromField]["step"], "train");
  EXPECT_EQ(train->extra[kCachedFromField]["attempt"], 1);
  EXPECT_EQ(train->extra[kCachedFromField]["key"], e.key);
  EXPECT_THAT(train->message, HasSubstr("cached: the result of execution \"run-1\""));
  const Object* report = second.Job("run-2-report-1");
  ASSERT_NE(report, nullptr);
  EXPECT_THAT(report->dump(), HasSubstr(R"(["report","0.91"])")) << "the output reaches downstream";
  EXPECT_EQ(ns.entries.size(), 1u) << "a cached step writes nothing";
}

TEST(StepCacheTest, AChangedParameterOrUpstreamOutputRunsTheStep) {
  StepCacheIndex ns;
  FakeRun first(CachedPipeline());
  first.step_cache = &ns;
  RunToEnd(first, "run-1");
  FakeRun other_rows(CachedPipeline(),
                     {{"pipelineParameters", {{{"name", "rows"}, {"value", "200"}}}}});
  other_rows.step_cache = &ns;
  EXPECT_THAT(RunToEnd(other_rows, "run-2"), ::testing::Contains("run-2-train-1"));
  FakeRun other_input(CachedPipeline());
  other_input.step_cache = &ns;
  EXPECT_THAT(RunToEnd(other_input, "run-3", "8"), ::testing::Contains("run-3-train-1"));
  EXPECT_EQ(ns.entries.size(), 3u);
  FakeRun same_again(CachedPipeline());
  same_again.step_cache = &ns;
  EXPECT_THAT(RunToEnd(same_again, "run-4", "8"), ElementsAre("run-4-prepare-1", "run-4-report-1"));
  EXPECT_EQ(same_again.StepOf("train")->extra[kCachedFromField]["execution"], "run-3");
}

TEST(StepCacheTest, FailedAndStoppedAttemptsAreNeverCached) {
  StepCacheIndex ns;
  Object retried = CachedPipeline();
  retried["steps"][1]["retryPolicy"] = {{"maxAttempts", 2}, {"intervalSeconds", 0}};
  FakeRun run(retried);
  run.step_cache = &ns;
  run.Plan();
  run.Succeed("run-prepare-1", R"({"n": "7"})");
  run.Plan();
  run.Fail("run-train-1", 1);
  run.Plan();
  EXPECT_THAT(ns.entries, IsEmpty()) << "a failed attempt";
  run.Plan();
  ASSERT_NE(run.Job("run-train-2"), nullptr);
  run.Succeed("run-train-2", R"({"accuracy": "0.91"})");
  run.Plan();
  ASSERT_EQ(ns.entries.size(), 1u);
  EXPECT_EQ(ns.entries.begin()->second.attempt, 2) << "the attempt that succeeded";

  StepCacheIndex stopped_ns;
  FakeRun stopped(CachedPipeline());
  stopped.step_cache = &stopped_ns;
  stopped.Plan();
  stopped.Succeed("run-prepare-1", R"({"n": "7"})");
  stopped.Plan();
  stopped.Run("run-train-1");
  stopped.execution().spec.stop = true;
  stopped.Plan();
  EXPECT_EQ(stopped.Job("run-train-1"), nullptr) << "deleted by the stop";
  stopped.Plan();
  EXPECT_EQ(StatusOf(stopped), "Stopped");
  EXPECT_THAT(stopped_ns.entries, IsEmpty());

  StepCacheIndex failed_ns;
  FakeRun failed(CachedPipeline());
  failed.step_cache = &failed_ns;
  failed.Plan();
  failed.Succeed("run-prepare-1", R"({"n": "7"})");
  failed.Plan();
  failed.Fail("run-train-1", 1);
  failed.Plan();
  EXPECT_EQ(StatusOf(failed), "Failed");
  EXPECT_THAT(failed_ns.entries, IsEmpty());
}

TEST(StepCacheTest, AnExpiredEntryRunsAgain) {
  StepCacheIndex ns;
  FakeRun first(CachedPipeline({{"enabled", true}, {"expireAfter", "PT1H"}}));
  first.step_cache = &ns;
  RunToEnd(first, "run-1");
  ASSERT_EQ(ns.entries.size(), 1u);
  FakeRun later(CachedPipeline({{"enabled", true}, {"expireAfter", "PT1H"}}));
  later.step_cache = &ns;
  later.Advance(std::chrono::minutes(61));
  EXPECT_THAT(RunToEnd(later, "run-2"), ::testing::Contains("run-2-train-1"));
  ASSERT_EQ(ns.entries.size(), 1u) << "the expired entry was pruned, the new one written";
  EXPECT_EQ(ns.entries.begin()->second.execution, "run-2");
}

TEST(StepCacheTest, OffByDefaultAndOnFromStepDefaults) {
  StepCacheIndex ns;
  Object plain = CachedPipeline();
  plain["steps"][1].erase("cache");
  FakeRun run(plain);
  run.step_cache = &ns;
  RunToEnd(run, "run-1");
  EXPECT_THAT(ns.entries, IsEmpty()) << "no step asked for caching";

  plain["stepDefaults"]["cache"] = {{"enabled", true}};
  for (const std::string name : {"run-2", "run-3"}) {
    FakeRun with_defaults(plain);
    with_defaults.step_cache = &ns;
    RunToEnd(with_defaults, name);
  }
  EXPECT_EQ(ns.entries.size(), 3u) << "prepare, train and report, each once";
}

// ---- the store: resourceVersion-checked writes ----

// ConfigMaps of one namespace with the API server's optimistic concurrency: an update must carry
// the stored resourceVersion (else Conflict), a create of an existing name is AlreadyExists.
// before_write runs once, before the next create or update: another writer's turn.
class VersionedConfigMaps final : public k8s::ObjectReader, public k8s::ObjectWriter {
 public:
  std::function<void()> before_write;
  int writes = 0;

  k8s::Result<Object> Get(const k8s::Resource&, const std::string&,
                          const std::string& name) override {
    auto it = objects_.find(name);
    if (it == objects_.end()) return k8s::Status::NotFound("configmaps \"" + name + "\"");
    return it->second;
  }
  k8s::Result<k8s::ObjectList> List(const k8s::Resource&, const std::string&,
                                    const k8s::ListOptions&) override {
    return k8s::Status::Invalid("not used");
  }
  k8s::Result<Object> Create(const k8s::Resource&, const std::string&, const Object& obj,
                             const k8s::WriteOptions&) override {
    OtherWriterFirst();
    if (objects_.count(k8s::NameOf(obj)) != 0) return k8s::Status::AlreadyExists("exists");
    return Store(obj);
  }
  k8s::Result<Object> Update(const k8s::Resource&, const std::string&, const Object& obj,
                             const k8s::WriteOptions&) override {
    OtherWriterFirst();
    auto it = objects_.find(k8s::NameOf(obj));
    if (it == objects_.end()) return k8s::Status::NotFound("gone");
    if (obj["metadata"].value("resourceVersion", "") != it->second["metadata"]["resourceVersion"])
      return k8s::Status::Conflict("the object has been modified");
    return Store(obj);
  }
  k8s::Result<Object> UpdateStatus(const k8s::Resource&, const std::string&, const Object&,
                                   const k8s::WriteOptions&) override {
    return k8s::Status::Invalid("not used");
  }
  k8s::Result<Object> Patch(const k8s::Resource&, const std::string&, const std::string&,
                            k8s::PatchType, const std::string&, const k8s::WriteOptions&,
                            const std::string&) override {
    return k8s::Status::Invalid("not used");
  }
  k8s::Status Delete(const k8s::Resource&, const std::string&, const std::string& name,
                     const k8s::DeleteOptions&) override {
    objects_.erase(name);
    return k8s::Status::Ok();
  }

 private:
  void OtherWriterFirst() {
    if (auto other = std::exchange(before_write, nullptr)) other();
  }
  Object Store(Object obj) {
    obj["metadata"]["resourceVersion"] = std::to_string(++version_);
    ++writes;
    objects_[k8s::NameOf(obj)] = obj;
    return obj;
  }
  std::map<std::string, Object> objects_;
  int version_ = 0;
};

TEST(StepCacheStoreTest, TwoWritersRacingBothLand) {
  const k8s::WallTime t0 = testing::T0();
  VersionedConfigMaps server;
  // The first write finds no ConfigMap; another execution creates it before our create.
  server.before_write = [&] {
    EXPECT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('b'), "run-b", t0), t0).ok());
  };
  ASSERT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('a'), "run-a", t0), t0).ok());
  // Our next write reads version n; another execution updates to n+1 before our update.
  server.before_write = [&] {
    EXPECT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('c'), "run-c", t0), t0).ok());
  };
  ASSERT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('d'), "run-d", t0), t0).ok());
  k8s::Result<StepCacheIndex> index = ReadStepCache(server, "ml");
  ASSERT_TRUE(index.ok());
  std::vector<std::string> executions;
  for (const auto& [key, e] : index->entries) executions.push_back(e.execution);
  EXPECT_THAT(executions, ElementsAre("run-a", "run-b", "run-c", "run-d")) << "none lost";
  EXPECT_EQ(server.writes, 4) << "each lands once; the refused writes were re-read and retried";
}

TEST(StepCacheStoreTest, TheSameKeyRacingKeepsTheFirstAndWritesNothingMore) {
  const k8s::WallTime t0 = testing::T0();
  VersionedConfigMaps server;
  server.before_write = [&] {
    EXPECT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('a'), "run-1", t0), t0).ok());
  };
  ASSERT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('a'), "run-2", t0), t0).ok());
  EXPECT_EQ(server.writes, 1);
  EXPECT_EQ(ReadStepCache(server, "ml")->entries.at(K('a')).execution, "run-1");
}

TEST(StepCacheStoreTest, AnEndlessConflictGivesUp) {
  const k8s::WallTime t0 = testing::T0();
  VersionedConfigMaps server;
  ASSERT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(K('a'), "run-1", t0), t0).ok());
  int rivals = 0;
  std::function<void()> rival = [&] {
    ++rivals;
    std::string key(64, '0');
    key.back() = static_cast<char>('0' + rivals % 10);
    key[0] = static_cast<char>('a' + rivals % 6);
    EXPECT_TRUE(WriteStepCacheEntry(server, server, "ml", Entry(key, "rival", t0), t0).ok());
    server.before_write = rival;  // always first
  };
  server.before_write = rival;
  k8s::Status s = WriteStepCacheEntry(server, server, "ml", Entry(K('e'), "run-2", t0), t0);
  server.before_write = nullptr;
  EXPECT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_EQ(rivals, kStepCacheWriteAttempts);
}

}  // namespace
}  // namespace stepline::reconcilers
