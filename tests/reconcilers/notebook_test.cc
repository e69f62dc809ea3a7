// Notebook steps (reconcilers/notebook.h): the API, validation, the Job's command and volume, the
// typed parameters, the executed notebook as the artifact "notebook", and the step's message.
#include "reconcilers/notebook.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "planner_test_util.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers::testing {
namespace {

using ::testing::HasSubstr;

// evaluate publishes outputs; train is a Notebook step fanned out over the horizons, with
// parameters from a String, an Integer and a List parameter, the item and evaluate's output.
Object Forecast() {
  Object nb = {{"path", "/nb/train.ipynb"},
               {"kernel", "python3"},
               {"parameters",
                {{"horizon", "{{item}}"},
                 {"epochs", "{{parameters.epochs}}"},
                 {"countries", "{{parameters.countries}}"},
                 {"code", "{{parameters.code}}"},
                 {"accuracy", "{{steps.evaluate.outputs.accuracy}}"},
                 {"label", "run {{execution.name}} $(HOME)"},
                 {"grid", {1, "{{parameters.epochs}}", {{"lr", 0.1}}}}}}};
  Object params = Object::parse(R"([
      {"name": "epochs", "type": "Integer", "default": "3"},
      {"name": "code", "type": "String", "default": "007"},
      {"name": "countries", "type": "List", "default": "[\"fr\", \"de\"]"}])");
  return Steps(
      {S("evaluate", {{"outputs", {"accuracy"}}}), S("train", {{"type", "Notebook"},
                                                               {"dependsOn", {"evaluate"}},
                                                               {"forEach", R"(["1d", "1w"])"},
                                                               {"notebook", nb}})},
      {{"parameters", params}});
}

std::vector<std::string> CommandOf(FakeRun& run, const std::string& job) {
  return run.Job(job)->at("spec")["template"]["spec"]["containers"][0]["command"];
}

TEST(NotebookTest, TheJobRunsSteplineNotebookWithTypedParameters) {
  FakeRun run(Forecast());
  run.Plan();
  run.Succeed("run-evaluate-1", R"({"accuracy": "0.91"})");
  run.Plan();
  std::vector<std::string> command = CommandOf(run, "run-train-0-1");
  ASSERT_EQ(command.size(), 9u);
  EXPECT_EQ(std::vector<std::string>(command.begin(), command.end() - 1),
            (std::vector<std::string>{"stepline-notebook", "--notebook", "/nb/train.ipynb",
                                      "--output", "/stepline/notebook/executed.ipynb", "--kernel",
                                      "python3", "--parameters"}));
  // Numbers stay numbers, lists lists, a String parameter a string; $ is kept from expansion.
  EXPECT_EQ(Object::parse(command.back()), Object::parse(R"j({
      "horizon": "1d", "epochs": 3, "countries": ["fr", "de"], "code": "007",
      "accuracy": 0.91, "label": "run run $$(HOME)", "grid": [1, 3, {"lr": 0.1}]})j"));
  EXPECT_EQ(Object::parse(CommandOf(run, "run-train-1-1").back())["horizon"], "1w");
  EXPECT_FALSE(
      run.Job("run-train-0-1")->at("spec")["template"]["spec"]["containers"][0].contains("args"));
}

TEST(NotebookTest, TheExecutedNotebookIsUploadedAndNamedInStatus) {
  FakeRun run(Steps({S("nb", {{"type", "Notebook"}, {"notebook", {{"path", "a.ipynb"}}}})}));
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  const Object& spec = run.Job("run-nb-1")->at("spec")["template"]["spec"];
  ASSERT_EQ(spec["initContainers"].size(), 1u);
  EXPECT_EQ(spec["initContainers"][0]["command"][2], "/stepline/artifacts/out/0/executed.ipynb");
  EXPECT_EQ(spec["containers"][0]["volumeMounts"], Object::parse(R"([{"name":
      "stepline-artifacts", "mountPath": "/stepline/notebook", "subPath": "out/0"}])"));
  EXPECT_EQ(spec["volumes"].size(), 2u);  // the artifacts' emptyDir and credentials only
  run.Succeed("run-nb-1", R"({"rows": "12"})");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("nb")), "Succeeded");
  EXPECT_EQ(run.StepOf("nb")->artifacts,
            (StringMap{{"notebook", "s3://arts/runs/ml/run/nb/attempt-1/notebook"}}));
  EXPECT_EQ(run.StepOf("nb")->outputs, (StringMap{{"rows", "12"}}));
  EXPECT_EQ(run.StepOf("nb")->message, "");
}

TEST(NotebookTest, AFailedCellFailsTheAttemptNamingTheExceptionAndTheNotebook) {
  Object step = S("nb", {{"type", "Notebook"},
                         {"notebook", {{"path", "a.ipynb"}}},
                         {"retryPolicy", {{"maxAttempts", 2}, {"intervalSeconds", 0}}}});
  FakeRun run(Steps({step}));
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  run.Fail("run-nb-1", 1, "Error", "ZeroDivisionError: division by zero in cell 5 (In [4])");
  run.Plan();
  ASSERT_NE(run.Job("run-nb-2"), nullptr);
  run.Fail("run-nb-2", 1, "Error", "ZeroDivisionError: division by zero in cell 5 (In [4])");
  run.Plan();
  const StepStatus* s = run.StepOf("nb");
  EXPECT_EQ(Phase(s), "Failed");
  EXPECT_EQ(s->reason, "Error");
  EXPECT_THAT(s->message, HasSubstr("exit code 1: ZeroDivisionError: division by zero in cell 5 "
                                    "(In [4]); executed notebook: "
                                    "s3://arts/runs/ml/run/nb/attempt-2/notebook"));
}

TEST(NotebookTest, WithoutARepositoryTheMessageSaysWhereTheNotebookWent) {
  FakeRun run(Steps({S("nb", {{"type", "Notebook"}, {"notebook", {{"path", "a.ipynb"}}}})}));
  run.Plan();
  const Object& spec = run.Job("run-nb-1")->at("spec")["template"]["spec"];
  EXPECT_FALSE(spec.contains("initContainers"));
  EXPECT_EQ(spec["containers"][0]["volumeMounts"], Object::parse(R"([{"name":
      "stepline-notebook", "mountPath": "/stepline/notebook"}])"));
  EXPECT_EQ(spec["volumes"], Object::parse(R"([{"name": "stepline-notebook", "emptyDir": {}}])"));
  run.Succeed("run-nb-1", "{}");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("nb")), "Succeeded");
  EXPECT_TRUE(run.StepOf("nb")->artifacts.empty());
  EXPECT_EQ(run.StepOf("nb")->message,
            "executed notebook not kept: the namespace has no ConfigMap "
            "stepline-artifact-repository to upload it to; the cell outputs are in the log: "
            "kubectl logs job/run-nb-1");
}

TEST(NotebookTest, AnOutputIsReadByALaterStepsWhen) {
  FakeRun run(Steps(
      {S("nb", {{"type", "Notebook"}, {"notebook", {{"path", "a.ipynb"}}}}),
       S("deploy", {{"dependsOn", {"nb"}}, {"when", "{{steps.nb.outputs.accuracy}} >= 0.9"}}),
       S("alert", {{"dependsOn", {"nb"}}, {"when", "{{steps.nb.outputs.accuracy}} < 0.9"}})}));
  run.Plan();
  run.Succeed("run-nb-1", R"({"accuracy": "0.93"})");
  run.Plan();
  EXPECT_NE(run.Job("run-deploy-1"), nullptr);
  EXPECT_EQ(run.Job("run-alert-1"), nullptr);
  EXPECT_EQ(Phase(run.StepOf("alert")), "Skipped");
}

TEST(NotebookTest, StepDefaultsGiveTheKernelAndParametersUnderTheStepsOwn) {
  Object extra = {{"stepDefaults",
                   {{"image", "jupyter"},
                    {"command", {"ignored"}},
                    {"notebook", {{"kernel", "ir"}, {"parameters", {{"a", 1}, {"b", 2}}}}}}}};
  Object spec = Steps({S("nb", {{"type", "Notebook"},
                                {"notebook", {{"path", "x.ipynb"}, {"parameters", {{"b", 3}}}}}})});
  spec["stepDefaults"] = extra["stepDefaults"];
  FakeRun run(spec);
  run.Plan();
  std::vector<std::string> command = CommandOf(run, "run-nb-1");
  EXPECT_EQ(command[0], "stepline-notebook");
  EXPECT_EQ(command[6], "ir");
  EXPECT_EQ(Object::parse(command.back()), Object::parse(R"({"a": 1, "b": 3})"));
}

TEST(NotebookTest, ARoundTripKeepsTheNotebook) {
  Json step = {
      {"name", "nb"},
      {"type", "Notebook"},
      {"notebook", {{"path", "a.ipynb"}, {"kernel", "python3"}, {"parameters", {{"x", {1, 2}}}}}}};
  Json pipeline = {{"apiVersion", "stepline.dev/v1alpha1"},
                   {"kind", "Pipeline"},
                   {"metadata", {{"name", "p"}}},
                   {"spec", {{"steps", {step}}}}};
  k8s::Result<Pipeline> parsed = ParsePipeline(pipeline);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ToJson(*parsed), pipeline);
  pipeline["spec"]["steps"][0]["notebook"]["parameters"] = Json::array({1});
  EXPECT_EQ(ParsePipeline(pipeline).status().message(),
            "spec.steps[0].notebook.parameters: must be an object of parameter names and values");
  pipeline["spec"]["steps"][0]["notebook"] = {{"path", "a.ipynb"}, {"kernal", "python3"}};
  EXPECT_EQ(ParsePipeline(pipeline).status().message(),
            "spec.steps[0].notebook.kernal: unknown field (expected path, kernel, parameters)");
}

struct ValidationCase {
  std::string name;
  Object step;
  std::vector<std::string> want;
};

std::vector<std::string> ProblemsOf(const Object& step) {
  Json json = {{"apiVersion", "stepline.dev/v1alpha1"},
               {"kind", "Pipeline"},
               {"metadata", {{"name", "p"}}},
               {"spec",
                {{"parameters", {{{"name", "h"}}}},
                 {"stepDefaults", {{"image", "jupyter"}}},
                 {"steps", {step}}}}};
  k8s::Result<Pipeline> p = ParsePipeline(json);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? PipelineProblems(*p) : std::vector<std::string>{};
}

TEST(NotebookTest, ValidationNamesTheStepAndField) {
  const std::string at = "spec.steps[0] (nb)";
  Object nb = {{"name", "nb"}, {"type", "Notebook"}};
  auto with = [&](Object more) {
    Object s = nb;
    s.update(more);
    return s;
  };
  std::vector<ValidationCase> cases = {
      {"valid",
       with({{"notebook", {{"path", "a.ipynb"}, {"parameters", {{"h", "{{parameters.h}}"}}}}}}),
       {}},
      {"no notebook",
       nb,
       {at + ".notebook.path: required for a Notebook step (on the step or in "
             "spec.stepDefaults.notebook)"}},
      {"a command",
       with({{"notebook", {{"path", "a.ipynb"}}}, {"command", {"python"}}}),
       {at + ".command: not allowed on a Notebook step: it runs stepline-notebook (give "
             "notebook.path, notebook.kernel and notebook.parameters)"}},
      {"a parameter name papermill cannot assign",
       with({{"notebook", {{"path", "a.ipynb"}, {"parameters", {{"n-1", 1}, {"class", 2}}}}}}),
       {at + ".notebook.parameters.class: \"class\" is not a Python variable name (letters, "
             "digits and '_', not starting with a digit, not a keyword): papermill assigns each "
             "parameter to a variable of its name",
        at + ".notebook.parameters.n-1: \"n-1\" is not a Python variable name (letters, digits "
             "and '_', not starting with a digit, not a keyword): papermill assigns each "
             "parameter to a variable of its name"}},
      {"an unknown parameter",
       with(
           {{"notebook", {{"path", "a.ipynb"}, {"parameters", {{"x", {"{{parameters.nope}}"}}}}}}}),
       {at + ".notebook.parameters.x[0]: unknown parameter \"nope\" in {{parameters.nope}}"}},
      {"item outside a forEach",
       with({{"notebook", {{"path", "a.ipynb"}, {"parameters", {{"x", "{{item}}"}}}}}}),
       {at + ".notebook.parameters.x: {{item}} outside a forEach step"}},
      {"a templated path",
       with({{"notebook", {{"path", "{{parameters.h}}.ipynb"}}}}),
       {at + ".notebook.path: templates are not allowed here"}},
      {"an artifact named notebook",
       with({{"notebook", {{"path", "a.ipynb"}}},
             {"outputs", {{"artifacts", {{{"name", "notebook"}, {"path", "/o/x"}}}}}}}),
       {at + ".outputs.artifacts[0].name: \"notebook\" is the executed notebook of a Notebook "
             "step, added by Stepline: choose another name"}},
      {"a notebook on a Container step",
       {{"name", "nb"}, {"command", {"x"}}, {"notebook", {{"path", "a.ipynb"}}}},
       {at + ".notebook: only Notebook steps take a notebook"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ProblemsOf(c.step), c.want);
  }
}

TEST(NotebookTest, ALaterStepMayUseTheExecutedNotebook) {
  Object step = {{"name", "nb"}, {"type", "Notebook"}, {"notebook", {{"path", "a.ipynb"}}}};
  Object report = {{"name", "report"},
                   {"dependsOn", {"nb"}},
                   {"command", {"show", "{{steps.nb.artifacts.notebook.uri}}"}},
                   {"inputs",
                    {{"artifacts",
                      {{{"name", "nb"},
                        {"path", "/in/nb.ipynb"},
                        {"from", "{{steps.nb.artifacts.notebook}}"}}}}}}};
  Json json = {{"apiVersion", "stepline.dev/v1alpha1"},
               {"kind", "Pipeline"},
               {"metadata", {{"name", "p"}}},
               {"spec", {{"stepDefaults", {{"image", "jupyter"}}}, {"steps", {step, report}}}}};
  k8s::Result<Pipeline> p = ParsePipeline(json);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(PipelineProblems(*p), std::vector<std::string>{});
}

TEST(NotebookTest, AnUnresolvableReferenceIsTheStepsError) {
  Object nb = {{"path", "a.ipynb"}, {"parameters", {{"acc", "{{steps.a.outputs.missing}}"}}}};
  FakeRun run(Steps({S("a", {{"outputs", {"missing"}}}),
                     S("nb", {{"type", "Notebook"}, {"dependsOn", {"a"}}, {"notebook", nb}})}));
  run.Plan();
  run.Succeed("run-a-1", "{}");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("nb")), "Failed");
  EXPECT_EQ(run.StepOf("nb")->reason, "TemplateError");
  EXPECT_THAT(run.StepOf("nb")->message, HasSubstr("{{steps.a.outputs.missing}}"));
}

}  // namespace
}  // namespace stepline::reconcilers::testing
