#include "reconcilers/template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stepline::reconcilers {
namespace {

TemplateValues Values() {
  TemplateValues v;
  v.parameters = {{"horizon", "1w"}, {"minAccuracy", "0.8"}, {"countries", R"(["fr","de"])"}};
  v.steps["evaluate"] = {
      "Succeeded",
      {{"accuracy", "0.91"},
       {"report", R"({"regression_metrics": {"mse": {"value": 4.6}}, "list": ["a", "b"]})"}}};
  v.steps["evaluate"].job_name = "forecast-weekly-42-evaluate-2";
  v.steps["prepare"] = {"", {}};
  v.execution_name = "forecast-weekly-42";
  v.execution_namespace = "ml";
  v.execution_start_time = "2026-12-06T19:46:08Z";
  return v;
}

TEST(TemplateTest, RendersEveryReferenceForm) {
  struct Case {
    std::string name;
    std::string text;
    nlohmann::json item;  // null: no item
    std::string want;
  };
  std::vector<Case> cases = {
      {"no references", "python train.py", nullptr, "python train.py"},
      {"empty", "", nullptr, ""},
      {"parameter", "{{parameters.horizon}}", nullptr, "1w"},
      {"whitespace inside braces", "{{  parameters.horizon\t}}", nullptr, "1w"},
      {"literal around", "--h={{parameters.horizon}}!", nullptr, "--h=1w!"},
      {"two references", "{{execution.namespace}}/{{execution.name}}", nullptr,
       "ml/forecast-weekly-42"},
      {"start time", "{{execution.startTime}}", nullptr, "2026-12-06T19:46:08Z"},
      {"step output", "acc={{steps.evaluate.outputs.accuracy}}", nullptr, "acc=0.91"},
      {"step phase", "{{steps.evaluate.phase}}", nullptr, "Succeeded"},
      {"step job name", "{{ steps.evaluate.jobName }}", nullptr, "forecast-weekly-42-evaluate-2"},
      {"a value inside a JSON output",
       "{{steps.evaluate.outputs.report.regression_metrics.mse.value}}", nullptr, "4.6"},
      {"a list item inside a JSON output", "{{steps.evaluate.outputs.report.list.1}}", nullptr,
       "b"},
      {"an object inside a JSON output", "{{steps.evaluate.outputs.report.regression_metrics}}",
       nullptr, R"({"mse":{"value":4.6}})"},
      {"phase not yet set", "{{steps.prepare.phase}}", nullptr, "Pending"},
      {"string item", "--country={{item}}", "fr", "--country=fr"},
      {"number item", "{{item}}", 3, "3"},
      {"object item renders JSON",
       "{{item}}",
       {{"country", "fr"}, {"n", 2}},
       R"({"country":"fr","n":2})"},
      {"object item key", "{{item.country}}-{{item.n}}", {{"country", "fr"}, {"n", 2}}, "fr-2"},
      {"list parameter stays text", "{{parameters.countries}}", nullptr, R"(["fr","de"])"},
      {"single braces are literal", "{a} }} {", nullptr, "{a} }} {"},
      {"value with braces is not re-expanded", "{{item}}", "{{parameters.horizon}}",
       "{{parameters.horizon}}"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TemplateValues v = Values();
    if (!c.item.is_null()) v.item = c.item;
    auto got = RenderTemplate(c.text, v);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want);
  }
}

TEST(TemplateTest, ParseErrorsNameTheReferenceAndColumn) {
  const std::string forms =
      ": expected parameters.NAME, item, item.KEY, steps.STEP.outputs.NAME, steps.STEP.phase, "
      "steps.STEP.artifacts.NAME.uri, steps.STEP.jobName, execution.name, execution.namespace or "
      "execution.startTime";
  struct Case {
    std::string text;
    std::string want;
  };
  std::vector<Case> cases = {
      {"{{foo}}", "invalid reference \"{{foo}}\" at column 1" + forms},
      {"ab {{ params.x }}", "invalid reference \"{{params.x}}\" at column 4" + forms},
      {"{{}}", "invalid reference \"{{}}\" at column 1" + forms},
      {"{{parameters}}", "invalid reference \"{{parameters}}\" at column 1" + forms},
      {"{{parameters.a.b}}", "invalid reference \"{{parameters.a.b}}\" at column 1" + forms},
      {"{{parameters.a b}}", "invalid reference \"{{parameters.a b}}\" at column 1" + forms},
      {"{{steps.a.outputs}}", "invalid reference \"{{steps.a.outputs}}\" at column 1" + forms},
      {"{{steps..phase}}", "invalid reference \"{{steps..phase}}\" at column 1" + forms},
      {"{{steps.a.status}}", "invalid reference \"{{steps.a.status}}\" at column 1" + forms},
      {"{{steps.a.jobname}}", "invalid reference \"{{steps.a.jobname}}\" at column 1" + forms},
      {"{{execution.uid}}", "invalid reference \"{{execution.uid}}\" at column 1" + forms},
      {"{{a.b.c.d.e.f.g}}", "invalid reference \"{{a.b.c.d.e.f.g}}\" at column 1" + forms},
      {"x {{{item}}}", "invalid reference \"{{{item}}\" at column 3" + forms},
      {"ok {{item}} then {{item", "unterminated \"{{\" at column 18"},
      {"{{", "unterminated \"{{\" at column 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto got = ParseTemplate(c.text);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsInvalid());
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(TemplateTest, UnresolvedReferencesNameThemselves) {
  struct Case {
    std::string text;
    nlohmann::json item;
    std::string want;
  };
  std::vector<Case> cases = {
      {"{{steps.evaluate.outputs.accuracy2}}", nullptr,
       "{{steps.evaluate.outputs.accuracy2}}: step \"evaluate\" has no output \"accuracy2\""},
      {"{{steps.train.phase}}", nullptr, "{{steps.train.phase}}: no step \"train\""},
      {"{{steps.prepare.jobName}}", nullptr,
       "{{steps.prepare.jobName}}: step \"prepare\" has no Job (it has not started one)"},
      {"{{steps.evaluate.outputs.report.regression_metrics.rmse}}", nullptr,
       "{{steps.evaluate.outputs.report.regression_metrics.rmse}}: output \"report\" of step "
       "\"evaluate\" has no \"rmse\" there"},
      {"{{steps.evaluate.outputs.report.list.2}}", nullptr,
       "{{steps.evaluate.outputs.report.list.2}}: output \"report\" of step \"evaluate\" has no "
       "\"2\" there"},
      {"{{steps.evaluate.outputs.accuracy.x}}", nullptr,
       "{{steps.evaluate.outputs.accuracy.x}}: output \"accuracy\" of step \"evaluate\" has no "
       "\"x\" there"},
      {"{{parameters.region}}", nullptr, "{{parameters.region}}: no parameter \"region\""},
      {"{{item}}", nullptr, "{{item}}: only a forEach step has an item"},
      {"{{ item.country }}", {{"name", "fr"}}, "{{item.country}}: the item has no key \"country\""},
      {"{{item.country}}", "fr", "{{item.country}}: the item is a string, not an object"},
      {"{{item.country}}", {1, 2}, "{{item.country}}: the item is an array, not an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    TemplateValues v = Values();
    if (!c.item.is_null()) v.item = c.item;
    auto got = RenderTemplate(c.text, v);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(TemplateTest, TheDesignExampleOutputIsMissing) {
  TemplateValues v = Values();
  v.steps["evaluate"].outputs.clear();
  auto got = RenderTemplate("--accuracy={{steps.evaluate.outputs.accuracy}}", v);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_EQ(got.status().message(),
            "{{steps.evaluate.outputs.accuracy}}: step \"evaluate\" has no output \"accuracy\"");
}

TEST(TemplateTest, ReferencesListsWhatATemplateUses) {
  auto tmpl =
      ParseTemplate("{{parameters.h}} {{steps.e.outputs.acc}} {{ item.k }} {{steps.t.phase}}");
  ASSERT_TRUE(tmpl.ok());
  std::vector<Reference> refs = tmpl->References();
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0].kind, Reference::Kind::kParameter);
  EXPECT_EQ(refs[0].name, "h");
  EXPECT_EQ(refs[0].column, 1u);
  EXPECT_EQ(refs[1].kind, Reference::Kind::kStepOutput);
  EXPECT_EQ(refs[1].step, "e");
  EXPECT_EQ(refs[1].name, "acc");
  EXPECT_EQ(refs[1].column, 18u);
  EXPECT_EQ(refs[2].ToString(), "{{item.k}}");
  EXPECT_EQ(refs[3].ToString(), "{{steps.t.phase}}");
  EXPECT_TRUE(tmpl->HasReferences());
  EXPECT_FALSE(ParseTemplate("plain")->HasReferences());
}

TEST(TemplateTest, HostileInputIsAnErrorNotACrash) {
  TemplateValues v = Values();
  std::string huge(kMaxTemplateBytes + 1, 'x');
  auto too_long = ParseTemplate(huge);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().message(), "template of 1048577 bytes exceeds 1048576");

  std::string opens;
  for (int i = 0; i < 100000; ++i) opens += "{{";
  EXPECT_FALSE(ParseTemplate(opens).ok());

  // A large value repeated many times must not build an unbounded string.
  v.parameters["big"] = std::string(1 << 16, 'y');
  std::string repeated;
  for (int i = 0; i < 20; ++i) repeated += "{{parameters.big}}";
  auto rendered = RenderTemplate(repeated, v);
  ASSERT_FALSE(rendered.ok());
  EXPECT_EQ(rendered.status().message(), "rendered template of 1114112 bytes exceeds 1048576");
}

}  // namespace
}  // namespace stepline::reconcilers
