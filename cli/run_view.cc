#include "cli/run_view.h"

#include <algorithm>
#include <map>
#include <set>

#include "k8sclient/object_fields.h"

namespace stepline::cli {

namespace {

using k8s::Child;
using k8s::StringField;

int64_t Int(const k8s::Object& obj, const char* key) { return k8s::IntField(obj, key).value_or(0); }

std::vector<std::string> Strings(const k8s::Object& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& v : list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<ChildView> Children(const k8s::Object& list) {
  std::vector<ChildView> out;
  if (!list.is_array()) return out;
  for (const auto& c : list) {
    out.push_back({Int(c, "index"), ItemText(Child(c, "item")), StringField(c, "phase"),
                   StringField(c, "reason"), StringField(c, "message"), StringField(c, "jobName"),
                   Int(c, "attempts")});
  }
  return out;
}

StepView StepFromSpec(const k8s::Object& spec) {
  StepView s;
  s.name = StringField(spec, "name");
  if (std::string type = StringField(spec, "type"); !type.empty()) s.type = type;
  s.depends_on = Strings(Child(spec, "dependsOn"));
  s.fan_out = !Child(spec, "forEach").is_null();
  return s;
}

void ApplyStatus(const k8s::Object& st, StepView* s) {
  if (std::string phase = StringField(st, "phase"); !phase.empty()) s->phase = phase;
  s->reason = StringField(st, "reason");
  s->message = StringField(st, "message");
  s->job_name = StringField(st, "jobName");
  s->reused_from = StringField(st, "reusedFrom");
  s->start_time = StringField(st, "startTime");
  s->completion_time = StringField(st, "completionTime");
  s->next_attempt_time = StringField(st, "nextAttemptTime");
  s->attempts = Int(st, "attempts");
  const k8s::Object& ch = Child(st, "children");
  if (ch.is_object()) {
    s->fan_out = true;
    s->children = {Int(ch, "total"), Int(ch, "succeeded"), Int(ch, "failed"), Int(ch, "running"),
                   Int(ch, "pending")};
  }
  s->failed_children = Children(Child(st, "failedChildren"));
  s->running_children = Children(Child(st, "runningChildren"));
  const k8s::Object& outputs = Child(st, "outputs");
  if (outputs.is_object()) {
    for (const auto& [k, v] : outputs.items()) {
      s->outputs.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
}

// Depth-first, children in DAG order: each step right below its tree parent, so that the tree
// can be drawn; every step still comes after its parent.
std::vector<StepView> TreeOrder(std::vector<StepView> dag) {
  std::map<std::string, std::vector<size_t>> children;
  for (size_t i = 0; i < dag.size(); ++i) children[dag[i].parent].push_back(i);
  std::vector<StepView> out;
  std::vector<size_t> stack;
  const auto& roots = children[""];
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back(*it);
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    auto kids = children.find(dag[i].name);
    if (kids != children.end() && !dag[i].name.empty()) {
      for (auto it = kids->second.rbegin(); it != kids->second.rend(); ++it) stack.push_back(*it);
    }
    out.push_back(std::move(dag[i]));
  }
  return out;
}

}  // namespace

const StepView* RunView::Find(const std::string& step) const {
  for (const auto& s : steps) {
    if (s.name == step) return &s;
  }
  return nullptr;
}

std::string ItemText(const k8s::Object& item) {
  if (item.is_null()) return "";
  if (item.is_string()) {  // status holds the item as JSON text: "\"ch\"" reads as ch
    const std::string& text = item.get_ref<const std::string&>();
    k8s::Object parsed = k8s::Object::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_string()) return parsed.get<std::string>();
    return text;
  }
  return item.dump(-1, ' ', false, k8s::Object::error_handler_t::replace);
}

std::vector<StepView> OrderSteps(std::vector<StepView> steps) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < steps.size(); ++i) index.emplace(steps[i].name, i);
  std::vector<StepView> out;
  std::map<std::string, size_t> placed;  // name -> position in out
  std::vector<bool> done(steps.size(), false);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < steps.size(); ++i) {  // the first ready step in declaration order
      if (done[i]) continue;
      bool ready = true;
      for (const auto& d : steps[i].depends_on) {
        ready = ready && (!index.count(d) || placed.count(d) || d == steps[i].name);
      }
      if (!ready) continue;
      StepView s = std::move(steps[i]);
      done[i] = progress = true;
      size_t latest = 0;
      for (const auto& d : s.depends_on) {
        auto it = placed.find(d);
        if (it == placed.end() || (!s.parent.empty() && it->second < latest)) continue;
        s.parent = d;
        latest = it->second;
        s.depth = out[it->second].depth + 1;
      }
      placed[s.name] = out.size();
      out.push_back(std::move(s));
      break;
    }
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!done[i]) out.push_back(std::move(steps[i]));  // on a cycle: the controller reports it
  }
  return TreeOrder(std::move(out));
}

RunView RunViewFromObject(const k8s::Object& execution) {
  RunView v;
  const k8s::Object& meta = Child(execution, "metadata");
  const k8s::Object& spec = Child(execution, "spec");
  const k8s::Object& status = Child(execution, "status");
  v.ns = StringField(meta, "namespace");
  v.name = StringField(meta, "name");
  v.creation_time = StringField(meta, "creationTimestamp");
  v.pipeline = StringField(spec, "pipelineName");
  v.status = StringField(status, "pipelineExecutionStatus");
  if (v.status.empty()) v.status = "Pending";
  v.progress = StringField(status, "progress");
  v.failure_reason = StringField(status, "failureReason");
  v.start_time = StringField(status, "startTime");
  v.completion_time = StringField(status, "completionTime");
  std::vector<StepView> steps;
  const k8s::Object& snapshot_steps = Child(Child(status, "pipelineSnapshot"), "steps");
  if (snapshot_steps.is_array()) {
    for (const auto& s : snapshot_steps) steps.push_back(StepFromSpec(s));
  }
  const k8s::Object& step_status = Child(status, "steps");
  if (step_status.is_array()) {
    for (const auto& st : step_status) {
      auto it = std::find_if(steps.begin(), steps.end(),
                             [&](const StepView& s) { return s.name == StringField(st, "name"); });
      if (it == steps.end())
        it = steps.insert(steps.end(), StepView{.name = StringField(st, "name")});
      ApplyStatus(st, &*it);
    }
  }
  v.steps = OrderSteps(std::move(steps));
  return v;
}

std::vector<StepView> StepsFromPipeline(const k8s::Object& pipeline) {
  std::vector<StepView> steps;
  const k8s::Object& list = Child(Child(pipeline, "spec"), "steps");
  if (list.is_array()) {
    for (const auto& s : list) steps.push_back(StepFromSpec(s));
  }
  return OrderSteps(std::move(steps));
}

void ApplyRetryEvents(const std::vector<k8s::Object>& events, RunView* run) {
  std::map<std::string, std::pair<int64_t, std::string>> last;  // step -> (attempt, class)
  for (const auto& e : events) {
    if (StringField(e, "reason") != "StepRetrying") continue;
    const std::string msg =
        StringField(e, "message");  // step "x": attempt 1 of 4 failed (Error); ...
    const size_t name_end = msg.find("\": attempt ");
    const size_t open = msg.find(" failed (");
    if (msg.rfind("step \"", 0) != 0 || name_end == std::string::npos ||
        open == std::string::npos) {
      continue;
    }
    const size_t close = msg.find(')', open);
    const std::string step = msg.substr(6, name_end - 6);
    const int64_t attempt = std::strtoll(msg.c_str() + name_end + 11, nullptr, 10);
    if (close == std::string::npos || (last.count(step) && last[step].first > attempt)) continue;
    last[step] = {attempt, msg.substr(open + 9, close - open - 9)};
  }
  for (auto& s : run->steps) {
    auto it = last.find(s.name);
    if (s.reason.empty() && !s.fan_out && it != last.end()) s.reason = it->second.second;
  }
}

}  // namespace stepline::cli
