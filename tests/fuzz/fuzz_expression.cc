// libFuzzer target: the `when` expression language (reconcilers/expression.h). Any input must
// parse or be refused with an error, and a parsed expression must evaluate or fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "reconcilers/expression.h"
#include "reconcilers/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = stepline::reconcilers::ParseExpression(text);
  if (!expr.ok()) return 0;
  stepline::reconcilers::TemplateValues values;
  values.parameters = {{"a", "1"}, {"b", "x"}, {"l", "[1,2]"}};
  values.steps["s"].phase = "Succeeded";
  values.steps["s"].outputs = {{"o", "0.9"}};
  values.item = nlohmann::json::parse(R"({"k": "v", "n": 2})");
  (void)stepline::reconcilers::Evaluate(*expr, values);
  (void)expr->References();
  return 0;
}
