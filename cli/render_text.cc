#include "cli/render_text.h"

#include <algorithm>
#include <map>

namespace stepline::cli {

namespace {

// Display width: every UTF-8 lead byte counts one column (the symbols here are narrow); colour
// escapes ("\033[...m") count none.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  return n;
}

std::string Pad(const std::string& s, size_t width) {
  const size_t w = Width(s);
  return w >= width ? s + " " : s + std::string(width - w, ' ');
}

// Columns separated by three spaces, kubectl-style; the last column is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : Pad(row[i], widths[i] + 3);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

const char* PhaseColor(const std::string& phase) {
  if (phase == "Succeeded") return "\033[32m";
  if (phase == "Failed") return "\033[31m";
  if (phase == "Running" || phase == "Executing") return "\033[34m";
  if (phase == "Skipped" || phase == "Stopped") return "\033[90m";
  return "\033[33m";  // waits of all kinds
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string Duration(const std::string& start, const std::string& end, k8s::WallTime now) {
  const int64_t s = SecondsBetween(start, end, now);
  return s < 0 ? "" : FormatDuration(s);
}

// Tree prefixes ("├─", "│ └─") from the steps' parents, in DAG order.
std::map<std::string, std::string> TreePrefixes(const std::vector<StepView>& steps) {
  std::map<std::string, std::string> last_child;  // parent -> its last child
  for (const auto& s : steps) last_child[s.parent] = s.name;
  std::map<std::string, std::string> prefix, indent;  // indent: what children of s inherit
  for (const auto& s : steps) {
    if (s.parent.empty()) {
      prefix[s.name] = "";
      indent[s.name] = "";
      continue;
    }
    const bool last = last_child[s.parent] == s.name;
    prefix[s.name] = indent[s.parent] + (last ? "└─" : "├─");
    indent[s.name] = indent[s.parent] + (last ? "  " : "│ ");
  }
  return prefix;
}

}  // namespace

std::string FormatDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
                s = seconds % 60;
  if (d > 0) return std::to_string(d) + "d" + (h ? std::to_string(h) + "h" : "");
  if (h > 0) return std::to_string(h) + "h" + (m ? std::to_string(m) + "m" : "");
  if (m > 0) return std::to_string(m) + "m" + (s ? std::to_string(s) + "s" : "");
  return std::to_string(s) + "s";
}

int64_t SecondsBetween(const std::string& from, const std::string& to, k8s::WallTime now) {
  k8s::WallTime a, b = now;
  if (!k8s::ParseRfc3339(from, &a)) return -1;
  if (!to.empty() && !k8s::ParseRfc3339(to, &b)) return -1;
  return std::chrono::duration_cast<std::chrono::seconds>(b - a).count();
}

const char* PhaseSymbol(const std::string& phase) {
  static const std::map<std::string, const char*> kSymbols = {
      // all in DejaVu Sans
      {"Succeeded", "✓"}, {"Failed", "✗"},  {"Running", "●"},         {"Executing", "●"},
      {"Retrying", "↻"},  {"Waiting", "‖"}, {"WaitingForQuota", "◔"}, {"Pending", "○"},
      {"Skipped", "⊘"},   {"Stopped", "■"}, {"Stopping", "■"},        {"WaitingForAdmission", "◔"}};
  auto it = kSymbols.find(phase);
  return it == kSymbols.end() ? "?" : it->second;
}

std::string ChildrenSummary(const StepView& step) {
  const ChildCounts& c = step.children;
  std::string out = std::to_string(c.succeeded) + "/" + std::to_string(c.total) + " ✓";
  if (c.failed > 0) {
    out += ", " + std::to_string(c.failed) + " failed";
    std::string list;
    for (const auto& f : step.failed_children) {
      if (list.size() > 60) {
        list += ", ...";
        break;
      }
      const bool short_item =
          !f.item.empty() && f.item.size() <= 24 && f.item[0] != '{' && f.item[0] != '[';
      const std::string who = short_item ? f.item : "#" + std::to_string(f.index);
      list += (list.empty() ? "" : ", ") + who + ": " + (f.reason.empty() ? f.phase : f.reason);
    }
    if (!list.empty()) out += " [" + list + "]";
  }
  if (c.running > 0) out += ", " + std::to_string(c.running) + " running";
  if (c.pending > 0) out += ", " + std::to_string(c.pending) + " pending";
  return out;
}

std::string StepDetails(const StepView& step, const RunView& run) {
  std::string out = step.fan_out && step.children.total > 0 ? ChildrenSummary(step) : "";
  auto add = [&out](const std::string& text) {
    if (!text.empty()) out += (out.empty() ? "" : "; ") + FirstLine(text);
  };
  if (!step.reused_from.empty()) add("reused from " + step.reused_from);
  const std::string& p = step.phase;
  if (p == "Waiting") {
    add("waiting for approval: kubectl stepline approve " + run.name + " " + step.name);
  } else if (p == "WaitingForQuota" || p == "WaitingForAdmission" || p == "Retrying" ||
             p == "Failed" || (p == "Pending" && !step.message.empty())) {
    if (!step.fan_out || step.children.total == 0) add(step.message);
  } else if (!step.reason.empty() && !step.fan_out) {
    add("last failure: " + step.reason);
  }
  std::string others;  // dependencies the tree does not show (it hangs a step under one)
  for (const auto& d : step.depends_on) {
    if (d != step.parent && run.Find(d) != nullptr) others += (others.empty() ? "" : ", ") + d;
  }
  if (!others.empty()) add("also after " + others);
  return out;
}

std::string ListTable(const std::vector<RunView>& runs, bool all_namespaces, k8s::WallTime now) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"NAME", "PIPELINE", "STATUS", "PROGRESS", "DURATION", "AGE"};
  if (all_namespaces) head.insert(head.begin(), "NAMESPACE");
  rows.push_back(head);
  for (const auto& r : runs) {
    std::vector<std::string> row = {r.name,
                                    r.pipeline,
                                    r.status,
                                    r.progress,
                                    Duration(r.start_time, r.completion_time, now),
                                    Duration(r.creation_time, "", now)};
    if (all_namespaces) row.insert(row.begin(), r.ns);
    rows.push_back(std::move(row));
  }
  return Table(rows);
}

std::string RunTree(const RunView& run, k8s::WallTime now, bool color) {
  auto paint = [color](const std::string& phase, const std::string& text) {
    return color ? PhaseColor(phase) + text + "\033[0m" : text;
  };
  std::vector<std::vector<std::string>> head = {{"Name:", run.name},
                                                {"Namespace:", run.ns},
                                                {"Pipeline:", run.pipeline},
                                                {"Status:", paint(run.status, run.status)},
                                                {"Progress:", run.progress}};
  if (std::string d = Duration(run.start_time, run.completion_time, now); !d.empty()) {
    head.push_back({"Duration:", d});
  }
  if (!run.failure_reason.empty()) head.push_back({"Failure:", FirstLine(run.failure_reason)});
  std::string out = Table(head) + "\n";
  std::vector<std::vector<std::string>> rows = {
      {"STEP", "PHASE", "ATTEMPTS", "DURATION", "DETAILS"}};
  const auto prefixes = TreePrefixes(run.steps);
  std::vector<std::string> outputs;  // printed under the row of the same index
  for (const auto& s : run.steps) {
    const std::string name =
        prefixes.at(s.name) + paint(s.phase, PhaseSymbol(s.phase)) + " " + s.name;
    const bool has_attempts = s.RunsJobs() && !s.fan_out && s.attempts > 0;
    rows.push_back({name, paint(s.phase, s.phase), has_attempts ? std::to_string(s.attempts) : "",
                    Duration(s.start_time, s.completion_time, now), StepDetails(s, run)});
    std::string outs;
    for (const auto& [k, v] : s.outputs) outs += (outs.empty() ? "" : " ") + k + "=" + v;
    outputs.push_back(outs);
  }
  const std::string table = Table(rows);
  size_t pos = table.find('\n') + 1;
  out += table.substr(0, pos);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const size_t end = table.find('\n', pos) + 1;
    out += table.substr(pos, end - pos);
    if (!outputs[i].empty()) out += "      outputs: " + outputs[i] + "\n";
    pos = end;
  }
  return out;
}

}  // namespace stepline::cli
