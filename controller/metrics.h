// A small metrics registry: counter, gauge and histogram families with labels, rendered in the
// Prometheus text exposition format 0.0.4.
//
// Thread-safety: Registry and the families are safe to use from any thread. Families are created
// once (at wiring time) and live as long as the registry; each guards its series with its own
// mu_, the registry guards its list of families with mu_ (GUARDED_BY).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/thread_annotations.h"

namespace stepline::controller::metrics {

using LabelValues = std::vector<std::string>;

class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~Family() = default;
  const std::string& name() const { return name_; }
  // Appends "# HELP", "# TYPE" and one line per sample.
  virtual void Render(std::string& out) const = 0;

 protected:
  // {a="x",b="y"} for these values, with extra (e.g. le="0.5") last; "" when there are none.
  std::string LabelText(const LabelValues& values, const std::string& extra = {}) const;
  void RenderHeader(std::string& out, const char* type) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
};

// A value per label set: counters only go up (Inc), gauges are set.
class ScalarFamily final : public Family {
 public:
  ScalarFamily(std::string name, std::string help, std::vector<std::string> label_names,
               bool is_counter)
      : Family(std::move(name), std::move(help), std::move(label_names)), is_counter_(is_counter) {}
  void Inc(const LabelValues& values = {}, double delta = 1) EXCLUDES(mu_);
  void Set(const LabelValues& values, double value) EXCLUDES(mu_);  // gauges
  double Value(const LabelValues& values = {}) const EXCLUDES(mu_);
  void Render(std::string& out) const override EXCLUDES(mu_);

 private:
  const bool is_counter_;
  mutable k8s::Mutex mu_;
  std::map<LabelValues, double> values_ GUARDED_BY(mu_);
};

class HistogramFamily final : public Family {
 public:
  // bounds: the buckets' upper bounds, increasing; +Inf is implied.
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
      : Family(std::move(name), std::move(help), std::move(label_names)),
        bounds_(std::move(bounds)) {}
  void Observe(const LabelValues& values, double v) EXCLUDES(mu_);
  uint64_t Count(const LabelValues& values) const EXCLUDES(mu_);
  void Render(std::string& out) const override EXCLUDES(mu_);

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  const std::vector<double> bounds_;
  mutable k8s::Mutex mu_;
  std::map<LabelValues, Series> series_ GUARDED_BY(mu_);
};

class Registry {
 public:
  ScalarFamily& Counter(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names = {});
  ScalarFamily& Gauge(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names = {});
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names, std::vector<double> bounds);
  // A name registered again returns the existing family (its help, labels and buckets stay).
  // Every family in the order they were registered.
  std::string Render() const EXCLUDES(mu_);

 private:
  template <typename F>
  F& Add(std::unique_ptr<F> family) EXCLUDES(mu_);

  mutable k8s::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ GUARDED_BY(mu_);
};

// Prometheus' default buckets (seconds): .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultBuckets();
// start, start*factor, ... (count bounds).
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// Shortest text that reads back as v; "+Inf", "-Inf", "NaN" for the specials.
std::string FormatValue(double v);
// Label values escape \ " and newline; HELP text escapes \ and newline.
std::string EscapeLabelValue(const std::string& s);
std::string EscapeHelp(const std::string& s);

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace stepline::controller::metrics
