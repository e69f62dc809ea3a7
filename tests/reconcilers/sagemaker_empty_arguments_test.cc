// A Training step whose Arguments give no image (the SageMaker SDK's own tests write
// "Arguments": {}): SageMaker's CreatePipeline accepts the definition and the step fails when it
// runs (CreateTrainingJob's ValidationException). Compiled, it is a Fail step with that message
// and the definition has a warning; the Pipeline is valid. With an image in the Pipeline's
// stepDefaults the step runs that image, as before.
#include <gtest/gtest.h>

#include <string>

#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers {
namespace {

Json Definition(const Json& steps) { return {{"Version", "2020-12-01"}, {"Steps", steps}}; }

TEST(SageMakerEmptyArgumentsTest, TrainingWithoutImageFailsWhenItRuns) {
  struct Case {
    std::string name;
    Json arguments;
    std::string message;
  } cases[] = {
      {"empty Arguments", Json::object(),
       "step \"TestStep\": SageMaker's CreateTrainingJob refuses the request "
       "(ValidationException): Arguments.AlgorithmSpecification.TrainingImage is missing (and so "
       "are OutputDataConfig, ResourceConfig, RoleArn, StoppingCondition, which it also "
       "requires); give the image of a container that runs the job"},
      {"only the image missing",
       {{"AlgorithmSpecification", {{"TrainingInputMode", "File"}}},
        {"OutputDataConfig", {{"S3OutputPath", "s3://b/m"}}},
        {"ResourceConfig", {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}}},
        {"RoleArn", "arn:aws:iam::1:role/r"},
        {"StoppingCondition", {{"MaxRuntimeInSeconds", 60}}}},
       "step \"TestStep\": SageMaker's CreateTrainingJob refuses the request "
       "(ValidationException): Arguments.AlgorithmSpecification.TrainingImage is missing; give "
       "the image of a container that runs the job"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Json steps = {
        {{"Name", "TestStep"},
         {"Type", "Training"},
         {"Arguments", c.arguments},
         {"RetryPolicies", {{{"ExceptionType", {"Step.SERVICE_FAULT"}}, {"MaxAttempts", 3}}}}},
        {{"Name", "After"},
         {"Type", "Fail"},
         {"DependsOn", {"TestStep"}},
         {"Arguments", {{"ErrorMessage", "unreachable"}}}}};
    auto got = CompileSageMakerDefinition(Definition(steps), {.fail_steps_without_image = true});
    ASSERT_TRUE(got.ok()) << got.status().message();
    ASSERT_EQ(got->steps.size(), 2u);
    const Step& step = got->steps[0];
    EXPECT_EQ(step.name, "test-step");
    EXPECT_EQ(step.type, StepType::kFail);
    EXPECT_EQ(step.message, c.message);
    EXPECT_TRUE(step.image.empty());
    EXPECT_FALSE(step.retry_policy.has_value());  // a refused request is not retried
    EXPECT_EQ(got->steps[1].depends_on, std::vector<std::string>{"test-step"});
    bool warned = false;
    for (const std::string& w : got->warnings) {
      warned = warned || w.starts_with(
                             "Steps[0] (TestStep).Arguments.AlgorithmSpecification.TrainingImage: "
                             "missing: the step fails when it runs, as in SageMaker");
    }
    EXPECT_TRUE(warned);

    Pipeline p;
    p.metadata.name = "p";
    p.metadata.namespace_ = "ns";
    p.spec.pipeline_definition = Definition(steps);
    k8s::Status valid = ValidatePipeline(p);
    EXPECT_TRUE(valid.ok()) << valid.message();
  }
}

TEST(SageMakerEmptyArgumentsTest, StepDefaultsImageRunsTheStep) {
  Pipeline p;
  p.metadata.name = "p";
  p.metadata.namespace_ = "ns";
  p.spec.pipeline_definition =
      Definition({{{"Name", "TestStep"}, {"Type", "Training"}, {"Arguments", Json::object()}}});
  EXPECT_TRUE(CompileOptionsFor(p.spec).fail_steps_without_image);
  EXPECT_TRUE(CompileOptionsFor(Json::object()).fail_steps_without_image);
  p.spec.step_defaults = Step{};
  p.spec.step_defaults->image = "registry.example/trainer:1";
  EXPECT_FALSE(CompileOptionsFor(p.spec).fail_steps_without_image);
  EXPECT_FALSE(CompileOptionsFor(Json{{"stepDefaults", {{"image", "registry.example/trainer:1"}}}})
                   .fail_steps_without_image);
  auto got = CompileSageMakerDefinition(p.spec.pipeline_definition, CompileOptionsFor(p.spec));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->steps[0].type.value_or(StepType::kContainer), StepType::kContainer);
  EXPECT_EQ(got->steps[0].args, std::vector<std::string>{"train"});
  k8s::Status valid = ValidatePipeline(p);
  EXPECT_TRUE(valid.ok()) << valid.message();
}

TEST(SageMakerEmptyArgumentsTest, AlgorithmNameIsStillRefused) {
  Json steps = {{{"Name", "T"},
                 {"Type", "Training"},
                 {"Arguments", {{"AlgorithmSpecification", {{"AlgorithmName", "my-algo"}}}}}}};
  auto got = CompileSageMakerDefinition(Definition(steps));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("Steps[0] (T).Arguments.AlgorithmSpecification."
                                        "AlgorithmName: algorithm resources are not supported"),
            std::string::npos)
      << got.status().message();
}

}  // namespace
}  // namespace stepline::reconcilers
