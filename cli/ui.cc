// ui: a read-only page on 127.0.0.1, served by the plugin with the user's own credentials.
#include <csignal>

#include "cli/commands.h"
#include "cli/logs.h"
#include "cli/render_graph.h"
#include "cli/render_html.h"
#include "k8sclient/loopback_server.h"

namespace stepline::cli {

namespace {

constexpr int kRefreshSeconds = 3;
constexpr const char* kTailLines = "200";

const char* kHtml = "text/html; charset=utf-8";

// The log of the selected step's latest attempt (a fan-out: its first running or failed child).
std::string StepLog(Session& s, const RunView& run, const std::string& step, std::string* pod) {
  const StepView* sv = run.Find(step);
  if (sv == nullptr || sv->type != "Container") return "(no pod: not a container step)";
  std::optional<int64_t> index;
  if (sv->fan_out) {
    if (!sv->failed_children.empty())
      index = sv->failed_children.front().index;
    else if (!sv->running_children.empty())
      index = sv->running_children.front().index;
    else
      index = 0;
  }
  auto pods = k8s::ListAll(s.client, k8s::resources::kPods, run.ns,
                           {.label_selector = PodSelector(run.name, step, index)});
  if (!pods.ok()) return Explain(pods.status(), {"list", "pods", run.ns});
  auto attempts = AttemptPods(pods->items, index);
  if (attempts.empty()) return "(no pod yet)";
  *pod = attempts.back().pod + (index ? " — child " + std::to_string(*index) : "");
  std::string text;
  k8s::Status st = s.client.GetStream(
      k8s::resources::kPods, run.ns, attempts.back().pod, "log",
      std::string("tailLines=") + kTailLines,
      [&text](std::string_view chunk) {
        text.append(chunk);
        return true;
      },
      nullptr);
  if (!st.ok()) return Explain(st, {"get", "pods/log", run.ns, "pod", attempts.back().pod});
  return text.empty() ? "(empty)" : text;
}

void ServeRun(Session& s, const k8s::ServerRequest& req, k8s::ServerResponse& resp) {
  const std::string ns = req.Query("ns", s.ns), name = req.Query("name");
  auto obj = s.client.Get(k8s::resources::kPipelineExecutions, ns, name);
  if (!obj.ok()) {
    const std::string why =
        Explain(obj.status(), {"get", "pipelineexecutions.stepline.dev", ns, "run", name});
    resp.Send(obj.status().IsNotFound() ? 404 : 502, kHtml, ErrorPage("run " + name, why));
    return;
  }
  RunView run = LoadRunView(s, *obj);
  RunPageInput in{.run = &run, .selected = req.Query("step"), .refresh_seconds = kRefreshSeconds};
  GraphOptions options{.link_prefix = RunLink(ns, name, "__STEP__"), .selected = in.selected};
  options.link_prefix.resize(options.link_prefix.size() - std::string("__STEP__").size());
  auto svg = RenderDot(GraphDot(run.steps, options), "svg");
  in.svg = svg.ok() ? *svg : "<p>" + svg.status().message() + "</p>";
  if (!in.selected.empty()) in.logs = StepLog(s, run, in.selected, &in.logs_pod);
  resp.Send(200, kHtml, RunPage(in, s.clock.Now()));
}

void ServeList(Session& s, const k8s::ServerRequest& req, k8s::ServerResponse& resp) {
  const std::string ns = req.Query("ns", s.ns);
  auto list = k8s::ListAll(s.client, k8s::resources::kPipelineExecutions, ns, {});
  if (!list.ok()) {
    const std::string why = Explain(list.status(), {"list", "pipelineexecutions.stepline.dev", ns});
    resp.Send(502, kHtml, ErrorPage("executions in " + ns, why));
    return;
  }
  std::vector<RunView> runs;
  for (const auto& item : list->items) runs.push_back(RunViewFromObject(item));
  std::sort(runs.begin(), runs.end(),
            [](const RunView& a, const RunView& b) { return a.name < b.name; });
  resp.Send(200, kHtml, ListPage(runs, ns, s.clock.Now(), kRefreshSeconds * 2));
}

}  // namespace

int CmdUi(const Args& args, Session& s) {
  const std::string port_text = args.Get("port", "8080");
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    return Fail(s, "--port " + port_text + ": want a port number (0 picks a free one)", 2);
  }
  // Block the stop signals in every thread; this one waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  k8s::LoopbackServer server("127.0.0.1", std::stoi(port_text),
                             [&s](const k8s::ServerRequest& req, k8s::ServerResponse& resp) {
                               if (req.path == "/run")
                                 ServeRun(s, req, resp);
                               else if (req.path == "/")
                                 ServeList(s, req, resp);
                               else
                                 resp.Send(404, "text/plain", "not found\n");
                             });
  if (k8s::Status st = server.Start(); !st.ok()) return Fail(s, "cannot listen on " + st.message());
  s.out << "serving the executions of namespace " << s.ns
        << " on http://127.0.0.1:" << server.port()
        << "/ (read-only, with your credentials; Ctrl-C stops)\n"
        << std::flush;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.Stop();
  return 0;
}

}  // namespace stepline::cli
