// libFuzzer target: the watch stream decoder (k8sclient/watch_decoder.h), fed the input in
// chunks whose sizes come from the input's first byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "k8sclient/watch_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  stepline::k8s::WatchDecoder decoder(1 << 16);
  size_t events = 0;
  auto sink = [&](stepline::k8s::WatchEvent&&) { return ++events < 1000; };
  while (!rest.empty()) {
    size_t n = std::min(chunk, rest.size());
    if (!decoder.Feed(rest.substr(0, n), sink).ok() || decoder.stopped()) return 0;
    rest.remove_prefix(n);
  }
  (void)decoder.Finish(sink);
  return 0;
}
