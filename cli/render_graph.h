// The DAG of a run or a pipeline as Graphviz DOT (pure), and DOT rendered to SVG or PNG with
// Graphviz's libgvc (graphviz.cc). Each step is a node coloured by its phase; a fan-out step is
// one node (drawn as a stack) with its children's counts; Approval and Fail steps have shapes of
// their own.
#pragma once

#include <string>
#include <vector>

#include "cli/run_view.h"
#include "k8sclient/status.h"

namespace stepline::cli {

struct GraphOptions {
  std::string title;        // the graph's label ("" = none)
  std::string link_prefix;  // when set, each node links to link_prefix + step name (the ui)
  std::string selected;     // a step drawn with a thicker border (the ui's selected step)
  bool show_phase = true;   // false for a pipeline (no run yet): no phase colours or counts
};

// DOT text for the steps (in DAG order). Names and labels are quoted and escaped.
std::string GraphDot(const std::vector<StepView>& steps, const GraphOptions& options);

// Renders DOT with libgvc: format "svg" or "png". Errors (kInvalidArgument) carry Graphviz's
// message. Thread-safety: serialised internally (libgvc keeps global state).
k8s::Result<std::string> RenderDot(const std::string& dot, const std::string& format);

}  // namespace stepline::cli
