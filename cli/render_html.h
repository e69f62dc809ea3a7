// The `ui` pages: plain server-rendered HTML with the run's graph as inline SVG. No JavaScript:
// a page whose run is still going reloads itself (meta refresh). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "cli/run_view.h"
#include "k8sclient/clock.h"

namespace stepline::cli {

// Links of the ui: /?ns=NS (the list) and /run?ns=NS&name=RUN[&step=STEP].
std::string RunLink(const std::string& ns, const std::string& run, const std::string& step = "");

// The executions of a namespace.
std::string ListPage(const std::vector<RunView>& runs, const std::string& ns, k8s::WallTime now,
                     int refresh_seconds);

struct RunPageInput {
  const RunView* run = nullptr;
  std::string svg;          // the graph (Graphviz output; the XML prolog is dropped)
  std::string selected;     // the step shown in detail ("" = none)
  std::string logs;         // the selected step's log (its latest attempt), or why there is none
  std::string logs_pod;     // the pod the log came from
  int refresh_seconds = 3;  // while the run is not finished
};

// One run: its header, graph, steps table and the selected step's details and log.
std::string RunPage(const RunPageInput& in, k8s::WallTime now);
// An error in the page's frame (a run that does not exist, a missing permission).
std::string ErrorPage(const std::string& title, const std::string& message);
// Graphviz's SVG without the XML prolog and DOCTYPE, ready to inline in HTML.
std::string InlineSvg(const std::string& svg);

}  // namespace stepline::cli
