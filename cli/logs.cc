// logs: a step's pod logs through pods/log, attempt after attempt; -f follows the running attempt
// to its end and then the next one, until the step is finished.
#include <algorithm>
#include <thread>

#include "cli/commands.h"
#include "cli/logs.h"
#include "reconcilers/job_builder.h"

namespace stepline::cli {

namespace {

constexpr auto kPoll = std::chrono::seconds(1);

bool StepFinished(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Skipped" || phase == "Stopped";
}

int64_t LabelInt(const k8s::Object& pod, const char* label) {
  const auto& labels = pod["metadata"].value("labels", k8s::Object::object());
  auto it = labels.find(label);
  if (it == labels.end() || !it->is_string()) return -1;
  return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
}

struct LogRequest {
  std::string run, step;
  std::optional<int64_t> index, attempt;
  bool follow = false;
  std::string tail;
};

// Streams one pod's log to out. Returns the error in the user's terms ("" = fine); a container
// that has not started yet is *waiting.
std::string StreamPod(Session& s, const std::string& pod, const LogRequest& r, bool* waiting) {
  std::string query = r.follow ? "follow=true" : "";
  if (!r.tail.empty()) query += (query.empty() ? "" : "&") + ("tailLines=" + r.tail);
  k8s::Status st = s.client.GetStream(
      k8s::resources::kPods, s.ns, pod, "log", query,
      [&](std::string_view chunk) {
        s.out << chunk << std::flush;
        return s.out.good();
      },
      nullptr);
  *waiting = st.code() == k8s::StatusCode::kBadRequest &&
             (st.message().find("waiting to start") != std::string::npos ||
              st.message().find("does not have a host assigned") != std::string::npos);
  if (st.ok() || *waiting) return "";
  return Explain(st, {"get", "pods/log", s.ns, "pod", pod});
}

}  // namespace

std::string PodSelector(const std::string& run, const std::string& step,
                        std::optional<int64_t> index) {
  std::string sel = std::string(reconcilers::kLabelExecution) + "=" + run + "," +
                    reconcilers::kLabelStep + "=" + step;
  if (index) sel += std::string(",") + reconcilers::kLabelIndex + "=" + std::to_string(*index);
  return sel;
}

std::vector<AttemptPod> AttemptPods(const std::vector<k8s::Object>& pods,
                                    std::optional<int64_t> index) {
  std::vector<AttemptPod> out;
  for (const auto& pod : pods) {
    if (!index && LabelInt(pod, reconcilers::kLabelIndex) >= 0) continue;
    const std::string phase = pod["status"].value("phase", "");
    out.push_back({LabelInt(pod, reconcilers::kLabelAttempt), k8s::NameOf(pod), phase,
                   pod["metadata"].value("creationTimestamp", "")});
  }
  std::sort(out.begin(), out.end(), [](const AttemptPod& a, const AttemptPod& b) {
    return std::tie(a.attempt, a.created, a.pod) < std::tie(b.attempt, b.created, b.pod);
  });
  return out;
}

std::string CheckLogTarget(const RunView& run, const std::string& step,
                           std::optional<int64_t> index) {
  const StepView* sv = run.Find(step);
  if (sv == nullptr) return UnknownStep(run, step);
  if (sv->type != "Container") {
    return "step \"" + step + "\" is an " + sv->type + " step: it runs no pod, so it has no logs";
  }
  if (sv->fan_out && !index) {
    const int64_t n = sv->children.total;
    return "step \"" + step + "\" is a fan-out" +
           (n > 0 ? " of " + std::to_string(n) + " children" : "") +
           ": choose a child with --index" + (n > 0 ? " (0.." + std::to_string(n - 1) + ")" : "");
  }
  if (!sv->fan_out && index)
    return "step \"" + step + "\" is not a fan-out: --index does not apply";
  if (index && sv->children.total > 0 && (*index < 0 || *index >= sv->children.total)) {
    return "step \"" + step + "\" has children 0.." + std::to_string(sv->children.total - 1) +
           ", not " + std::to_string(*index);
  }
  return "";
}

namespace {

// Prints (or follows) every attempt's log in order. Returns the exit code.
int PrintAttempts(Session& s, const LogRequest& r) {
  size_t next = 0;  // attempts done so far (index into the sorted list)
  for (;;) {
    auto pods = k8s::ListAll(s.client, k8s::resources::kPods, s.ns,
                             {.label_selector = PodSelector(r.run, r.step, r.index)});
    if (!pods.ok()) return Fail(s, Explain(pods.status(), {"list", "pods", s.ns}));
    std::vector<AttemptPod> attempts = AttemptPods(pods->items, r.index);
    if (r.attempt) {
      std::erase_if(attempts, [&](const AttemptPod& a) { return a.attempt != *r.attempt; });
    }
    for (; next < attempts.size(); ++next) {
      const AttemptPod& a = attempts[next];
      if (attempts.size() > 1 || r.follow) {
        s.err << "==> " << r.step << (r.index ? "[" + std::to_string(*r.index) + "]" : "")
              << " attempt " << a.attempt << " (pod " << a.pod << ") <==\n";
      }
      bool waiting = false;
      if (std::string why = StreamPod(s, a.pod, r, &waiting); !why.empty()) return Fail(s, why);
      if (waiting && r.follow) {  // not started yet: try the same attempt again shortly
        std::this_thread::sleep_for(kPoll);
        break;
      }
    }
    if (!r.follow) {
      if (attempts.empty())
        return Fail(s, "step \"" + r.step + "\" has no pods yet" +
                           (r.attempt ? " for attempt " + std::to_string(*r.attempt) : "") +
                           " (see: " + s.program + " get " + r.run + ")");
      return 0;
    }
    std::string why;
    auto run = GetRun(s, r.run, &why);
    if (!run.ok()) return Fail(s, why);
    RunView v = RunViewFromObject(*run);
    const StepView* sv = v.Find(r.step);
    if (next >= attempts.size() && (v.Finished() || (sv && StepFinished(sv->phase)))) {
      // One last look: the final attempt's pod may have appeared since the list.
      auto last = k8s::ListAll(s.client, k8s::resources::kPods, s.ns,
                               {.label_selector = PodSelector(r.run, r.step, r.index)});
      if (!last.ok() || AttemptPods(last->items, r.index).size() <= next || r.attempt) return 0;
      continue;
    }
    if (next >= attempts.size()) std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace

int CmdLogs(const Args& args, Session& s) {
  if (args.positionals.empty() || args.positionals.size() > 2) {
    return Fail(s, "usage: " + s.program + " logs RUN [STEP] [--index N] [--attempt N] [-f]", 2);
  }
  LogRequest r{.run = args.positionals[0], .follow = args.Has("follow"), .tail = args.Get("tail")};
  for (const char* flag : {"index", "attempt", "tail"}) {
    const std::string v = args.Get(flag);
    if (!v.empty() && v.find_first_not_of("0123456789") != std::string::npos) {
      return Fail(s, std::string("--") + flag + " " + v + ": want a non-negative number", 2);
    }
  }
  if (args.Has("index")) r.index = std::stoll(args.Get("index"));
  if (args.Has("attempt")) r.attempt = std::stoll(args.Get("attempt"));
  std::string why;
  auto run = GetRun(s, r.run, &why);
  if (!run.ok()) return Fail(s, why);
  RunView v = RunViewFromObject(*run);
  while (r.follow && v.steps.empty() && !v.Finished()) {  // just started: no snapshot yet
    std::this_thread::sleep_for(kPoll);
    if (run = GetRun(s, r.run, &why); !run.ok()) return Fail(s, why);
    v = RunViewFromObject(*run);
  }
  std::vector<std::string> steps;
  if (args.positionals.size() == 2) {
    steps.push_back(args.positionals[1]);
  } else {
    for (const auto& sv : v.steps) {
      if (sv.RunsJobs() && !sv.fan_out) steps.push_back(sv.name);
    }
    if (steps.size() != 1 && r.follow) {
      return Fail(s, "name the step to follow: " + s.program + " logs " + r.run + " STEP -f", 2);
    }
  }
  for (const auto& step : steps) {
    r.step = step;
    if (std::string bad = CheckLogTarget(v, step, r.index); !bad.empty()) return Fail(s, bad, 2);
    if (steps.size() > 1) {
      const StepView* sv = v.Find(step);
      if (sv == nullptr || sv->attempts == 0) continue;
      s.err << "=== step " << step << " ===\n";
    }
    if (int code = PrintAttempts(s, r); code != 0) return code;
  }
  return 0;
}

}  // namespace stepline::cli
