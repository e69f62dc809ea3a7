// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
//
// A candidate reads the Lease every retry period. It takes the Lease when nobody holds it, or
// when the holder has not renewed it within leaseDurationSeconds — measured from when *this*
// candidate last saw the record change (local monotonic time, so clock skew between replicas
// does not matter). Writes carry the resourceVersion read, so of two candidates racing for an
// expired Lease only one wins (the other gets 409 Conflict). The leader renews every retry
// period; when it has failed to renew for the renew deadline it has lost leadership and must
// stop at once. Release() empties holderIdentity so that a successor takes over at once.
//
// Thread-safety: Tick/Run/Release are called from one thread at a time (the elector's, then the
// one that shuts down); IsLeader, state() and Wake from any thread. Fields marked below are guarded
// by mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/status.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::controller {

// The spec of a Lease plus the resourceVersion it was read at.
struct LeaseRecord {
  std::string holder_identity;
  int64_t lease_duration_seconds = 0;
  k8s::WallTime acquire_time{};
  k8s::WallTime renew_time{};
  int64_t lease_transitions = 0;
  std::string resource_version;

  bool SameSpec(const LeaseRecord& o) const;
};

// Where the Lease lives. Get returns kNotFound when there is none; Update returns kConflict when
// record.resource_version is stale.
class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  virtual k8s::Result<LeaseRecord> Get() = 0;
  virtual k8s::Result<LeaseRecord> Create(const LeaseRecord& record) = 0;
  virtual k8s::Result<LeaseRecord> Update(const LeaseRecord& record) = 0;
  // "namespace/name", for logs.
  virtual std::string Describe() const = 0;
};

// A Lease object on the API server.
class ApiLeaseLock final : public LeaseLock {
 public:
  // client must outlive the lock.
  ApiLeaseLock(k8s::Client& client, std::string ns, std::string name)
      : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}
  k8s::Result<LeaseRecord> Get() override;
  k8s::Result<LeaseRecord> Create(const LeaseRecord& record) override;
  k8s::Result<LeaseRecord> Update(const LeaseRecord& record) override;
  std::string Describe() const override { return ns_ + "/" + name_; }

 private:
  k8s::Object ToObject(const LeaseRecord& record) const;

  k8s::Client& client_;
  const std::string ns_;
  const std::string name_;
};

// Lease <-> record. Times are metav1.MicroTime ("2026-01-02T03:04:05.123456Z").
LeaseRecord LeaseRecordFromObject(const k8s::Object& lease);
std::string FormatMicroTime(k8s::WallTime t);

struct LeaderElectionConfig {
  std::string identity;  // unique per replica: hostname + "_" + a random suffix
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
};

// Checks lease_duration > renew_deadline > retry_period > 0 (client-go's rules, with a margin:
// renew_deadline must exceed 1.2 * retry_period). kInvalidArgument explains which.
k8s::Status ValidateLeaderElectionConfig(const LeaderElectionConfig& config);

class LeaderElector {
 public:
  enum class State { kCandidate, kLeader, kLost, kReleased };

  // lock and clock must outlive the elector.
  LeaderElector(LeaseLock& lock, const k8s::Clock& clock, LeaderElectionConfig config);

  // One attempt to acquire (as candidate) or renew (as leader), and the state it leads to.
  // kLost is final: the process must stop reconciling and exit.
  State Tick();
  // Ticks every retry period until *stop, leadership is lost, or it is released. Wakes early
  // when Wake() is called.
  void Run(const std::atomic<bool>& stop) EXCLUDES(mu_);
  void Wake() EXCLUDES(mu_);
  // As leader, gives the Lease up (holderIdentity "", leaseDurationSeconds 1). Once.
  k8s::Status Release();

  bool IsLeader() const { return state() == State::kLeader; }
  // True when this replica leads but has not renewed for the renew deadline — also while a
  // renewal request is still hanging. Any thread; the manager polls it so that a stuck request
  // cannot keep a stale leader reconciling.
  bool RenewalOverdue() const;
  State state() const EXCLUDES(mu_);
  // Called on the elector's thread on each change of state.
  void OnStateChange(std::function<void(State)> callback) { on_change_ = std::move(callback); }
  const std::string& identity() const { return config_.identity; }

 private:
  bool TryAcquireOrRenew();
  k8s::Result<LeaseRecord> TakeOrRenew(const LeaseRecord& current, k8s::MonoTime now);
  LeaseRecord Desired(k8s::WallTime now) const;
  bool ObservedLeaseIsLive(const LeaseRecord& current, k8s::MonoTime now) const;
  void SetState(State s) EXCLUDES(mu_);

  // Constant after construction.
  LeaseLock& lock_;
  const k8s::Clock& clock_;
  const LeaderElectionConfig config_;
  std::function<void(State)> on_change_;  // set before Run

  // Only touched by the elector's thread.
  LeaseRecord observed_;
  k8s::MonoTime observed_at_{};
  // When the Lease was last written by us (monotonic nanoseconds); read from any thread.
  std::atomic<int64_t> last_renew_ns_{0};

  mutable k8s::Mutex mu_;
  k8s::CondVar wake_;
  State state_ GUARDED_BY(mu_) = State::kCandidate;
  bool woken_ GUARDED_BY(mu_) = false;
};

const char* LeaderStateName(LeaderElector::State s);

}  // namespace stepline::controller
