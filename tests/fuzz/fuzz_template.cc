// libFuzzer target: templating (reconcilers/template.h) and the status text rule
// (reconcilers/status_bounds.h). Checks what must hold for any input: plain and container
// rendering succeed or fail together, BoundText gives valid UTF-8 within its bound, and
// ValidUtf8 is idempotent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "reconcilers/status_bounds.h"
#include "reconcilers/template.h"

namespace sr = stepline::reconcilers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  sr::TemplateValues values;
  values.parameters = {{"p", "$(SECRET)"}, {"q", std::string(text.substr(0, 16))}};
  values.steps["s"].outputs = {{"o", "$x"}};
  values.item = nlohmann::json::parse(R"J({"k": "$(K)"})J");
  values.execution_name = "run";
  auto plain = sr::RenderTemplate(text, values);
  auto escaped = sr::RenderContainerTemplate(text, values);
  if (plain.ok() != escaped.ok()) std::abort();
  for (size_t max : {size_t{0}, size_t{7}, size_t{40}, size_t{300}}) {
    std::string bounded = sr::BoundText(text, max);
    if (bounded.size() > max) std::abort();
    if (sr::ValidUtf8(bounded) != bounded) std::abort();
  }
  if (sr::ValidUtf8(sr::ValidUtf8(text)) != sr::ValidUtf8(text)) std::abort();
  return 0;
}
