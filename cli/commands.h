// The plugin's commands over the user's API client. Each returns the process exit code and
// writes what it has to say to the session's streams; errors are one line, in the user's terms
// (user_errors.h). Rendering is done by the pure functions of render_*.h.
//
// Thread-safety: a Session belongs to one command on one thread (the ui serves requests on its
// own threads and uses the client, which is thread-safe, only).
#pragma once

#include <iostream>
#include <string>

#include "cli/args.h"
#include "cli/completion.h"
#include "cli/run_view.h"
#include "cli/user_errors.h"
#include "k8sclient/api_client.h"
#include "k8sclient/clock.h"

namespace stepline::cli {

struct Session {
  k8s::ApiServerClient& client;
  const k8s::Clock& clock;
  std::string ns;  // the namespace the command works in (flag, else the context's, else default)
  std::ostream& out;
  std::ostream& err;
  bool color = false;                        // stdout is a terminal and --no-color was not given
  bool out_is_tty = false;                   // watch redraws in place only on a terminal
  std::string program = "kubectl stepline";  // how the user called us, for hints
};

// Dispatches args.command. Unknown commands and misuse print usage and return 2.
int RunCommand(const Args& args, Session& s);
// The usage text.
std::string Usage();

// Shared by the commands.
int Fail(Session& s, const std::string& message, int code = 1);
// True when args has n positionals, else prints the usage line and sets *code.
bool NeedArgs(const Args& args, Session& s, size_t n, const std::string& usage, int* code);
// The run, or the reason (in the user's terms) in *why.
k8s::Result<k8s::Object> GetRun(Session& s, const std::string& name, std::string* why);

// The run's view with the failure classes of retried steps from its StepRetrying Events (the
// status keeps no reason once a retry succeeded); without them when Events cannot be read.
RunView LoadRunView(Session& s, const k8s::Object& run);

int CmdList(const Args& args, Session& s);
int CmdGet(const Args& args, Session& s);
int CmdWatch(const Args& args, Session& s);
int CmdGraph(const Args& args, Session& s);
int CmdStart(const Args& args, Session& s);
int CmdApprove(const Args& args, Session& s, bool approve);
int CmdStop(const Args& args, Session& s);
int CmdRerun(const Args& args, Session& s);
int CmdDelete(const Args& args, Session& s);
int CmdLogs(const Args& args, Session& s);
int CmdUi(const Args& args, Session& s);
// `completion bash|zsh` and the hidden `__complete WORDS...` (candidates, one per line).
int CmdCompletion(const Args& args, Session& s);
int CmdComplete(const std::vector<std::string>& words, Session& s);

}  // namespace stepline::cli
