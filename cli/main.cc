// kubectl-stepline (also `stepline`, and `kubectl_complete-stepline` for kubectl's plugin
// completion): arguments, the user's kubeconfig, the client, then the command (commands.h).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "k8sclient/api_client.h"
#include "k8sclient/config.h"

namespace {

using stepline::cli::Args;

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Completion gets a partly typed line: keep only the flags that choose the cluster.
Args CompletionArgs(const std::vector<std::string>& words) {
  Args args;
  args.command = "__complete";
  args.positionals = words;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    for (const char* flag : {"namespace", "kubeconfig", "context"}) {
      if (words[i] == std::string("--") + flag || (words[i] == "-n" && flag[0] == 'n')) {
        args.flags[flag].push_back(words[i + 1]);
      }
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  namespace k8s = stepline::k8s;
  namespace cli = stepline::cli;
  spdlog::set_default_logger(spdlog::stderr_color_mt("kubectl-stepline"));
  spdlog::set_level(spdlog::level::warn);
  const std::string self = BaseName(argv[0]);
  std::vector<std::string> words(argv + 1, argv + argc);
  k8s::Result<Args> args = Args{};
  if (self == "kubectl_complete-stepline")
    args = CompletionArgs(words);
  else if (!words.empty() && words[0] == "__complete")
    args = CompletionArgs({words.begin() + 1, words.end()});
  else
    args = cli::ParseArgs(words);
  if (!args.ok()) {
    std::cerr << "error: " << args.status().message() << "\n(see: " << self << " --help)\n";
    return 2;
  }
  const bool offline = args->command.empty() || args->command == "help" ||
                       args->command == "completion" || args->Has("help");
  k8s::RealClock clock;
  auto config =
      k8s::LoadDefault(args->Get("kubeconfig"), {.kubeconfig = {.context = args->Get("context")}});
  if (!config.ok() && !offline) {
    std::cerr << "error: no usable kubeconfig: " << config.status().message() << "\n";
    return 1;
  }
  k8s::RestConfig rest = config.ok() ? *config : k8s::RestConfig{.server = "https://127.0.0.1:1"};
  rest.user_agent = "kubectl-stepline/0.1.0";
  auto client = k8s::ApiServerClient::New(rest, clock);
  std::string ns = args->Get("namespace", rest.default_namespace);
  cli::Session session{*client, clock, ns.empty() ? "default" : ns, std::cout, std::cerr};
  session.out_is_tty = isatty(STDOUT_FILENO) == 1;
  session.color =
      session.out_is_tty && !args->Has("no-color") && std::getenv("NO_COLOR") == nullptr;
  session.program = self == "stepline" ? "stepline" : "kubectl stepline";
  return cli::RunCommand(*args, session);
}
