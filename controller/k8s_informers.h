// The real informers: k8s::Informer behind the manager's InformerHandle seam.
#pragma once

#include <memory>

#include "controller/informer_source.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/informer.h"

namespace stepline::controller {

// Creates k8s::Informers on one client. client and clock must outlive every informer made.
// Thread-safety: Create from one thread.
class K8sInformerFactory final : public InformerFactory {
 public:
  K8sInformerFactory(k8s::Client& client, const k8s::Clock& clock)
      : client_(client), clock_(clock) {}
  std::unique_ptr<InformerHandle> Create(const k8s::Resource& resource,
                                         const k8s::InformerOptions& options) override;

 private:
  class Handle;

  k8s::Client& client_;
  const k8s::Clock& clock_;
};

}  // namespace stepline::controller
