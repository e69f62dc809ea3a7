// list, get, watch and graph: the commands that only read.
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "cli/commands.h"
#include "cli/render_graph.h"
#include "cli/render_text.h"

namespace stepline::cli {

namespace {

const char* kPlx = "pipelineexecutions.stepline.dev";

// Waits on the run's watch until it changes; false when the run is gone or the watch failed
// (why says which).
bool NextVersion(Session& s, const std::string& name, std::string* rv, k8s::Object* run,
                 std::string* why) {
  k8s::WatchOptions opts{.field_selector = "metadata.name=" + name, .resource_version = *rv};
  opts.timeout_seconds = 60;
  bool changed = false, deleted = false;
  k8s::Status st = s.client.Watch(
      k8s::resources::kPipelineExecutions, s.ns, opts,
      [&](k8s::WatchEvent&& e) {
        if (e.type == k8s::WatchEvent::Type::kBookmark) {
          *rv = k8s::ResourceVersionOf(e.object);
          return true;
        }
        deleted = e.type == k8s::WatchEvent::Type::kDeleted;
        *run = std::move(e.object);
        *rv = k8s::ResourceVersionOf(*run);
        changed = true;
        return false;
      },
      nullptr);
  if (deleted) {
    *why = "run \"" + name + "\" was deleted";
    return false;
  }
  if (changed || st.ok()) return true;  // a quiet watch that timed out: look again
  if (st.IsGone()) {                    // too old: read the run afresh
    auto fresh = GetRun(s, name, why);
    if (!fresh.ok()) return false;
    *run = *fresh;
    *rv = k8s::ResourceVersionOf(*run);
    return true;
  }
  *why = Explain(st, {"watch", kPlx, s.ns, "run", name});
  return false;
}

// "run/x" and "pipeline/x" choose; a bare name is a run when one exists, else a pipeline.
k8s::Result<std::vector<StepView>> GraphSteps(Session& s, const std::string& target,
                                              std::string* title, std::string* why) {
  std::string kind, name = target;
  if (size_t slash = target.find('/'); slash != std::string::npos) {
    kind = target.substr(0, slash);
    name = target.substr(slash + 1);
  }
  if (kind != "pipeline") {
    auto run = s.client.Get(k8s::resources::kPipelineExecutions, s.ns, name);
    if (run.ok()) {
      RunView v = RunViewFromObject(*run);
      *title = v.name + " (" + v.pipeline + "): " + v.status + " " + v.progress;
      if (v.steps.empty()) *why = "run \"" + name + "\" has no steps yet (status " + v.status + ")";
      return v.steps;
    }
    if (kind == "run" || !run.status().IsNotFound()) {
      *why = Explain(run.status(), {"get", kPlx, s.ns, "run", name});
      return run.status();
    }
  }
  auto pipeline = s.client.Get(k8s::resources::kPipelines, s.ns, name);
  if (!pipeline.ok()) {
    *why =
        pipeline.status().IsNotFound() && kind.empty()
            ? "no run or pipeline named \"" + name + "\" in namespace \"" + s.ns + "\""
            : Explain(pipeline.status(), {"get", "pipelines.stepline.dev", s.ns, "pipeline", name});
    return pipeline.status();
  }
  *title = "pipeline " + name;
  std::vector<StepView> steps = StepsFromPipeline(*pipeline);
  if (steps.empty()) {
    *why = "pipeline \"" + name +
           "\" has no spec.steps (a SageMaker pipelineDefinition is "
           "compiled when a run starts: graph a run of it instead)";
  }
  return steps;
}

}  // namespace

int CmdList(const Args& args, Session& s) {
  const bool all = args.Has("all-namespaces");
  auto list = k8s::ListAll(s.client, k8s::resources::kPipelineExecutions, all ? "" : s.ns,
                           {.label_selector = args.Get("selector")});
  if (!list.ok()) return Fail(s, Explain(list.status(), {"list", kPlx, all ? "" : s.ns}));
  std::vector<RunView> runs;
  const std::string pipeline = args.Get("pipeline");
  for (const auto& item : list->items) {
    RunView v = RunViewFromObject(item);
    if (pipeline.empty() || v.pipeline == pipeline) runs.push_back(std::move(v));
  }
  std::sort(runs.begin(), runs.end(), [](const RunView& a, const RunView& b) {
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  if (runs.empty()) {
    s.err << "No runs found" << (all ? "" : " in namespace " + s.ns) << ".\n";
    return 0;
  }
  s.out << ListTable(runs, all, s.clock.Now());
  return 0;
}

int CmdGet(const Args& args, Session& s) {
  int code = 0;
  if (!NeedArgs(args, s, 1, "get RUN [-o json|yaml]", &code)) return code;
  std::string why;
  auto run = GetRun(s, args.positionals[0], &why);
  if (!run.ok()) return Fail(s, why);
  const std::string format = args.Get("output");
  if (format == "json") {
    s.out << run->dump(4, ' ', false, k8s::Object::error_handler_t::replace) << "\n";
  } else if (format == "yaml") {
    s.out << ObjectYaml(*run);
  } else if (format.empty() || format == "tree") {
    s.out << RunTree(LoadRunView(s, *run), s.clock.Now(), s.color);
  } else {
    return Fail(s, "unknown output format \"" + format + "\" for get (want json or yaml)", 2);
  }
  return 0;
}

int CmdWatch(const Args& args, Session& s) {
  int code = 0;
  if (!NeedArgs(args, s, 1, "watch RUN", &code)) return code;
  const std::string name = args.positionals[0];
  std::string why;
  auto got = GetRun(s, name, &why);
  if (!got.ok()) return Fail(s, why);
  k8s::Object run = *got;
  std::string rv = k8s::ResourceVersionOf(run), shown;
  for (;;) {
    RunView v = LoadRunView(s, run);
    std::string view = RunTree(v, s.clock.Now(), s.color);
    if (view != shown) {
      if (s.out_is_tty)
        s.out << "\033[H\033[2J";
      else if (!shown.empty())
        s.out << "\n";
      s.out << view << std::flush;
      shown = view;
    }
    if (v.Finished()) return v.status == "Succeeded" ? 0 : 1;
    if (!NextVersion(s, name, &rv, &run, &why)) return Fail(s, why);
  }
}

int CmdGraph(const Args& args, Session& s) {
  int code = 0;
  if (!NeedArgs(args, s, 1, "graph PIPELINE|RUN -o dot|svg|png [--file F]", &code)) return code;
  const std::string format = args.Get("output", "dot");
  if (format != "dot" && format != "svg" && format != "png") {
    return Fail(s, "unknown output format \"" + format + "\" for graph (want dot, svg or png)", 2);
  }
  std::string title, why;
  auto steps = GraphSteps(s, args.positionals[0], &title, &why);
  if (!steps.ok() || !why.empty()) return Fail(s, why);
  GraphOptions options{.title = title};
  options.show_phase = title.rfind("pipeline ", 0) != 0;
  std::string data = GraphDot(*steps, options);
  if (format != "dot") {
    auto rendered = RenderDot(data, format);
    if (!rendered.ok()) return Fail(s, rendered.status().message());
    data = std::move(*rendered);
  }
  const std::string file = args.Get("file");
  if (file.empty()) {
    if (format == "png" && s.out_is_tty) {
      return Fail(s, "not writing PNG to a terminal: use --file F or redirect the output", 2);
    }
    s.out << data << std::flush;
    return 0;
  }
  std::ofstream f(file, std::ios::binary);
  if (!(f << data)) return Fail(s, "cannot write " + file);
  s.err << "wrote " << file << " (" << data.size() << " bytes)\n";
  return 0;
}

}  // namespace stepline::cli
