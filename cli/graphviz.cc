// RenderDot (render_graph.h) over Graphviz's libgvc, as Debian packages it (libgraphviz-dev).
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>

#include "cli/render_graph.h"

namespace stepline::cli {

namespace {

std::mutex& GraphvizMutex() {
  static std::mutex mu;  // libgvc and cgraph keep global state (the error buffer, plugins)
  return mu;
}

std::string& LastError() {
  static std::string text;
  return text;
}

int CollectError(char* message) {
  LastError() += message;
  return 0;
}

}  // namespace

k8s::Result<std::string> RenderDot(const std::string& dot, const std::string& format) {
  if (format != "svg" && format != "png") {
    return k8s::Status::InvalidArgument("unknown graph format \"" + format +
                                        "\" (want dot, svg or png)");
  }
  std::lock_guard lock(GraphvizMutex());
  LastError().clear();
  agseterrf(CollectError);
  GVC_t* gvc = gvContext();
  Agraph_t* graph = agmemread(dot.c_str());
  if (graph == nullptr) {
    gvFreeContext(gvc);
    return k8s::Status::InvalidArgument("graphviz could not read the graph: " + LastError());
  }
  std::string out;
  bool ok = gvLayout(gvc, graph, "dot") == 0;
  if (ok) {
    char* data = nullptr;
    unsigned int length = 0;
    ok = gvRenderData(gvc, graph, format.c_str(), &data, &length) == 0 && data != nullptr;
    if (ok) out.assign(data, length);
    if (data != nullptr) gvFreeRenderData(data);
    gvFreeLayout(gvc, graph);
  }
  agclose(graph);
  gvFreeContext(gvc);
  if (!ok) {
    return k8s::Status::InvalidArgument("graphviz could not render " + format + ": " +
                                        (LastError().empty() ? "no renderer" : LastError()));
  }
  return out;
}

}  // namespace stepline::cli
