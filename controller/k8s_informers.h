// The real informers: k8s::Informer behind the manager's InformerHandle seam.
#pragma once

#include <memory>

#include "controller/informer_source.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/informer.h"

namespace stepline::controller {

// Creates k8s::Informers on one client. client and clock must outlive every informer made.
// Each informer's cache keeps only what the reconcilers read (reconcilers/cache_trim.h): that
// trim runs before the transform the caller gives. The Job and pod caches also forget the
// ended Jobs and pods of finished executions (FinishedWithItsExecution): when they are listed
// or updated, and when their execution turns finished. For that the executions informer must be
// created before the Job and pod informers, and synced before they start (the manager does
// both), and the factory must outlive the informers.
// Thread-safety: Create from one thread; the informers' handlers then only read what it set.
class K8sInformerFactory final : public InformerFactory {
 public:
  K8sInformerFactory(k8s::Client& client, const k8s::Clock& clock)
      : client_(client), clock_(clock) {}
  std::unique_ptr<InformerHandle> Create(const k8s::Resource& resource,
                                         const k8s::InformerOptions& options) override;

 private:
  class Handle;
  void ForgetEnded(const k8s::Object& execution) const;

  k8s::Client& client_;
  const k8s::Clock& clock_;
  Handle* executions_ = nullptr;  // owned by the caller of Create, as are jobs_ and pods_
  Handle* jobs_ = nullptr;
  Handle* pods_ = nullptr;
};

}  // namespace stepline::controller
