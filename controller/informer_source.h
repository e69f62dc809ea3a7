// The manager's view of an informer: start/stop, sync state, handlers and the cache. The binary
// wraps k8s::Informer (k8s_informers.h); unit tests use an in-memory fake.
#pragma once

#include <memory>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/informer.h"

namespace stepline::controller {

// Thread-safety: as k8s::Informer — Start/Stop from one thread, the rest from any.
class InformerHandle : public k8s::CacheReader {
 public:
  virtual void AddEventHandlers(k8s::EventHandlers handlers) = 0;  // before Start
  virtual void Start() = 0;
  virtual void Stop() = 0;
  virtual bool HasSynced() const = 0;
  // Asks the cache's keep predicate again about these cached objects (InformerOptions::keep):
  // those it now refuses are dropped without telling the handlers.
  virtual void Recheck(const std::vector<k8s::ObjectPtr>& objects) = 0;
};

class InformerFactory {
 public:
  virtual ~InformerFactory() = default;
  virtual std::unique_ptr<InformerHandle> Create(const k8s::Resource& resource,
                                                 const k8s::InformerOptions& options) = 0;
};

}  // namespace stepline::controller
