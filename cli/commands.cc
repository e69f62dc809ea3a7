#include "cli/commands.h"

#include <map>

#include "k8sclient/client.h"

namespace stepline::cli {

std::string Usage() {
  std::string out =
      R"(kubectl stepline: follow, troubleshoot and steer Stepline runs (PipelineExecutions)

Usage: kubectl stepline COMMAND [ARGS] [FLAGS]   (also: stepline COMMAND ...)

Commands:
  list [-A] [-l SELECTOR] [--pipeline P]    runs with status, progress, duration and age
  get RUN [-o json|yaml]                    the run as a tree of its steps, in DAG order
  watch RUN                                 the same view, redrawn until the run ends
                                            (exit code 0 when it Succeeded, 1 otherwise)
  logs RUN [STEP] [--index N] [--attempt N] [-f] [--tail N]
                                            a step's logs (pods/log), across its attempts
  start PIPELINE [-p name=value]... [--name N | --generate-name]
  approve RUN STEP [--message M]            answer an Approval step: Succeeded
  reject RUN STEP [--message M]             answer an Approval step: Failed
  stop RUN                                  stop a run (spec.stop), keeping its record
  rerun RUN [--from-failed | --steps a,b] [--name N] [--allow-pipeline-change]
                                            a new run of RUN's failed (or given) steps and
                                            those downstream, reusing the other results
  delete RUN                                delete a run and, through its owner references, its Jobs
  graph PIPELINE|RUN -o dot|svg|png [--file F]
                                            the DAG with each step's state (Graphviz); a name
                                            is looked up as a run first (run/N, pipeline/N force)
  ui [--port P]                             a read-only page on 127.0.0.1 with your credentials
  completion bash|zsh                       shell completion (run and step names from the cluster)

Flags:
)";
  for (const auto& f : KnownFlags()) {
    std::string name = f.short_name ? std::string("-") + f.short_name + ", " : "    ";
    name += std::string("--") + f.name + (f.takes_value ? " V" : "");
    out += "  " + name + std::string(name.size() < 26 ? 26 - name.size() : 1, ' ') + f.help + "\n";
  }
  return out;
}

int Fail(Session& s, const std::string& message, int code) {
  s.err << "error: " << message << "\n";
  return code;
}

k8s::Result<k8s::Object> GetRun(Session& s, const std::string& name, std::string* why) {
  auto run = s.client.Get(k8s::resources::kPipelineExecutions, s.ns, name);
  if (!run.ok()) {
    *why = Explain(run.status(), {"get", "pipelineexecutions.stepline.dev", s.ns, "run", name});
  }
  return run;
}

RunView LoadRunView(Session& s, const k8s::Object& run) {
  RunView v = RunViewFromObject(run);
  bool retried = false;
  for (const auto& step : v.steps) retried = retried || (step.attempts > 1 && step.reason.empty());
  if (!retried) return v;
  auto events = s.client.List(
      k8s::resources::kEvents, v.ns,
      {.field_selector = "involvedObject.name=" + v.name + ",reason=StepRetrying", .limit = 500});
  if (events.ok()) ApplyRetryEvents(events->items, &v);
  return v;
}

int RunCommand(const Args& args, Session& s) {
  using Handler = int (*)(const Args&, Session&);
  static const std::map<std::string, Handler> kCommands = {
      {"list", CmdList},
      {"ls", CmdList},
      {"get", CmdGet},
      {"watch", CmdWatch},
      {"logs", CmdLogs},
      {"start", CmdStart},
      {"approve", [](const Args& a, Session& x) { return CmdApprove(a, x, true); }},
      {"reject", [](const Args& a, Session& x) { return CmdApprove(a, x, false); }},
      {"stop", CmdStop},
      {"rerun", CmdRerun},
      {"delete", CmdDelete},
      {"graph", CmdGraph},
      {"ui", CmdUi},
      {"completion", CmdCompletion},
  };
  if (args.command == "__complete") return CmdComplete(args.positionals, s);
  if (args.command.empty() || args.command == "help" || args.Has("help")) {
    s.out << Usage();
    return args.command.empty() && !args.Has("help") ? 2 : 0;
  }
  auto it = kCommands.find(args.command);
  if (it == kCommands.end()) {
    s.err << "error: unknown command \"" << args.command << "\"\n\n" << Usage();
    return 2;
  }
  return it->second(args, s);
}

}  // namespace stepline::cli

namespace stepline::cli {

namespace {

// Names for completion, read with the user's credentials; errors give no names.
std::vector<std::string> LookupNames(Session& s, const std::string& what) {
  std::vector<std::string> out;
  const size_t colon = what.find(':');
  const std::string kind = what.substr(0, colon);
  if (colon != std::string::npos) {  // steps of a run
    auto run = s.client.Get(k8s::resources::kPipelineExecutions, s.ns, what.substr(colon + 1));
    if (!run.ok()) return out;
    for (const auto& step : RunViewFromObject(*run).steps) {
      if ((kind == "waiting-steps" && step.type == "Approval") ||
          (kind == "container-steps" && step.RunsJobs()) || kind == "steps") {
        out.push_back(step.name);
      }
    }
    return out;
  }
  const k8s::Resource* res = kind == "runs"        ? &k8s::resources::kPipelineExecutions
                             : kind == "pipelines" ? &k8s::resources::kPipelines
                                                   : &k8s::resources::kNamespaces;
  auto list = s.client.List(*res, res->namespaced ? s.ns : "", {.limit = 500});
  if (!list.ok()) return out;
  for (const auto& item : list->items) out.push_back(k8s::NameOf(item));
  return out;
}

}  // namespace

bool NeedArgs(const Args& args, Session& s, size_t n, const std::string& usage, int* code) {
  if (args.positionals.size() == n) return true;
  *code = Fail(s, "usage: " + s.program + " " + usage, 2);
  return false;
}

int CmdCompletion(const Args& args, Session& s) {
  const std::string shell = args.positionals.empty() ? "" : args.positionals[0];
  const std::string script = CompletionScript(shell);
  if (script.empty()) return Fail(s, "usage: " + s.program + " completion bash|zsh", 2);
  s.out << script;
  return 0;
}

int CmdComplete(const std::vector<std::string>& words, Session& s) {
  for (const auto& c : CompletionCandidates(
           words, [&s](const std::string& what) { return LookupNames(s, what); })) {
    s.out << c << "\n";
  }
  s.out << ":4\n";  // cobra's ShellCompDirectiveNoFileComp, as kubectl's plugin completion reads
  return 0;
}

}  // namespace stepline::cli
