// EventWriter: core/v1 Events as the cluster's components write them (source.component
// "job-controller", "default-scheduler", "kubelet"), with client-go's aggregation: the same
// (object, type, reason, message) again patches the existing Event's count and lastTimestamp.
// Writes synchronously; failures are logged, never returned (events are best effort).
//
// Thread-safety: Emit may be called from any thread; the dedup cache is GUARDED_BY mu_.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::localagent {

class EventWriter {
 public:
  // writer and clock must outlive this.
  EventWriter(k8s::ObjectWriter& writer, const k8s::Clock& clock, std::string component);

  // regarding: the object (apiVersion, kind, name, namespace, uid, resourceVersion are read).
  // host: the node, for kubelet events.
  void Emit(const k8s::Object& regarding, bool warning, const std::string& reason,
            const std::string& message, const std::string& host = "") EXCLUDES(mu_);

 private:
  k8s::Object NewEvent(const k8s::Object& regarding, bool warning, const std::string& reason,
                       const std::string& message, const std::string& host) const;

  k8s::ObjectWriter& writer_;
  const k8s::Clock& clock_;
  const std::string component_;
  k8s::Mutex mu_;
  // (uid|type|reason|message) -> (namespace/name of the Event, count).
  std::map<std::string, std::pair<std::string, int64_t>> seen_ GUARDED_BY(mu_);
};

}  // namespace stepline::localagent
