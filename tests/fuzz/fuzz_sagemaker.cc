// libFuzzer target: the SageMaker pipeline definition compiler
// (reconcilers/sagemaker_definition.h), on the definition as a JSON string and as an object.
#include <cstddef>
#include <cstdint>
#include <string>

#include "reconcilers/sagemaker_definition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)stepline::reconcilers::CompileSageMakerDefinition(nlohmann::json(text));
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) (void)stepline::reconcilers::CompileSageMakerDefinition(parsed);
  return 0;
}
