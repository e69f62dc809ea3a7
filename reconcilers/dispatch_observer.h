// DispatchObserver: how the execution reconciler reports its dispatches, so that the controller
// can measure the dispatch latency: from "a Job of the execution was observed finished" (the
// informer event that shows it) to "a Job create of that execution returned".
//
// A reconcile of key asks PendingFinish(key) before it reads the caches, reports each Job create
// request just before it is sent with JobRequestSending(key, since) (the controller's own part of
// the dispatch ends there), each Job it created with JobCreated(key, since), and when it created
// at least one, Dispatched(key, since):
// that finish is answered. A finish seen while the reconcile ran is newer than `since`, so it
// stays pending for the next reconcile. Implementations are thread-safe (workers and informer
// threads call them).
#pragma once

#include <optional>
#include <string>

#include "k8sclient/clock.h"

namespace stepline::reconcilers {

class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  // When a Job of key was last seen finishing with no dispatch since, if one was.
  virtual std::optional<k8s::MonoTime> PendingFinish(const std::string& key) = 0;
  virtual void JobRequestSending(const std::string& key, k8s::MonoTime since) = 0;
  virtual void JobCreated(const std::string& key, k8s::MonoTime since) = 0;
  virtual void Dispatched(const std::string& key, k8s::MonoTime since) = 0;
  // The execution is gone.
  virtual void Forget(const std::string& key) = 0;
};

}  // namespace stepline::reconcilers
