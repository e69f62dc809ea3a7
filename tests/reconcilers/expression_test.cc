#include "reconcilers/expression.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stepline::reconcilers {
namespace {

TemplateValues Values() {
  TemplateValues v;
  v.parameters = {
      {"minAccuracy", "0.8"}, {"horizon", "1w"}, {"countries", R"(["fr","de"])"}, {"flag", "True"}};
  v.steps["evaluate"] = {"Succeeded", {{"accuracy", "0.91"}, {"low", "0.75"}}};
  v.steps["train"] = {"Failed", {}};
  v.steps["evil"] = {"Succeeded", {{"value", "1 || true"}, {"close", ") || (true"}}};
  v.item = nlohmann::json{{"country", "fr"}};
  return v;
}

TEST(ExpressionTest, Evaluates) {
  struct Case {
    std::string condition;
    bool want;
  };
  std::vector<Case> cases = {
      // The design's example, both ways.
      {"{{steps.evaluate.outputs.accuracy}} >= {{parameters.minAccuracy}}", true},
      {"{{steps.evaluate.outputs.low}} >= {{parameters.minAccuracy}}", false},
      // Numeric when both sides are numbers, else strings.
      {R"("10" > "9")", true},
      {"10 > 9", true},
      {"'b' > 'a'", true},
      {"'10' > '9a'", false},
      {"abc < abd", true},
      {"1.0 == 1", true},
      {"1e3 == 1000", true},
      {"0.10 == .1", true},
      {"-2 < -1", true},
      {"-0 == 0", true},
      {"10 >= 9.99", true},
      {"12345678901234567890123 > 12345678901234567890122", true},
      {"'' == \"\"", true},
      {"a != b", true},
      {R"('it\'s' == "it's")", true},
      // in lists.
      {"{{parameters.horizon}} in ['1d', \"1w\", 1m]", true},
      {"{{steps.train.phase}} in [Succeeded, Skipped]", false},
      {"3 in [1, 2, 3.0]", true},
      {"x in []", false},
      {"{{item.country}} in [fr, de]", true},
      // Precedence: ! binds tighter than ==; && tighter than ||.
      {"!false == true", true},
      {"true || false && false", true},
      {"false && true || true", true},
      {"(true || false) && false", false},
      {"!(1 == 2)", true},
      {"!true", false},
      {"!!true", true},
      {"((((true))))", true},
      // Truth values in any case.
      {"TRUE", true},
      {"False", false},
      {"{{parameters.flag}} == true", true},
      {"{{parameters.flag}} && !false", true},
      // References are values, never spliced: no injection.
      {"{{steps.evil.outputs.value}} == '1 || true'", true},
      {"{{steps.evil.outputs.value}} == 1", false},
      {"({{steps.evil.outputs.close}}) == ') || (true'", true},
      {"{{parameters.countries}} == '[\"fr\",\"de\"]'", true},
      // Short-circuit: the missing output is not needed.
      {"{{steps.train.phase}} == Succeeded && {{steps.train.outputs.x}} > 3", false},
      {"{{steps.train.phase}} == Failed || {{steps.nope.phase}} == x", true},
      {"{{steps.train.phase}} == Failed", true},
  };
  TemplateValues v = Values();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.condition);
    auto expr = ParseExpression(c.condition);
    ASSERT_TRUE(expr.ok()) << expr.status().ToString();
    auto got = Evaluate(*expr, v);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want);
  }
}

TEST(ExpressionTest, SyntaxErrorsNameTheColumnAndWhatWasExpected) {
  struct Case {
    std::string condition;
    std::string want;
  };
  std::vector<Case> cases = {
      {"{{steps.evaluate.outputs.accuracy}} >= ({{parameters.minAccuracy}} || false",
       "when: expected ')' at column 76"},
      {"(a == b", "when: expected ')' at column 8"},
      {"(a == b))", "when: expected '&&', '||' or the end at column 9"},
      {"", "when: expected a value at column 1"},
      {"   ", "when: expected a value at column 4"},
      {"a ==", "when: expected a value at column 5"},
      {")", "when: expected a value at column 1"},
      {"in", "when: expected a value at column 1"},
      {"a && || b", "when: expected a value at column 6"},
      {"a = b", "when: expected '==' at column 3"},
      {"a & b", "when: expected '&&' at column 3"},
      {"a | b", "when: expected '||' at column 3"},
      {"a b", "when: expected '&&', '||' or the end at column 3"},
      {"a == b == c", "when: expected '&&', '||' or the end at column 8"},
      {"a in b", "when: expected '[' after 'in' at column 6"},
      {"a in [b c]", "when: expected ',' or ']' at column 9"},
      {"a in [b,]", "when: expected a value at column 9"},
      {"a in [b", "when: expected ',' or ']' at column 8"},
      {"'abc", "when: unterminated string at column 1"},
      {"x == \"abc", "when: unterminated string at column 6"},
      {"{{parameters.x", "when: unterminated \"{{\" at column 1"},
      {"a == $", "when: unexpected character '$' at column 6"},
      {"{a}", "when: expected '{{' at column 1"},
      {"{{foo}} == 1",
       "when: invalid reference \"{{foo}}\" at column 1: expected parameters.NAME, item, item.KEY, "
       "steps.STEP.outputs.NAME, steps.STEP.phase, steps.STEP.artifacts.NAME.uri, "
       "steps.STEP.jobName, execution.name, execution.namespace or execution.startTime"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.condition);
    auto got = ParseExpression(c.condition);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsInvalid());
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(ExpressionTest, EvaluationErrorsAreValuesNotCrashes) {
  struct Case {
    std::string condition;
    std::string want;
  };
  std::vector<Case> cases = {
      {"{{steps.evaluate.outputs.accuracy2}} >= 0.8",
       "when: {{steps.evaluate.outputs.accuracy2}}: step \"evaluate\" has no output \"accuracy2\""},
      {"{{steps.deploy.phase}} == Succeeded", "when: {{steps.deploy.phase}}: no step \"deploy\""},
      {"{{steps.evil.outputs.value}}",
       "when: {{steps.evil.outputs.value}} at column 1 is \"1 || true\", not true or false"},
      {"abc && true", "when: \"abc\" at column 1 is not true or false"},
      {"!Succeeded == Failed", "when: \"Succeeded\" at column 2 is not true or false"},
      {"{{item.country.x}} == fr",
       "when: invalid reference \"{{item.country.x}}\" at column 1: expected parameters.NAME, "
       "item, item.KEY, steps.STEP.outputs.NAME, steps.STEP.phase, "
       "steps.STEP.artifacts.NAME.uri, steps.STEP.jobName, execution.name, execution.namespace "
       "or execution.startTime"},
  };
  TemplateValues v = Values();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.condition);
    auto expr = ParseExpression(c.condition);
    auto got = expr.ok() ? Evaluate(*expr, v) : k8s::Result<bool>(expr.status());
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), c.want);
  }
  auto missing = ParseExpression("{{steps.evaluate.outputs.f1}} > 0.5");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(Evaluate(*missing, v).status().IsNotFound());
  TemplateValues no_item = Values();
  no_item.item.reset();
  auto item = ParseExpression("{{item}} == x");
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(Evaluate(*item, no_item).status().message(),
            "when: {{item}}: only a forEach step has an item");
}

TEST(ExpressionTest, HostileInputIsRejectedCleanly) {
  auto deep = ParseExpression(std::string(5000, '(') + "true" + std::string(5000, ')'));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "when: nested more than 64 deep at column 65");

  auto nots = ParseExpression(std::string(10000, '!') + "true");
  ASSERT_FALSE(nots.ok());
  EXPECT_EQ(nots.status().message(), "when: nested more than 64 deep at column 65");

  auto unclosed = ParseExpression(std::string(10000, '('));
  ASSERT_FALSE(unclosed.ok());
  EXPECT_EQ(unclosed.status().message(), "when: nested more than 64 deep at column 65");

  auto huge = ParseExpression(std::string(20000, 'a'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().message(), "when: condition of 20000 bytes exceeds 16384");

  auto opens = ParseExpression(std::string(8000, '{'));
  EXPECT_FALSE(opens.ok());

  // 63 levels are fine.
  auto nested = ParseExpression(std::string(63, '(') + "true" + std::string(63, ')'));
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_TRUE(*Evaluate(*nested, Values()));
}

TEST(ExpressionTest, LongChainsDoNotNest) {
  std::string chain = "true";
  for (int i = 0; i < 1500; ++i) chain += " && 1 < 2";
  auto expr = ParseExpression(chain);
  ASSERT_TRUE(expr.ok()) << expr.status().ToString();
  auto got = Evaluate(*expr, Values());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got);
}

TEST(ExpressionTest, ReferencesListsWhatAConditionUses) {
  auto expr = ParseExpression("{{steps.a.phase}} == x && {{ parameters.p }} in [{{item}}, y]");
  ASSERT_TRUE(expr.ok());
  const std::vector<Reference>& refs = expr->References();
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].ToString(), "{{steps.a.phase}}");
  EXPECT_EQ(refs[1].ToString(), "{{parameters.p}}");
  EXPECT_EQ(refs[1].column, 27u);
  EXPECT_EQ(refs[2].ToString(), "{{item}}");
  EXPECT_EQ(expr->text(), "{{steps.a.phase}} == x && {{ parameters.p }} in [{{item}}, y]");
}

}  // namespace
}  // namespace stepline::reconcilers
