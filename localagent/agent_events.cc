#include "localagent/agent_events.h"

#include <chrono>
#include <cstdio>

#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

namespace {
constexpr size_t kMaxCached = 4096;
}  // namespace

EventWriter::EventWriter(k8s::ObjectWriter& writer, const k8s::Clock& clock, std::string component)
    : writer_(writer), clock_(clock), component_(std::move(component)) {}

k8s::Object EventWriter::NewEvent(const k8s::Object& regarding, bool warning,
                                  const std::string& reason, const std::string& message,
                                  const std::string& host) const {
  const auto now = clock_.Now();
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "%llx", static_cast<unsigned long long>(nanos));
  const auto& meta = ObjectField(regarding, "metadata");
  k8s::Object involved = {{"apiVersion", StringField(regarding, "apiVersion")},
                          {"kind", StringField(regarding, "kind")},
                          {"name", StringField(meta, "name")},
                          {"namespace", StringField(meta, "namespace")},
                          {"uid", StringField(meta, "uid")},
                          {"resourceVersion", StringField(meta, "resourceVersion")}};
  k8s::Object source = {{"component", component_}};
  if (!host.empty()) source["host"] = host;
  const std::string stamp = k8s::FormatRfc3339(now);
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata",
           {{"name", StringField(meta, "name") + "." + suffix},
            {"namespace",
             StringField(meta, "namespace").empty() ? "default" : StringField(meta, "namespace")}}},
          {"involvedObject", involved},
          {"reason", reason},
          {"message", message},
          {"type", warning ? "Warning" : "Normal"},
          {"count", 1},
          {"firstTimestamp", stamp},
          {"lastTimestamp", stamp},
          {"source", source},
          {"reportingComponent", component_},
          {"reportingInstance", host}};
}

void EventWriter::Emit(const k8s::Object& regarding, bool warning, const std::string& reason,
                       const std::string& message, const std::string& host) {
  const std::string key =
      k8s::UidOf(regarding) + "|" + (warning ? "W" : "N") + "|" + reason + "|" + message;
  std::string existing;
  int64_t count = 0;
  {
    k8s::MutexLock lock(mu_);
    if (auto it = seen_.find(key); it != seen_.end()) {
      existing = it->second.first;
      count = ++it->second.second;
    }
  }
  auto log = AgentLogger(component_);
  if (!existing.empty()) {
    const auto slash = existing.find('/');
    k8s::Object patch = {{"count", count}, {"lastTimestamp", k8s::FormatRfc3339(clock_.Now())}};
    auto r = writer_.Patch(k8s::resources::kEvents, existing.substr(0, slash),
                           existing.substr(slash + 1), k8s::PatchType::kMerge, patch.dump());
    if (r.ok()) return;
    log->debug("event patch failed event={} error={}", existing, r.status().ToString());
  }
  k8s::Object event = NewEvent(regarding, warning, reason, message, host);
  const std::string ns = k8s::NamespaceOf(event);
  auto created = writer_.Create(k8s::resources::kEvents, ns, event);
  if (!created.ok()) {
    log->warn("event create failed object={} reason={} error={}", k8s::KeyOf(regarding), reason,
              created.status().ToString());
    return;
  }
  k8s::MutexLock lock(mu_);
  if (seen_.size() >= kMaxCached) seen_.clear();
  seen_[key] = {ns + "/" + k8s::NameOf(event), 1};
}

}  // namespace stepline::localagent
