#include "cli/render_graph.h"

#include <map>

#include "cli/render_text.h"

namespace stepline::cli {

namespace {

// A DOT double-quoted string.
std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

struct Colors {
  const char* fill;
  const char* border;
};

Colors PhaseColors(const std::string& phase) {
  static const std::map<std::string, Colors> kColors = {
      {"Succeeded", {"#d8f0dc", "#2e8540"}},
      {"Failed", {"#f9d6d5", "#c62828"}},
      {"Running", {"#d6e6fb", "#1f5fbf"}},
      {"Retrying", {"#fde9c8", "#c77700"}},
      {"Waiting", {"#fff4bf", "#a07800"}},
      {"WaitingForQuota", {"#fde9c8", "#c77700"}},
      {"Skipped", {"#eeeeee", "#9e9e9e"}},
      {"Stopped", {"#e4e4e4", "#616161"}},
      {"WaitingForAdmission", {"#fde9c8", "#c77700"}}};
  auto it = kColors.find(phase);
  return it == kColors.end() ? Colors{"#ffffff", "#757575"} : it->second;
}

const char* Shape(const StepView& s) {
  if (s.fan_out) return "box3d";
  if (s.type == "Approval") return "hexagon";
  if (s.type == "Fail") return "octagon";
  return "box";
}

std::string NodeLabel(const StepView& s, bool show_phase) {
  std::string label = s.name;
  if (s.fan_out) {
    label += s.children.total > 0 ? " ×" + std::to_string(s.children.total) : " (for each)";
  }
  if (s.type != "Container") label += "\n(" + s.type + ")";
  if (!show_phase) return label;
  label += "\n" + std::string(PhaseSymbol(s.phase)) + " " + s.phase;
  if (s.fan_out && s.children.total > 0) {
    label += "\n" + ChildrenSummary(StepView{.children = s.children});
  } else if (s.attempts > 1) {
    label += " · " + std::to_string(s.attempts) + " attempts";
  }
  return label;
}

}  // namespace

std::string GraphDot(const std::vector<StepView>& steps, const GraphOptions& options) {
  std::string out = "digraph stepline {\n";
  out += "  graph [rankdir=LR, nodesep=0.3, ranksep=0.45, fontname=\"DejaVu Sans\", fontsize=12";
  if (!options.title.empty()) out += ", labelloc=t, label=" + Quote(options.title);
  out += "];\n";
  out +=
      "  node [shape=box, style=\"rounded,filled\", fontname=\"DejaVu Sans\", fontsize=11, "
      "penwidth=1.4];\n";
  out += "  edge [color=\"#607d8b\", arrowsize=0.7];\n";
  for (const auto& s : steps) {
    const Colors c = options.show_phase ? PhaseColors(s.phase) : Colors{"#f5f7fa", "#546e7a"};
    std::string attrs = "id=" + Quote("step-" + s.name) + ", shape=" + Shape(s) +
                        ", label=" + Quote(NodeLabel(s, options.show_phase)) +
                        ", fillcolor=" + Quote(c.fill) + ", color=" + Quote(c.border);
    if (std::string(Shape(s)) != "box") attrs += ", style=filled";
    if (s.name == options.selected) attrs += ", penwidth=3";
    if (!options.link_prefix.empty()) {
      attrs += ", URL=" + Quote(options.link_prefix + s.name) + ", target=\"_top\"";
    }
    out += "  " + Quote(s.name) + " [" + attrs + "];\n";
  }
  std::map<std::string, bool> known;
  for (const auto& s : steps) known[s.name] = true;
  for (const auto& s : steps) {
    for (const auto& d : s.depends_on) {
      if (known.count(d)) out += "  " + Quote(d) + " -> " + Quote(s.name) + ";\n";
    }
  }
  return out + "}\n";
}

}  // namespace stepline::cli
