// bench_client_create: how fast ApiServerClient creates objects with 16 requests in flight,
// over one multiplexed HTTP/2 connection and over 16 HTTP/1.1 connections.
//
//   eval "$(testenv/up.sh)"; build/bin/bench_client_create [--objects N] [--concurrency C]
//
// Uses the server of $KUBECONFIG (or in-cluster, ~/.kube/config), registers its own CRD
// (benchobjects.bench.stepline.dev) and a fresh namespace per run, and deletes the namespace at
// the end (on the test server the objects stay: it has no namespace controller).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/crd.h"

namespace stepline::k8s {
namespace {

const Resource kBenchObjects{"bench.stepline.dev", "v1", "benchobjects", "BenchObject", true};

struct Options {
  int objects = 2000;
  int concurrency = 16;
};

Object BenchCrd() {
  Object open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  Object version = {
      {"name", "v1"},
      {"served", true},
      {"storage", true},
      {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"properties", {{"spec", open}}}}}}}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "benchobjects.bench.stepline.dev"}}},
          {"spec",
           {{"group", "bench.stepline.dev"},
            {"scope", "Namespaced"},
            {"names", {{"plural", "benchobjects"}, {"kind", "BenchObject"}}},
            {"versions", Object::array({version})}}}};
}

Object BenchObject(const std::string& ns, const std::string& name) {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"bench", "create"}}}}},
          {"spec", {{"step", "train"}, {"image", "registry.example/ml:1.4"}, {"attempt", 1}}}};
}

struct RunResult {
  double creates_per_second = 0;
  int failures = 0;
  uint64_t connections = 0;
};

// Creates opts.objects objects named prefix-i with opts.concurrency threads.
RunResult CreateAll(const RestConfig& config, CurlTransportOptions transport_options,
                    const std::string& ns, const std::string& prefix, const Options& opts) {
  RealClock clock;
  CurlTransport transport(std::move(transport_options));
  ApiServerClient client(config, transport, clock);
  // Warm up: the connection(s), TLS, and the resource's storage (may answer 429 at first).
  Result<Object> warm = client.Create(kBenchObjects, ns, BenchObject(ns, prefix + "-warmup"));
  if (!warm.ok()) std::fprintf(stderr, "warm-up create: %s\n", warm.status().ToString().c_str());
  std::atomic<int> next{0}, failures{0};
  const MonoTime start = clock.MonotonicNow();
  std::vector<std::thread> threads;
  for (int t = 0; t < opts.concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < opts.objects; i = next++) {
        if (!client.Create(kBenchObjects, ns, BenchObject(ns, prefix + "-" + std::to_string(i)))
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::chrono::duration<double> elapsed = clock.MonotonicNow() - start;
  return {opts.objects / elapsed.count(), failures.load(), transport.connections_opened()};
}

bool ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--objects" || arg == "--concurrency") && i + 1 < argc) {
      int value = std::atoi(argv[++i]);
      if (value <= 0) return false;
      (arg == "--objects" ? opts->objects : opts->concurrency) = value;
    } else {
      return false;
    }
  }
  return true;
}

int Run(const Options& opts) {
  Result<RestConfig> config = LoadDefault("");
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n(start a server: eval \"$(testenv/up.sh)\")\n",
                 config.status().ToString().c_str());
    return 1;
  }
  config->qps = 0;  // measure the server and the transport, not the client-side limiter
  RealClock clock;
  ClockSleeper sleeper(clock);
  auto admin = ApiServerClient::New(*config, clock);
  if (Status s = EnsureCrdEstablished(*admin, BenchCrd(), clock, sleeper); !s.ok()) {
    std::fprintf(stderr, "registering the bench CRD: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string ns = "bench-" + std::to_string(getpid()) + "-" +
                         std::to_string(clock.Now().time_since_epoch().count() % 1000000);
  if (auto r = admin->Create(resources::kNamespaces, "", {{"metadata", {{"name", ns}}}}); !r.ok()) {
    std::fprintf(stderr, "creating namespace %s: %s\n", ns.c_str(), r.status().ToString().c_str());
    return 1;
  }
  CurlTransportOptions h2 = CurlTransportOptions::FromRestConfig(*config);
  CurlTransportOptions h1 = h2;
  h1.http_version = CurlTransportOptions::HttpVersion::kHttp11;
  h1.max_connections = opts.concurrency;
  std::printf("creating %d objects, %d in flight, server %s\n", opts.objects, opts.concurrency,
              config->server.c_str());
  RunResult r2 = CreateAll(*config, h2, ns, "h2", opts);
  std::printf(
      "HTTP/2   (1 multiplexed connection): %8.0f creates/s  connections=%llu failures=%d\n",
      r2.creates_per_second, static_cast<unsigned long long>(r2.connections), r2.failures);
  RunResult r1 = CreateAll(*config, h1, ns, "h1", opts);
  std::printf(
      "HTTP/1.1 (%d connections):           %8.0f creates/s  connections=%llu failures=%d\n",
      opts.concurrency, r1.creates_per_second, static_cast<unsigned long long>(r1.connections),
      r1.failures);
  std::printf("ratio HTTP/2 / HTTP/1.1: %.2f\n", r2.creates_per_second / r1.creates_per_second);
  (void)admin->Delete(resources::kNamespaces, "", ns);
  return r1.failures + r2.failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace stepline::k8s

int main(int argc, char** argv) {
  stepline::k8s::Options opts;
  if (!stepline::k8s::ParseArgs(argc, argv, &opts)) {
    std::fprintf(stderr, "usage: %s [--objects N] [--concurrency C]\n", argv[0]);
    return 2;
  }
  return stepline::k8s::Run(opts);
}
