// ResourceQuota for the agent's cluster: QuotaAdmission refuses pod creations that would exceed
// a namespace's quotas (the API server's admission plugin; the Job controller calls it before
// each create), and QuotaController keeps every ResourceQuota's status.hard and status.used
// current (the resource quota controller).
//
// Thread-safety: QuotaAdmission::Admit and NamespaceUsage may be called from any thread
// (pending_ is GUARDED_BY mu_). QuotaController::Sync runs on its loop's worker.
#pragma once

#include <map>
#include <string>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/agent_loop.h"
#include "localagent/quota.h"

namespace stepline::localagent {

class QuotaAdmission {
 public:
  // The caches must outlive this.
  QuotaAdmission(const k8s::CacheReader& pods, const k8s::CacheReader& quotas,
                 const k8s::CacheReader& jobs, const k8s::Clock& clock);
  // OK, or Forbidden with the API server's message. An admitted pod is charged until the pod
  // cache shows it (or a minute has passed).
  k8s::Status Admit(const k8s::Object& pod) EXCLUDES(mu_);
  // The namespace's usage: non-terminal pods (and admitted ones not seen yet), count/jobs.batch.
  ResourceList NamespaceUsage(const std::string& ns) EXCLUDES(mu_);

 private:
  ResourceList UsageLocked(const std::string& ns) REQUIRES(mu_);

  const k8s::CacheReader& pods_;
  const k8s::CacheReader& quotas_;
  const k8s::CacheReader& jobs_;
  const k8s::Clock& clock_;
  k8s::Mutex mu_;
  // namespace -> pod name -> (usage, when admitted).
  std::map<std::string, std::map<std::string, std::pair<ResourceList, k8s::MonoTime>>> pending_
      GUARDED_BY(mu_);
};

class QuotaController {
 public:
  QuotaController(k8s::Client& client, const k8s::CacheReader& quotas, QuotaAdmission& admission,
                  const k8s::Clock& clock);
  void Start() { loop_.Start(1); }
  void Stop() { loop_.Stop(); }
  // Recompute the quotas of a namespace.
  void Enqueue(const std::string& ns) { loop_.Add(ns); }

 private:
  SyncOutcome Sync(const std::string& ns);

  k8s::Client& client_;
  const k8s::CacheReader& quotas_;
  QuotaAdmission& admission_;
  SyncLoop loop_;
};

}  // namespace stepline::localagent
