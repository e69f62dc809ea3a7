// The instance-type table a cluster overrides with its ConfigMap (sagemaker_instances.h,
// instance_types_config.h): parsing the entries, what a compiled step gets, and what a change of
// the ConfigMap does (table installed, Warning Events, Pipelines to validate again).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reconcilers/instance_types_config.h"
#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/sagemaker_instances.h"
#include "tests/fakes/fake_cache.h"
#include "tests/fakes/recording_events.h"

namespace stepline::reconcilers::sagemaker {
namespace {

// Puts the built-in table back when a test ends.
class ClusterTable : public ::testing::Test {
 protected:
  void TearDown() override { SetClusterInstanceTypes(nullptr); }
};

struct Want {
  std::string cpu, memory;
  int64_t gpus = 0;
};

TEST(InstanceTypesTest, EntriesOverrideOrAddTypes) {
  struct Case {
    std::string name, key, value;
    Want want;
  } cases[] = {
      {"all three", "ml.m5.xlarge", "cpu=3500m,memory=14Gi,gpu=0", {"3500m", "14Gi", 0}},
      {"spaces around items", "ml.m5.xlarge", " cpu = 3 , memory = 12Gi ", {"3", "12Gi", 0}},
      {"only memory keeps the built-in cpu", "ml.m5.xlarge", "memory=15Gi", {"4", "15Gi", 0}},
      {"only gpu keeps the rest", "ml.p3.2xlarge", "gpu=2", {"8", "61Gi", 2}},
      {"a new type", "ml.trn1.2xlarge", "cpu=8,memory=32Gi", {"8", "32Gi", 0}},
      {"a new GPU type", "ml.g6.xlarge", "cpu=4,memory=16Gi,gpu=1", {"4", "16Gi", 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ParsedInstanceTypes parsed = ParseInstanceTypes({{c.key, c.value}});
    EXPECT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    std::optional<InstanceType> got = parsed.table.Find(c.key);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->cpu, c.want.cpu);
    EXPECT_EQ(got->memory, c.want.memory);
    EXPECT_EQ(got->gpus, c.want.gpus);
    EXPECT_EQ(parsed.table.Find("ml.c5.xlarge")->cpu, "4");  // others stay built-in
  }
}

TEST(InstanceTypesTest, BadEntriesAreLeftOutNamingKeyAndProblem) {
  struct Case {
    std::string name, key, value, want;
  } cases[] = {
      {"not a quantity", "ml.m5.xlarge", "cpu=4,memory=lots",
       "key \"ml.m5.xlarge\": memory \"lots\" is not a Kubernetes quantity; the built-in value "
       "is used (4 CPUs, 16Gi memory, no GPU)"},
      {"zero cpu", "ml.m5.xlarge", "cpu=0", "cpu \"0\" is not positive"},
      {"negative memory", "ml.m5.xlarge", "memory=-1Gi", "memory \"-1Gi\" is not positive"},
      {"gpu fraction", "ml.p3.2xlarge", "gpu=0.5",
       "gpu \"0.5\" is not a whole number of GPUs (0 to 9999); the built-in value is used (8 "
       "CPUs, 61Gi memory, 1 GPU)"},
      {"unknown item", "ml.m5.xlarge", "cpus=4", "\"cpus\" is not one of cpu, memory, gpu"},
      {"repeated item", "ml.m5.xlarge", "cpu=4,cpu=8", "cpu is given twice"},
      {"no =", "ml.m5.xlarge", "4 CPUs", "\"4 CPUs\" is not NAME=VALUE"},
      {"empty", "ml.m5.xlarge", "", "\"\" is not NAME=VALUE"},
      {"new type without memory", "ml.trn1.2xlarge", "cpu=8",
       "cpu and memory are required for a type the built-in table does not have; the type "
       "stays unknown"},
      {"no ml. name", "m5.xlarge", "cpu=4,memory=16Gi",
       "key \"m5.xlarge\": is not an instance type name (ml.FAMILY.SIZE"},
      {"upper case name", "ml.M5.xlarge", "cpu=4,memory=16Gi", "is not an instance type name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ParsedInstanceTypes parsed = ParseInstanceTypes({{c.key, c.value}, {"ml.c5.large", "cpu=1"}});
    ASSERT_EQ(parsed.problems.size(), 1u);
    EXPECT_NE(parsed.problems[0].find(c.want), std::string::npos) << parsed.problems[0];
    EXPECT_EQ(parsed.table.Find("ml.c5.large")->cpu, "1");  // the good entry is kept
    std::optional<InstanceType> built_in = InstanceTypeTable().Find(c.key);
    std::optional<InstanceType> got = parsed.table.Find(c.key);
    ASSERT_EQ(got.has_value(), built_in.has_value());
    if (got) {
      EXPECT_EQ(got->memory, built_in->memory);  // the built-in value is used
    }
  }
}

Json TrainingDefinition(const std::string& instance_type) {
  Json step = {
      {"Name", "Train"},
      {"Type", "Training"},
      {"Arguments",
       {{"AlgorithmSpecification", {{"TrainingImage", "trainer:1"}}},
        {"ResourceConfig",
         {{"InstanceType", instance_type}, {"InstanceCount", 1}, {"VolumeSizeInGB", 30}}}}}};
  return {{"Version", "2020-12-01"}, {"Steps", Json::array({step})}};
}

TEST_F(ClusterTable, CompiledStepGetsTheClusterValues) {
  auto before = CompileSageMakerDefinition(TrainingDefinition("ml.m5.xlarge"));
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_EQ(before->steps[0].resources->requests.at("memory"), "16Gi");

  ParsedInstanceTypes parsed = ParseInstanceTypes(
      {{"ml.m5.xlarge", "cpu=2,memory=6Gi,gpu=1"}, {"ml.trn1.2xlarge", "cpu=8,memory=32Gi"}});
  SetClusterInstanceTypes(std::make_shared<const InstanceTypeTable>(parsed.table));
  auto after = CompileSageMakerDefinition(TrainingDefinition("ml.m5.xlarge"));
  ASSERT_TRUE(after.ok()) << after.status().message();
  const ResourceRequirements& r = *after->steps[0].resources;
  EXPECT_EQ(r.requests.at("cpu"), "2");
  EXPECT_EQ(r.requests.at("memory"), "6Gi");
  EXPECT_EQ(r.limits.at("memory"), "6Gi");
  EXPECT_EQ(r.requests.at("nvidia.com/gpu"), "1");
  EXPECT_EQ(r.limits.at("nvidia.com/gpu"), "1");
  EXPECT_TRUE(CompileSageMakerDefinition(TrainingDefinition("ml.trn1.2xlarge")).ok());

  SetClusterInstanceTypes(nullptr);  // the ConfigMap deleted
  auto unknown = CompileSageMakerDefinition(TrainingDefinition("ml.trn1.2xlarge"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find(
                "Steps[0] (Train).Arguments.ResourceConfig.InstanceType: \"ml.trn1.2xlarge\" is "
                "not an instance type Stepline knows"),
            std::string::npos)
      << unknown.status().message();
}

TEST_F(ClusterTable, ParameterInstanceTypeUsesTheClusterTable) {
  Json definition = TrainingDefinition("x");
  definition["Parameters"] = {
      {{"Name", "Type"}, {"Type", "String"}, {"DefaultValue", "ml.m5.large"}}};
  definition["Steps"][0]["Arguments"]["ResourceConfig"]["InstanceType"] = {
      {"Get", "Parameters.Type"}};
  auto compiled = CompileSageMakerDefinition(definition);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  SetClusterInstanceTypes(std::make_shared<const InstanceTypeTable>(
      ParseInstanceTypes({{"ml.g6.xlarge", "cpu=4,memory=16Gi,gpu=1"}}).table));
  std::vector<Step> steps = compiled->steps;
  ASSERT_TRUE(
      ApplyParameterFields(compiled->parameter_fields, {{"Type", "ml.g6.xlarge"}}, &steps).ok());
  EXPECT_EQ(steps[0].resources->requests.at("nvidia.com/gpu"), "1");
}

k8s::Object ConfigMap(const std::string& name, const Json& data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "stepline-system"}, {"uid", "cm-1"}}},
          {"data", data}};
}

TEST_F(ClusterTable, ConfigMapChangeInstallsTableRecordsEventsAndRequeuesDefinitions) {
  fakes::FakeCache pipelines;
  pipelines.Put({{"metadata", {{"name", "sm"}, {"namespace", "ml"}}},
                 {"spec", {{"pipelineDefinition", "{}"}}}});
  pipelines.Put({{"metadata", {{"name", "native"}, {"namespace", "ml"}}},
                 {"spec", {{"steps", Json::array()}}}});
  fakes::RecordingEvents events;
  const k8s::Object v1 = ConfigMap(
      kInstanceTypesConfigMap, {{"ml.m5.xlarge", "cpu=2,memory=6Gi"}, {"ml.c5.xlarge", "cpu=x"}});
  std::vector<std::string> keys = OnInstanceTypesChange(nullptr, &v1, pipelines, events);
  EXPECT_EQ(keys, std::vector<std::string>{"ml/sm"});
  EXPECT_EQ(FindInstanceType("ml.m5.xlarge")->memory, "6Gi");
  EXPECT_EQ(FindInstanceType("ml.c5.xlarge")->cpu, "4");
  ASSERT_EQ(events.events.size(), 1u);
  EXPECT_EQ(events.events[0].object, kInstanceTypesConfigMap);
  EXPECT_EQ(events.events[0].type, EventType::kWarning);
  EXPECT_EQ(events.events[0].reason, kReasonInvalidInstanceType);
  EXPECT_EQ(events.events[0].message,
            "ConfigMap stepline-system/stepline-instance-types: key \"ml.c5.xlarge\": cpu \"x\" "
            "is not a Kubernetes quantity; the built-in value is used (4 CPUs, 8Gi memory, no "
            "GPU)");

  // A resync (the same data) changes nothing and records nothing.
  EXPECT_TRUE(OnInstanceTypesChange(&v1, &v1, pipelines, events).empty());
  EXPECT_EQ(events.events.size(), 1u);

  // Deleted: the built-in table again, and the Pipelines look again.
  EXPECT_EQ(OnInstanceTypesChange(&v1, nullptr, pipelines, events),
            std::vector<std::string>{"ml/sm"});
  EXPECT_EQ(FindInstanceType("ml.m5.xlarge")->memory, "16Gi");

  // Another ConfigMap (the artifact repository's informer shares the hook): ignored.
  const k8s::Object other = ConfigMap("stepline-artifact-repository", {{"ml.m5.xlarge", "cpu=1"}});
  EXPECT_TRUE(OnInstanceTypesChange(nullptr, &other, pipelines, events).empty());
  EXPECT_EQ(FindInstanceType("ml.m5.xlarge")->cpu, "4");
}

}  // namespace
}  // namespace stepline::reconcilers::sagemaker
