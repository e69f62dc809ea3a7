// bench_decode: what decoding one step's watch events costs the controller, today and at the
// floor (issue #22: the controller's CPU per step against "the cost of decoding the step's watch
// events with the fastest JSON parser available from Debian").
//
//   bench_decode RECORDING [benchmark flags]
//
// RECORDING is written by bench/decode/record.py: the watch events the controller receives
// while chain executions run (its Jobs, its pods, the executions), one per line as the API
// server sent it, after a "# steps N" line. Each benchmark decodes every event of the recording
// once per iteration; "per_step" is the time per step (the recording's time / N).
//   Today/nlohmann     what the informers do now: parse the whole event into an nlohmann::json
//                      tree, then trim the object to what the reconcilers read (cache_trim.h).
//   Floor/simdjson     simdjson's On-Demand parser (libsimdjson-dev) straight into typed records
//                      holding what the trim keeps (Jobs and pods); an execution, which the
//                      planner reads whole, parsed into a simdjson DOM tree.
//   Reference/simdjson_dom  every event into a simdjson DOM tree, nothing extracted.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/cache_trim.h"

namespace {

namespace od = simdjson::ondemand;

enum class Kind { kJob, kPod, kExecution, kOther };

struct Event {
  Kind kind = Kind::kOther;
  std::string text;
  simdjson::padded_string padded;  // the same bytes with simdjson's padding
};

struct Recording {
  int steps = 0;
  std::vector<Event> events;
};

Kind KindOf(std::string_view resource) {
  if (resource == "jobs") return Kind::kJob;
  if (resource == "pods") return Kind::kPod;
  if (resource == "pipelineexecutions") return Kind::kExecution;
  return Kind::kOther;
}

std::optional<Recording> Load(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Recording r;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# steps ", 0) == 0) {
      r.steps = std::stoi(line.substr(8));
      continue;
    }
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    Event e;
    e.kind = KindOf(std::string_view(line).substr(0, tab));
    e.text = line.substr(tab + 1);
    e.padded = simdjson::padded_string(e.text);
    r.events.push_back(std::move(e));
  }
  if (r.steps <= 0 || r.events.empty()) return std::nullopt;
  return r;
}

// --- The typed records: what cache_trim.cc keeps of a Job and a pod. ---

struct Condition {
  std::string type, status, reason, message, last_transition_time;
};

struct Owner {
  std::string api_version, kind, name, uid;
  bool controller = false;
};

struct Meta {
  std::string name, ns, uid, resource_version, creation, deletion;
  int64_t generation = 0;
  std::vector<std::pair<std::string, std::string>> labels, annotations;  // stepline.dev/ only
  std::vector<Owner> owners;
  std::vector<std::string> finalizers;
};

struct Terminated {
  int64_t exit_code = 0;
  std::string reason, message, started_at, finished_at;
};

struct ContainerState {
  std::string name, waiting_reason, waiting_message, running_started_at;
  std::optional<Terminated> terminated;
};

struct JobRecord {
  Meta meta;
  bool suspend = false;
  int64_t active = 0;
  std::string completion_time;
  std::vector<Condition> conditions;
};

struct PodRecord {
  Meta meta;
  std::string phase, reason, message;
  std::vector<Condition> conditions;           // PodScheduled, DisruptionTarget
  std::optional<ContainerState> main;          // the first container
  std::vector<ContainerState> artifact_inits;  // artifact-* init containers
};

std::string Str(od::value v) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

int64_t Int(od::value v) {
  int64_t n = 0;
  if (v.get_int64().get(n) != simdjson::SUCCESS) return 0;
  return n;
}

bool Own(std::string_view key) {
  return key.rfind("stepline.dev/", 0) == 0 || key == "kueue.x-k8s.io/queue-name";
}

void OwnKeys(od::value v, std::vector<std::pair<std::string, std::string>>& out) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    std::string_view key = field.unescaped_key();
    if (Own(key)) out.emplace_back(std::string(key), Str(field.value()));
  }
}

void ReadMeta(od::value v, Meta& m) {
  od::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    std::string_view key = field.unescaped_key();
    if (key == "name") {
      m.name = Str(field.value());
    } else if (key == "namespace") {
      m.ns = Str(field.value());
    } else if (key == "uid") {
      m.uid = Str(field.value());
    } else if (key == "resourceVersion") {
      m.resource_version = Str(field.value());
    } else if (key == "generation") {
      m.generation = Int(field.value());
    } else if (key == "creationTimestamp") {
      m.creation = Str(field.value());
    } else if (key == "deletionTimestamp") {
      m.deletion = Str(field.value());
    } else if (key == "labels") {
      OwnKeys(field.value(), m.labels);
    } else if (key == "annotations") {
      OwnKeys(field.value(), m.annotations);
    } else if (key == "finalizers") {
      for (auto f : field.value().get_array()) m.finalizers.push_back(Str(f.value()));
    } else if (key == "ownerReferences") {
      for (auto o : field.value().get_array()) {
        Owner owner;
        for (auto of : o.get_object()) {
          std::string_view k = of.unescaped_key();
          if (k == "apiVersion") owner.api_version = Str(of.value());
          if (k == "kind") owner.kind = Str(of.value());
          if (k == "name") owner.name = Str(of.value());
          if (k == "uid") owner.uid = Str(of.value());
          if (k == "controller") owner.controller = of.value().get_bool().value_unsafe();
        }
        m.owners.push_back(std::move(owner));
      }
    }
  }
}

void ReadConditions(od::value v, std::vector<Condition>& out, bool pod) {
  od::array list;
  if (v.get_array().get(list) != simdjson::SUCCESS) return;
  for (auto c : list) {
    Condition cond;
    for (auto f : c.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "type") cond.type = Str(f.value());
      if (k == "status") cond.status = Str(f.value());
      if (k == "reason") cond.reason = Str(f.value());
      if (k == "message") cond.message = Str(f.value());
      if (k == "lastTransitionTime") cond.last_transition_time = Str(f.value());
    }
    if (pod && cond.type != "PodScheduled" && cond.type != "DisruptionTarget") continue;
    out.push_back(std::move(cond));
  }
}

ContainerState ReadContainer(od::object obj) {
  ContainerState c;
  for (auto f : obj) {
    std::string_view k = f.unescaped_key();
    if (k == "name") {
      c.name = Str(f.value());
    } else if (k == "state") {
      for (auto s : f.value().get_object()) {
        std::string_view state = s.unescaped_key();
        od::object detail = s.value().get_object();
        if (state == "terminated") {
          Terminated t;
          for (auto d : detail) {
            std::string_view dk = d.unescaped_key();
            if (dk == "exitCode") t.exit_code = Int(d.value());
            if (dk == "reason") t.reason = Str(d.value());
            if (dk == "message") t.message = Str(d.value());
            if (dk == "startedAt") t.started_at = Str(d.value());
            if (dk == "finishedAt") t.finished_at = Str(d.value());
          }
          c.terminated = std::move(t);
        } else if (state == "waiting") {
          for (auto d : detail) {
            std::string_view dk = d.unescaped_key();
            if (dk == "reason") c.waiting_reason = Str(d.value());
            if (dk == "message") c.waiting_message = Str(d.value());
          }
        } else if (state == "running") {
          for (auto d : detail) {
            if (d.unescaped_key().value_unsafe() == "startedAt")
              c.running_started_at = Str(d.value());
          }
        }
      }
    }
  }
  return c;
}

JobRecord ReadJob(od::value v) {
  JobRecord r;
  for (auto field : v.get_object()) {
    std::string_view key = field.unescaped_key();
    if (key == "metadata") {
      ReadMeta(field.value(), r.meta);
    } else if (key == "spec") {
      for (auto f : field.value().get_object()) {
        if (f.unescaped_key().value_unsafe() == "suspend")
          r.suspend = f.value().get_bool().value_unsafe();
      }
    } else if (key == "status") {
      for (auto f : field.value().get_object()) {
        std::string_view k = f.unescaped_key();
        if (k == "conditions") ReadConditions(f.value(), r.conditions, false);
        if (k == "completionTime") r.completion_time = Str(f.value());
        if (k == "active") r.active = Int(f.value());
      }
    }
  }
  return r;
}

PodRecord ReadPod(od::value v) {
  PodRecord r;
  for (auto field : v.get_object()) {
    std::string_view key = field.unescaped_key();
    if (key == "metadata") {
      ReadMeta(field.value(), r.meta);
    } else if (key == "status") {
      for (auto f : field.value().get_object()) {
        std::string_view k = f.unescaped_key();
        if (k == "phase") {
          r.phase = Str(f.value());
        } else if (k == "reason") {
          r.reason = Str(f.value());
        } else if (k == "message") {
          r.message = Str(f.value());
        } else if (k == "conditions") {
          ReadConditions(f.value(), r.conditions, true);
        } else if (k == "containerStatuses") {
          for (auto c : f.value().get_array()) {
            ContainerState s = ReadContainer(c.get_object());
            if (!r.main) r.main = std::move(s);
          }
        } else if (k == "initContainerStatuses") {
          for (auto c : f.value().get_array()) {
            ContainerState s = ReadContainer(c.get_object());
            if (s.name.rfind("artifact-", 0) == 0) r.artifact_inits.push_back(std::move(s));
          }
        }
      }
    }
  }
  return r;
}

// --- The benchmarks. ---

const Recording* recording = nullptr;

void SetPerStep(benchmark::State& state) {
  state.counters["per_step"] =
      benchmark::Counter(recording->steps, benchmark::Counter::kIsIterationInvariantRate |
                                               benchmark::Counter::kInvert);
  state.counters["events_per_step"] =
      static_cast<double>(recording->events.size()) / recording->steps;
}

void TodayNlohmann(benchmark::State& state) {
  for (auto _ : state) {
    for (const Event& e : recording->events) {
      nlohmann::json event = nlohmann::json::parse(e.text);
      nlohmann::json& obj = event["object"];
      if (e.kind == Kind::kJob) stepline::reconcilers::TrimJob(obj);
      if (e.kind == Kind::kPod) stepline::reconcilers::TrimPod(obj);
      benchmark::DoNotOptimize(obj);
    }
  }
  SetPerStep(state);
}

void FloorSimdjson(benchmark::State& state) {
  od::parser parser;
  simdjson::dom::parser dom;
  for (auto _ : state) {
    for (const Event& e : recording->events) {
      if (e.kind == Kind::kExecution) {
        simdjson::dom::element tree;
        if (dom.parse(e.padded).get(tree) != simdjson::SUCCESS) state.SkipWithError("bad JSON");
        benchmark::DoNotOptimize(tree);
        continue;
      }
      od::document doc = parser.iterate(e.padded);
      for (auto field : doc.get_object()) {
        std::string_view key = field.unescaped_key();
        if (key != "object") continue;
        if (e.kind == Kind::kJob) {
          JobRecord r = ReadJob(field.value());
          benchmark::DoNotOptimize(r);
        } else if (e.kind == Kind::kPod) {
          PodRecord r = ReadPod(field.value());
          benchmark::DoNotOptimize(r);
        }
      }
    }
  }
  SetPerStep(state);
}

void ReferenceSimdjsonDom(benchmark::State& state) {
  simdjson::dom::parser dom;
  for (auto _ : state) {
    for (const Event& e : recording->events) {
      simdjson::dom::element tree;
      if (dom.parse(e.padded).get(tree) != simdjson::SUCCESS) state.SkipWithError("bad JSON");
      benchmark::DoNotOptimize(tree);
    }
  }
  SetPerStep(state);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::cerr << "usage: bench_decode RECORDING [benchmark flags]\n"
                 "RECORDING: written by bench/decode/record.py against the test cluster\n";
    return 2;
  }
  std::optional<Recording> r = Load(argv[1]);
  if (!r) {
    std::cerr << "bench_decode: " << argv[1] << ": no \"# steps N\" line or no events\n";
    return 1;
  }
  recording = &*r;
  std::cerr << "bench_decode: " << r->events.size() << " watch events for " << r->steps
            << " steps\n";
  benchmark::RegisterBenchmark("Today/nlohmann", TodayNlohmann)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Floor/simdjson", FloorSimdjson)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Reference/simdjson_dom", ReferenceSimdjsonDom)
      ->Unit(benchmark::kMicrosecond);
  argv[1] = argv[0];
  int rest = argc - 1;
  benchmark::Initialize(&rest, argv + 1);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
