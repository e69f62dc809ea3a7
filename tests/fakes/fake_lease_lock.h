// An in-memory Lease with the API server's optimistic concurrency: every write bumps the
// resourceVersion, and an update carrying a stale one gets 409 Conflict. Tests can fail the next
// calls (server unreachable) and see every write. Thread-safe (the state is GUARDED_BY mu_).
#pragma once

#include <optional>
#include <string>

#include "controller/leader_election.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::fakes {

class FakeLeaseStore {
 public:
  k8s::Result<controller::LeaseRecord> Get() {
    k8s::MutexLock lock(mu_);
    if (!unreachable_.ok()) return unreachable_;
    if (!lease_) return k8s::Status::NotFound("leases \"stepline\" not found");
    return *lease_;
  }
  k8s::Result<controller::LeaseRecord> Create(controller::LeaseRecord r) {
    k8s::MutexLock lock(mu_);
    if (!unreachable_.ok()) return unreachable_;
    if (lease_) return k8s::Status::AlreadyExists("leases \"stepline\" already exists");
    r.resource_version = std::to_string(++version_);
    lease_ = r;
    ++writes_;
    return r;
  }
  k8s::Result<controller::LeaseRecord> Update(controller::LeaseRecord r) {
    k8s::MutexLock lock(mu_);
    if (!unreachable_.ok()) return unreachable_;
    if (!lease_) return k8s::Status::NotFound("leases \"stepline\" not found");
    if (r.resource_version != lease_->resource_version) {
      return k8s::Status::Conflict("the object has been modified");
    }
    r.resource_version = std::to_string(++version_);
    lease_ = r;
    ++writes_;
    return r;
  }
  void SetUnreachable(k8s::Status s) {
    k8s::MutexLock lock(mu_);
    unreachable_ = std::move(s);
  }
  std::optional<controller::LeaseRecord> lease() {
    k8s::MutexLock lock(mu_);
    return lease_;
  }
  int writes() {
    k8s::MutexLock lock(mu_);
    return writes_;
  }

 private:
  k8s::Mutex mu_;
  std::optional<controller::LeaseRecord> lease_ GUARDED_BY(mu_);
  int version_ GUARDED_BY(mu_) = 0;
  int writes_ GUARDED_BY(mu_) = 0;
  k8s::Status unreachable_ GUARDED_BY(mu_);
};

// One replica's view of the shared store.
class FakeLeaseLock final : public controller::LeaseLock {
 public:
  explicit FakeLeaseLock(FakeLeaseStore& store) : store_(store) {}
  k8s::Result<controller::LeaseRecord> Get() override { return store_.Get(); }
  k8s::Result<controller::LeaseRecord> Create(const controller::LeaseRecord& r) override {
    return store_.Create(r);
  }
  k8s::Result<controller::LeaseRecord> Update(const controller::LeaseRecord& r) override {
    return store_.Update(r);
  }
  std::string Describe() const override { return "default/stepline"; }

 private:
  FakeLeaseStore& store_;
};

}  // namespace stepline::fakes
