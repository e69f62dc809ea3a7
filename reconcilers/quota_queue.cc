#include "reconcilers/quota_queue.h"

#include <algorithm>

#include "k8sclient/object_fields.h"
#include "k8sclient/quantity.h"

namespace stepline::reconcilers {
namespace {

using k8s::Child;
using k8s::Object;

// The value of a quantity field of a resource list; nullopt when absent or not a quantity.
std::optional<k8s::Quantity> QuantityAt(const Object& list, const std::string& name) {
  auto it = list.is_object() ? list.find(name) : list.end();
  if (!list.is_object() || it == list.end() || !it->is_string()) return std::nullopt;
  const std::string& text = it->get_ref<const std::string&>();
  auto q = k8s::Quantity::Parse(text);
  if (!q.ok()) return std::nullopt;
  return q.value();
}

const Object& Hard(const Object& quota) { return Child(Child(quota, "spec"), "hard"); }
const Object& Used(const Object& quota) { return Child(Child(quota, "status"), "used"); }

}  // namespace

std::optional<int64_t> PodRoom(const std::vector<k8s::ObjectPtr>& quotas) {
  std::optional<int64_t> room;
  for (const k8s::ObjectPtr& q : quotas) {
    for (const char* name : {"pods", "count/pods"}) {
      auto hard = QuantityAt(Hard(*q), name);
      if (!hard) continue;
      auto used = QuantityAt(Used(*q), name).value_or(k8s::Quantity());
      int64_t left = std::max<int64_t>(0, hard->Value() - used.Value());
      room = room ? std::min(*room, left) : left;
    }
  }
  return room;
}

bool QuotaFreedRoom(const Object* old, const Object* now) {
  if (now == nullptr) return true;
  if (old == nullptr) return false;  // a new quota only limits
  const Object& old_used = Used(*old);
  if (old_used.is_object()) {
    for (const auto& [name, value] : old_used.items()) {
      auto before = QuantityAt(old_used, name);
      auto after = QuantityAt(Used(*now), name).value_or(k8s::Quantity());
      if (before && after < *before) return true;
    }
  }
  const Object& old_hard = Hard(*old);
  if (!old_hard.is_object()) return false;
  for (const auto& [name, value] : old_hard.items()) {
    auto before = QuantityAt(old_hard, name);
    auto after = QuantityAt(Hard(*now), name);
    if (before && (!after || *after > *before)) return true;
  }
  return false;
}

int QuotaQueue::TakeGrants(const std::string& key) {
  k8s::MutexLock lock(mu_);
  SweepLocked(key);
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return 0;
  return std::exchange(it->second.untaken, 0);
}

void QuotaQueue::Report(const std::string& key, int unused, int waiting,
                        std::optional<k8s::WallTime> since) {
  k8s::MutexLock lock(mu_);
  Waiter& w = waiters_[key];
  for (int i = 0; i < unused && !w.grants.empty(); ++i) w.grants.pop_back();
  w.untaken = std::min<int>(w.untaken, static_cast<int>(w.grants.size()));
  w.waiting = std::max(0, waiting);
  if (since) w.since = *since;
  SweepLocked(key);
}

void QuotaQueue::Refused(const std::string& key) { PodCreated(key); }

void QuotaQueue::Refused(const std::string& key, QuotaRefusal refusal) {
  {
    k8s::MutexLock lock(mu_);
    waiters_[key].refusals.push_back(std::move(refusal));
  }
  Refused(key);
}

std::vector<QuotaRefusal> QuotaQueue::TakeRefusals(const std::string& key) {
  k8s::MutexLock lock(mu_);
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return {};
  std::vector<QuotaRefusal> out = std::exchange(it->second.refusals, {});
  SweepLocked(key);
  return out;
}

void QuotaQueue::PodCreated(const std::string& key) {
  k8s::MutexLock lock(mu_);
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return;
  Waiter& w = it->second;
  if (static_cast<int>(w.grants.size()) > w.untaken) w.grants.pop_front();  // a taken one
  SweepLocked(key);
}

void QuotaQueue::Forget(const std::string& key) {
  k8s::MutexLock lock(mu_);
  waiters_.erase(key);
}

void QuotaQueue::SweepLocked(const std::string& key) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return;
  Waiter& w = it->second;
  const k8s::MonoTime now = clock_.MonotonicNow();
  while (!w.grants.empty() && now - w.grants.front() >= kGrantTimeout) w.grants.pop_front();
  w.untaken = std::min<int>(w.untaken, static_cast<int>(w.grants.size()));
  if (w.waiting == 0 && w.grants.empty() && w.refusals.empty()) waiters_.erase(it);
}

int QuotaQueue::OutstandingLocked(const std::string& ns) {
  int n = 0;
  const std::string prefix = ns + "/";
  for (auto it = waiters_.lower_bound(prefix); it != waiters_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    const std::string key = (it++)->first;
    SweepLocked(key);
    auto w = waiters_.find(key);
    if (w != waiters_.end()) n += static_cast<int>(w->second.grants.size());
  }
  return n;
}

// Up to count grants to the oldest waits of ns (each execution gets at most as many as it has
// units waiting and not granted yet).
std::vector<std::string> QuotaQueue::GrantLocked(const std::string& ns, int count) {
  const std::string prefix = ns + "/";
  std::vector<std::pair<k8s::WallTime, std::string>> order;
  for (auto it = waiters_.lower_bound(prefix); it != waiters_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->second.waiting > static_cast<int>(it->second.grants.size())) {
      order.emplace_back(it->second.since, it->first);
    }
  }
  std::sort(order.begin(), order.end());
  std::vector<std::string> granted;
  const k8s::MonoTime now = clock_.MonotonicNow();
  for (const auto& [since, key] : order) {
    Waiter& w = waiters_[key];
    while (count > 0 && w.waiting > static_cast<int>(w.grants.size())) {
      w.grants.push_back(now);
      ++w.untaken;
      --count;
      if (granted.empty() || granted.back() != key) granted.push_back(key);
    }
    if (count == 0) break;
  }
  return granted;
}

std::vector<std::string> QuotaQueue::QuotaChanged(const Object* old, const Object* now,
                                                  const std::vector<k8s::ObjectPtr>& quotas) {
  const Object* any = now != nullptr ? now : old;
  if (any == nullptr) return {};
  const std::string& ns = k8s::NamespaceOf(*any);
  k8s::MutexLock lock(mu_);
  const int outstanding = OutstandingLocked(ns);
  int count = 0;
  if (auto room = PodRoom(quotas)) {
    count = static_cast<int>(std::min<int64_t>(*room - outstanding, 1'000));
  } else if (QuotaFreedRoom(old, now)) {
    count = 1;
  }
  if (count <= 0) return {};
  return GrantLocked(ns, count);
}

}  // namespace stepline::reconcilers
