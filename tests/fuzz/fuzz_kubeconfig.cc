// libFuzzer target: the kubeconfig parser (k8sclient/config.h), on the input written to a file
// (the parser reads files; relative references resolve into an empty directory).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "k8sclient/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    char dir[] = "/tmp/stepline-fuzz-kubeconfig.XXXXXX";
    return std::string(mkdtemp(dir)) + "/config";
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  (void)stepline::k8s::LoadKubeconfig(path);
  (void)stepline::k8s::LoadKubeconfig(path, "ctx", /*allow_insecure=*/true);
  return 0;
}
