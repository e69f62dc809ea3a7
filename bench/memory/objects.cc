// bench_memory_objects: what the controller's caches hold, per resource, without the
// controller: lists the Pipelines, PipelineExecutions, Jobs and Pods of the cluster of
// $KUBECONFIG (as the informers do), and measures the heap each set takes as nlohmann::json
// (glibc mallinfo2), with managedFields stripped, then after the reconcilers' cache trimming.
//
//   build/bin/bench_memory_objects [--namespace NS] [--json FILE]
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/config.h"
#include "k8sclient/informer.h"
#include "reconcilers/cache_trim.h"

namespace stepline::bench {
namespace {

using k8s::Object;

size_t HeapInUse() { return mallinfo2().uordblks; }

struct Row {
  std::string resource;
  size_t objects = 0;
  size_t json_bytes = 0;    // serialized size after stripping managedFields
  size_t heap_full = 0;     // heap of the objects as cached without trimming
  size_t heap_trimmed = 0;  // the same after the trim transform
};

// Heap taken by `objects` copies of the list items, each passed through `prepare`.
size_t HeapOf(const std::vector<Object>& items, const std::function<void(Object&)>& prepare) {
  malloc_trim(0);
  const size_t before = HeapInUse();
  std::vector<std::shared_ptr<const Object>> held;
  held.reserve(items.size());
  for (const Object& item : items) {
    Object copy = item;
    prepare(copy);
    held.push_back(std::make_shared<const Object>(std::move(copy)));
  }
  const size_t after = HeapInUse();
  return after - before;
}

Row Measure(k8s::Client& client, const k8s::Resource& r, const std::string& ns,
            const std::function<void(Object&)>& trim) {
  Row row{r.resource};
  k8s::Result<k8s::ObjectList> list = k8s::ListAll(client, r, ns, {}, 500);
  if (!list.ok()) {
    std::fprintf(stderr, "list %s: %s\n", r.resource.c_str(), list.status().ToString().c_str());
    return row;
  }
  for (Object& item : list->items) k8s::StripManagedFields(item);
  row.objects = list->items.size();
  for (const Object& item : list->items) row.json_bytes += item.dump().size();
  row.heap_full = HeapOf(list->items, [](Object&) {});
  row.heap_trimmed = HeapOf(list->items, trim);
  return row;
}

int Run(const std::string& ns, const std::string& json_file) {
  k8s::Result<k8s::RestConfig> config = k8s::LoadDefault("");
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 1;
  }
  k8s::RealClock clock;
  auto client = k8s::ApiServerClient::New(*config, clock);
  namespace res = k8s::resources;
  std::vector<Row> rows = {
      Measure(*client, res::kPipelines, ns, [](Object&) {}),
      Measure(*client, res::kPipelineExecutions, ns, reconcilers::TrimExecution),
      Measure(*client, res::kJobs, ns, reconcilers::TrimJob),
      Measure(*client, res::kPods, ns, reconcilers::TrimPod),
  };
  Object out = Object::object();
  std::printf("%-20s %8s %12s %14s %14s %12s %12s\n", "resource", "objects", "JSON B/obj",
              "heap full MiB", "trimmed MiB", "full B/obj", "trimmed B/obj");
  for (const Row& r : rows) {
    size_t n = r.objects ? r.objects : 1;
    std::printf("%-20s %8zu %12zu %14.1f %14.1f %12zu %12zu\n", r.resource.c_str(), r.objects,
                r.json_bytes / n, r.heap_full / 1048576.0, r.heap_trimmed / 1048576.0,
                r.heap_full / n, r.heap_trimmed / n);
    out[r.resource] = {{"objects", r.objects},
                       {"json_bytes", r.json_bytes},
                       {"heap_full_bytes", r.heap_full},
                       {"heap_trimmed_bytes", r.heap_trimmed}};
  }
  if (!json_file.empty()) std::ofstream(json_file) << out.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace stepline::bench

int main(int argc, char** argv) {
  std::string ns, json;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--namespace") {
      ns = argv[i + 1];
    } else if (arg == "--json") {
      json = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s [--namespace NS] [--json FILE]\n", argv[0]);
      return 2;
    }
  }
  return stepline::bench::Run(ns, json);
}
