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
// trim runs before the transform the caller gives.
// Thread-safe: holds only references.
class K8sInformerFactory final : public InformerFactory {
 public:
  K8sInformerFactory(k8s::Client& client, const k8s::Clock& clock)
      : client_(client), clock_(clock) {}
  std::unique_ptr<InformerHandle> Create(const k8s::Resource& resource,
                                         const k8s::InformerOptions& options) override;

 private:
  k8s::Client& client_;
  const k8s::Clock& clock_;
};

}  // namespace stepline::controller
