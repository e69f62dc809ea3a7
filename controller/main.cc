// stepline-controller: flags, logging, then the controller (controller/app.cc wires the rest).
#include <cstdio>
#include <string>
#include <vector>

#include "controller/app.h"
#include "controller/flags.h"
#include "controller/log.h"

int main(int argc, char** argv) {
  using namespace stepline::controller;
  auto flags = ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (flags.ok() && flags->help) {
    std::fputs(UsageText().c_str(), stdout);
    return 0;
  }
  stepline::k8s::Status valid = flags.ok() ? ValidateFlags(*flags) : flags.status();
  if (!valid.ok()) {
    std::fprintf(stderr, "stepline-controller: %s\nRun 'stepline-controller --help' for usage.\n",
                 valid.message().c_str());
    return 2;
  }
  if (!ConfigureLogging(flags->log_format, flags->log_level)) {
    std::fprintf(stderr, "stepline-controller: bad --log-format or --log-level\n");
    return 2;
  }
  return RunController(*flags);
}
