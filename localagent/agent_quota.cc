#include "localagent/agent_quota.h"

#include <algorithm>

#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ObjectField;

namespace {

constexpr auto kPendingTtl = std::chrono::minutes(1);

std::vector<QuotaState> QuotasOf(const k8s::CacheReader& quotas, const std::string& ns,
                                 const ResourceList& usage) {
  std::vector<QuotaState> out;
  for (const auto& q : quotas.List(ns)) {
    auto hard = ParseResourceList(ObjectField(ObjectField(*q, "spec"), "hard"));
    if (!hard.ok()) continue;
    out.push_back({k8s::NameOf(*q), *hard, QuotaUsedFor(*hard, usage)});
  }
  std::sort(out.begin(), out.end(),
            [](const QuotaState& a, const QuotaState& b) { return a.name < b.name; });
  return out;
}

k8s::Object StatusJson(const ResourceList& hard, const ResourceList& used) {
  k8s::Object h = k8s::Object::object(), u = k8s::Object::object();
  for (const auto& [name, q] : hard) h[name] = q.ToString();
  for (const auto& [name, q] : used) u[name] = q.ToString();
  return {{"hard", h}, {"used", u}};
}

}  // namespace

QuotaAdmission::QuotaAdmission(const k8s::CacheReader& pods, const k8s::CacheReader& quotas,
                               const k8s::CacheReader& jobs, const k8s::Clock& clock)
    : pods_(pods), quotas_(quotas), jobs_(jobs), clock_(clock) {}

ResourceList QuotaAdmission::UsageLocked(const std::string& ns) {
  ResourceList usage;
  auto& pending = pending_[ns];
  for (const auto& pod : pods_.List(ns)) {
    pending.erase(k8s::NameOf(*pod));
    if (!PodCountsForQuota(*pod)) continue;
    auto res = PodResourcesOf(*pod);
    if (res.ok()) usage = AddResources(usage, PodQuotaUsage(*res));
  }
  const auto now = clock_.MonotonicNow();
  for (auto it = pending.begin(); it != pending.end();) {
    if (now - it->second.second > kPendingTtl) {
      it = pending.erase(it);
      continue;
    }
    usage = AddResources(usage, it->second.first);
    ++it;
  }
  const auto jobs = static_cast<int64_t>(jobs_.List(ns).size());
  if (jobs > 0) usage["count/jobs.batch"] = k8s::Quantity::FromValue(jobs);
  return usage;
}

ResourceList QuotaAdmission::NamespaceUsage(const std::string& ns) {
  k8s::MutexLock lock(mu_);
  return UsageLocked(ns);
}

k8s::Status QuotaAdmission::Admit(const k8s::Object& pod) {
  auto res = PodResourcesOf(pod);
  if (!res.ok()) return res.status();
  const std::string ns = k8s::NamespaceOf(pod);
  k8s::MutexLock lock(mu_);
  if (quotas_.List(ns).empty()) return k8s::Status::Ok();
  auto status = AdmitPod(k8s::NameOf(pod), *res, QuotasOf(quotas_, ns, UsageLocked(ns)));
  if (status.ok()) {
    pending_[ns][k8s::NameOf(pod)] = {PodQuotaUsage(*res), clock_.MonotonicNow()};
  }
  return status;
}

QuotaController::QuotaController(k8s::Client& client, const k8s::CacheReader& quotas,
                                 QuotaAdmission& admission, const k8s::Clock& clock)
    : client_(client),
      quotas_(quotas),
      admission_(admission),
      loop_("resourcequota-controller", clock, [this](const std::string& ns) { return Sync(ns); }) {
}

SyncOutcome QuotaController::Sync(const std::string& ns) {
  const auto objects = quotas_.List(ns);
  if (objects.empty()) return SyncOutcome::Done();
  const ResourceList usage = admission_.NamespaceUsage(ns);
  k8s::Status failed;
  for (const auto& q : objects) {
    auto hard = ParseResourceList(ObjectField(ObjectField(*q, "spec"), "hard"));
    if (!hard.ok()) continue;
    const k8s::Object want = StatusJson(*hard, QuotaUsedFor(*hard, usage));
    if (ObjectField(*q, "status") == want) continue;
    k8s::Object updated = *q;
    updated["status"] = want;
    auto r = client_.UpdateStatus(k8s::resources::kResourceQuotas, ns, updated);
    if (!r.ok()) {
      AgentLogger("resourcequota-controller")
          ->info("status update failed quota={} error={}", k8s::KeyOf(*q), r.status().ToString());
      failed = r.status();
    }
  }
  return failed.ok() ? SyncOutcome::Done() : SyncOutcome::Retry(failed);
}

}  // namespace stepline::localagent
