// libFuzzer target: Kubernetes quantities (k8sclient/quantity.h). A parsed quantity must print
// as text that parses to the same value, and adding and subtracting must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k8sclient/quantity.h"

using stepline::k8s::Quantity;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = Quantity::Parse(text);
  if (!q.ok()) return 0;
  auto again = Quantity::Parse(q->ToString());
  if (!again.ok() || !(*again == *q)) std::abort();
  (void)q->Add(*q);
  (void)q->Subtract(*again);
  return 0;
}
