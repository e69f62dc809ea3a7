#include "controller/leader_election.h"

#include "controller/log.h"

#include <cstdio>
#include <ctime>

namespace stepline::controller {

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = NamedLogger("leaderelection");
  return logger;
}

k8s::WallTime ParseTime(const k8s::Object& spec, const char* field) {
  k8s::WallTime t{};
  auto it = spec.find(field);
  if (it != spec.end() && it->is_string()) k8s::ParseRfc3339(it->get<std::string>(), &t);
  return t;
}

int64_t IntField(const k8s::Object& spec, const char* field) {
  auto it = spec.find(field);
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

bool LeaseRecord::SameSpec(const LeaseRecord& o) const {
  return holder_identity == o.holder_identity &&
         lease_duration_seconds == o.lease_duration_seconds && acquire_time == o.acquire_time &&
         renew_time == o.renew_time && lease_transitions == o.lease_transitions;
}

std::string FormatMicroTime(k8s::WallTime t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = k8s::FormatRfc3339(secs);  // "...:05Z"
  char frac[32];
  std::snprintf(frac, sizeof(frac), ".%06lldZ", static_cast<long long>(micros));
  return base.substr(0, base.size() - 1) + frac;
}

LeaseRecord LeaseRecordFromObject(const k8s::Object& lease) {
  LeaseRecord r;
  r.resource_version = k8s::ResourceVersionOf(lease);
  auto spec_it = lease.find("spec");
  if (spec_it == lease.end() || !spec_it->is_object()) return r;
  const k8s::Object& spec = *spec_it;
  if (auto it = spec.find("holderIdentity"); it != spec.end() && it->is_string()) {
    r.holder_identity = it->get<std::string>();
  }
  r.lease_duration_seconds = IntField(spec, "leaseDurationSeconds");
  r.lease_transitions = IntField(spec, "leaseTransitions");
  r.acquire_time = ParseTime(spec, "acquireTime");
  r.renew_time = ParseTime(spec, "renewTime");
  return r;
}

k8s::Object ApiLeaseLock::ToObject(const LeaseRecord& r) const {
  k8s::Object meta = {{"name", name_}, {"namespace", ns_}};
  if (!r.resource_version.empty()) meta["resourceVersion"] = r.resource_version;
  return {{"apiVersion", k8s::resources::kLeases.ApiVersion()},
          {"kind", "Lease"},
          {"metadata", meta},
          {"spec",
           {{"holderIdentity", r.holder_identity},
            {"leaseDurationSeconds", r.lease_duration_seconds},
            {"acquireTime", FormatMicroTime(r.acquire_time)},
            {"renewTime", FormatMicroTime(r.renew_time)},
            {"leaseTransitions", r.lease_transitions}}}};
}

k8s::Result<LeaseRecord> ApiLeaseLock::Get() {
  auto got = client_.Get(k8s::resources::kLeases, ns_, name_);
  if (!got.ok()) return got.status();
  return LeaseRecordFromObject(*got);
}

k8s::Result<LeaseRecord> ApiLeaseLock::Create(const LeaseRecord& record) {
  auto created = client_.Create(k8s::resources::kLeases, ns_, ToObject(record));
  if (!created.ok()) return created.status();
  return LeaseRecordFromObject(*created);
}

k8s::Result<LeaseRecord> ApiLeaseLock::Update(const LeaseRecord& record) {
  auto updated = client_.Update(k8s::resources::kLeases, ns_, ToObject(record));
  if (!updated.ok()) return updated.status();
  return LeaseRecordFromObject(*updated);
}

k8s::Status ValidateLeaderElectionConfig(const LeaderElectionConfig& c) {
  using k8s::Status;
  if (c.identity.empty()) return Status::InvalidArgument("leader election identity is empty");
  if (c.retry_period.count() <= 0) {
    return Status::InvalidArgument("--leader-elect-retry-period must be greater than zero");
  }
  if (c.lease_duration <= c.renew_deadline) {
    return Status::InvalidArgument(
        "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline");
  }
  if (c.renew_deadline.count() <= 1.2 * static_cast<double>(c.retry_period.count())) {
    return Status::InvalidArgument(
        "--leader-elect-renew-deadline must be greater than 1.2 x --leader-elect-retry-period");
  }
  return Status::Ok();
}

LeaderElector::LeaderElector(LeaseLock& lock, const k8s::Clock& clock, LeaderElectionConfig config)
    : lock_(lock), clock_(clock), config_(std::move(config)) {}

LeaderElector::State LeaderElector::state() const {
  k8s::MutexLock lock(mu_);
  return state_;
}

void LeaderElector::SetState(State s) {
  {
    k8s::MutexLock lock(mu_);
    if (state_ == s) return;
    state_ = s;
  }
  Log()->info("leader election state={} lease={} identity={}", LeaderStateName(s), lock_.Describe(),
              config_.identity);
  if (on_change_) on_change_(s);
}

bool LeaderElector::ObservedLeaseIsLive(const LeaseRecord& current, k8s::MonoTime now) const {
  return !current.holder_identity.empty() && current.holder_identity != config_.identity &&
         observed_at_ + std::chrono::seconds(current.lease_duration_seconds) > now;
}

LeaseRecord LeaderElector::Desired(k8s::WallTime now) const {
  LeaseRecord desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count();
  desired.acquire_time = desired.renew_time = now;
  return desired;
}

k8s::Result<LeaseRecord> LeaderElector::TakeOrRenew(const LeaseRecord& current, k8s::MonoTime now) {
  if (!current.SameSpec(observed_) || current.resource_version != observed_.resource_version) {
    observed_ = current;
    observed_at_ = now;
  }
  if (ObservedLeaseIsLive(current, now)) {
    return k8s::Status::Conflict("held by " + current.holder_identity);
  }
  LeaseRecord desired = Desired(clock_.Now());
  if (current.holder_identity == config_.identity && state() == State::kLeader) {
    desired.acquire_time = current.acquire_time;
    desired.lease_transitions = current.lease_transitions;
  } else {
    desired.lease_transitions = current.lease_transitions + 1;
  }
  desired.resource_version = current.resource_version;
  return lock_.Update(desired);
}

bool LeaderElector::TryAcquireOrRenew() {
  const k8s::MonoTime now = clock_.MonotonicNow();
  auto current = lock_.Get();
  if (!current.ok() && !current.status().IsNotFound()) {
    Log()->warn("reading lease failed lease={} err={}", lock_.Describe(),
                current.status().ToString());
    return false;
  }
  auto written = current.ok() ? TakeOrRenew(*current, now) : lock_.Create(Desired(clock_.Now()));
  if (!written.ok()) {
    Log()->debug("lease not taken lease={} reason={}", lock_.Describe(),
                 written.status().ToString());
    return false;
  }
  observed_ = *written;
  observed_at_ = now;
  return true;
}

LeaderElector::State LeaderElector::Tick() {
  const State s = state();
  if (s == State::kLost || s == State::kReleased) return s;
  const bool ok = TryAcquireOrRenew();
  if (ok) {
    last_renew_ns_ = clock_.MonotonicNow().time_since_epoch().count();
    SetState(State::kLeader);
  } else if (s == State::kLeader && RenewalOverdue()) {
    Log()->error("failed to renew the lease within the renew deadline lease={} identity={}",
                 lock_.Describe(), config_.identity);
    SetState(State::kLost);
  }
  return state();
}

bool LeaderElector::RenewalOverdue() const {
  if (state() != State::kLeader) return false;
  const k8s::MonoTime last{k8s::MonoTime::duration(last_renew_ns_.load())};
  return clock_.MonotonicNow() - last >= config_.renew_deadline;
}

void LeaderElector::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const State s = Tick();
    if (s == State::kLost || s == State::kReleased) return;
    const auto deadline = std::chrono::steady_clock::now() + config_.retry_period;
    k8s::MutexLock lock(mu_);
    while (!woken_ && !stop.load() && wake_.WaitUntil(mu_, deadline)) {
    }
    woken_ = false;
  }
}

void LeaderElector::Wake() {
  k8s::MutexLock lock(mu_);
  woken_ = true;
  wake_.SignalAll();
}

k8s::Status LeaderElector::Release() {
  if (state() != State::kLeader) return k8s::Status::Ok();
  LeaseRecord released = observed_;
  released.holder_identity.clear();
  released.lease_duration_seconds = 1;
  released.acquire_time = released.renew_time = clock_.Now();
  auto written = lock_.Update(released);
  SetState(State::kReleased);
  if (!written.ok()) return written.status();
  observed_ = *written;
  return k8s::Status::Ok();
}

const char* LeaderStateName(LeaderElector::State s) {
  switch (s) {
    case LeaderElector::State::kCandidate:
      return "candidate";
    case LeaderElector::State::kLeader:
      return "leader";
    case LeaderElector::State::kLost:
      return "lost";
    case LeaderElector::State::kReleased:
      return "released";
  }
  return "unknown";
}

}  // namespace stepline::controller
