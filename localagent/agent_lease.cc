#include "localagent/agent_lease.h"

#include <cstdio>

#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"

namespace stepline::localagent {

using k8s::IntField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr const char* kLeaseName = "stepline-local-agent";
constexpr int64_t kDurationSeconds = 15;
constexpr auto kRenewEvery = std::chrono::seconds(5);

// metav1.MicroTime: RFC 3339 with microseconds.
std::string MicroTime(k8s::WallTime t) {
  const std::string seconds = k8s::FormatRfc3339(t);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() %
      1'000'000;
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(micros));
  return seconds.substr(0, seconds.size() - 1) + frac + "Z";
}

bool HeldByOther(const k8s::Object& lease, const std::string& me, k8s::WallTime now) {
  const auto& spec = ObjectField(lease, "spec");
  const std::string holder = StringField(spec, "holderIdentity");
  k8s::WallTime renewed;
  if (holder.empty() || holder == me ||
      !k8s::ParseRfc3339(StringField(spec, "renewTime"), &renewed)) {
    return false;
  }
  const auto duration = std::chrono::seconds(IntField(spec, "leaseDurationSeconds").value_or(15));
  return now < renewed + duration;
}

}  // namespace

AgentLease::AgentLease(k8s::Client& client, const k8s::Clock& clock, std::string ns,
                       std::string identity)
    : client_(client), clock_(clock), ns_(std::move(ns)), identity_(std::move(identity)) {}

AgentLease::~AgentLease() { Release(); }

k8s::Status AgentLease::TryTake(bool first) {
  const auto now = clock_.Now();
  auto lease = client_.Get(k8s::resources::kLeases, ns_, kLeaseName);
  if (!lease.ok() && !lease.status().IsNotFound()) return lease.status();
  k8s::Object obj = lease.ok()
                        ? *lease
                        : k8s::Object{{"apiVersion", "coordination.k8s.io/v1"},
                                      {"kind", "Lease"},
                                      {"metadata", {{"name", kLeaseName}, {"namespace", ns_}}}};
  if (lease.ok() && HeldByOther(obj, identity_, now)) {
    return k8s::Status::Conflict("another stepline-local-agent (" +
                                 StringField(ObjectField(obj, "spec"), "holderIdentity") +
                                 ") is running against this server; stop it first");
  }
  auto& spec = obj["spec"];
  if (first) spec["acquireTime"] = MicroTime(now);
  spec["holderIdentity"] = identity_;
  spec["leaseDurationSeconds"] = kDurationSeconds;
  spec["renewTime"] = MicroTime(now);
  auto written = lease.ok() ? client_.Update(k8s::resources::kLeases, ns_, obj)
                            : client_.Create(k8s::resources::kLeases, ns_, obj);
  return written.status();
}

k8s::Status AgentLease::Acquire() {
  k8s::Status s = TryTake(true);
  if (s.IsNotFound()) {
    AgentLogger("agent")->warn("no Lease resource on this server: a second agent is not detected");
    return k8s::Status::Ok();
  }
  if (!s.ok()) return s;
  held_ = true;
  renewer_ = std::thread([this] { RenewLoop(); });
  return s;
}

void AgentLease::RenewLoop() {
  while (!StopWithin(kRenewEvery)) {
    k8s::Status s = TryTake(false);
    if (!s.ok()) AgentLogger("agent")->warn("lease renewal failed: {}", s.ToString());
  }
}

bool AgentLease::StopWithin(std::chrono::steady_clock::duration period) {
  const auto deadline = std::chrono::steady_clock::now() + period;
  k8s::MutexLock lock(mu_);
  while (!stop_ && cv_.WaitUntil(mu_, deadline)) {
  }
  return stop_;
}

void AgentLease::Release() {
  if (!held_) return;
  {
    k8s::MutexLock lock(mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  renewer_.join();
  held_ = false;
  k8s::DeleteOptions opts;
  // A lease left behind only delays the next agent until it expires; say so and go on.
  k8s::Status s = client_.Delete(k8s::resources::kLeases, ns_, kLeaseName, opts);
  if (!s.ok() && !s.IsNotFound()) {
    AgentLogger("agent")->warn(
        "releasing the lease failed (the next agent waits for it to "
        "expire): {}",
        s.ToString());
  }
}

}  // namespace stepline::localagent
