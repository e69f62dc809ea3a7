#include "controller/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace stepline::controller::metrics {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string EscapeLabelValue(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<double> DefaultBuckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

std::string Family::LabelText(const LabelValues& values, const std::string& extra) const {
  std::string out;
  for (size_t i = 0; i < label_names_.size() && i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += label_names_[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "{" : ",") + extra;
  if (!out.empty()) out += "}";
  return out;
}

void Family::RenderHeader(std::string& out, const char* type) const {
  out += "# HELP " + name_ + " " + EscapeHelp(help_) + "\n";
  out += "# TYPE " + name_ + " " + type + "\n";
}

void ScalarFamily::Inc(const LabelValues& values, double delta) {
  k8s::MutexLock lock(mu_);
  values_[values] += delta;
}

void ScalarFamily::Set(const LabelValues& values, double value) {
  k8s::MutexLock lock(mu_);
  values_[values] = value;
}

double ScalarFamily::Value(const LabelValues& values) const {
  k8s::MutexLock lock(mu_);
  auto it = values_.find(values);
  return it == values_.end() ? 0 : it->second;
}

void ScalarFamily::Render(std::string& out) const {
  RenderHeader(out, is_counter_ ? "counter" : "gauge");
  k8s::MutexLock lock(mu_);
  // A family without labels always shows its one sample, even before the first change.
  if (values_.empty() && label_names_.empty()) out += name_ + " 0\n";
  for (const auto& [labels, value] : values_) {
    out += name_ + LabelText(labels) + " " + FormatValue(value) + "\n";
  }
}

void HistogramFamily::Observe(const LabelValues& values, double v) {
  k8s::MutexLock lock(mu_);
  Series& s = series_[values];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      ++s.buckets[i];
      break;
    }
  }
  ++s.count;
  s.sum += v;
}

uint64_t HistogramFamily::Count(const LabelValues& values) const {
  k8s::MutexLock lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::Render(std::string& out) const {
  RenderHeader(out, "histogram");
  k8s::MutexLock lock(mu_);
  for (const auto& [labels, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      out += name_ + "_bucket" + LabelText(labels, "le=\"" + FormatValue(bounds_[i]) + "\"") + " " +
             std::to_string(cumulative) + "\n";
    }
    out +=
        name_ + "_bucket" + LabelText(labels, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
    out += name_ + "_sum" + LabelText(labels) + " " + FormatValue(s.sum) + "\n";
    out += name_ + "_count" + LabelText(labels) + " " + std::to_string(s.count) + "\n";
  }
}

template <typename F>
F& Registry::Add(std::unique_ptr<F> family) {
  k8s::MutexLock lock(mu_);
  for (const auto& f : families_) {
    if (f->name() != family->name()) continue;
    // The same name again returns the family already there (several queues share one); the
    // same name with another type is a wiring bug, found the first time the binary starts.
    if (auto* same = dynamic_cast<F*>(f.get())) return *same;
    std::fprintf(stderr, "metric %s registered twice with different types\n", f->name().c_str());
    std::abort();
  }
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

ScalarFamily& Registry::Counter(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  return Add(std::make_unique<ScalarFamily>(name, help, std::move(label_names), true));
}

ScalarFamily& Registry::Gauge(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names) {
  return Add(std::make_unique<ScalarFamily>(name, help, std::move(label_names), false));
}

HistogramFamily& Registry::Histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  return Add(
      std::make_unique<HistogramFamily>(name, help, std::move(label_names), std::move(bounds)));
}

std::string Registry::Render() const {
  std::string out;
  k8s::MutexLock lock(mu_);
  for (const auto& f : families_) f->Render(out);
  return out;
}

}  // namespace stepline::controller::metrics
