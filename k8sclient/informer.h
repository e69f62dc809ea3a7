// Informer: list + watch of one resource into a thread-safe cache of immutable objects, with
// event handlers — the client-go SharedIndexInformer, kept small.
//
// Thread-safety: Start/Stop may be called from any one thread; the CacheReader methods and
// HasSynced from any thread at any time. Handlers run on the informer's own thread, in the
// order the changes were observed; they must not block (enqueue keys and return).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"

namespace stepline::k8s {

struct InformerOptions {
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;  // initial list page size
  // 0 = off (the default). Otherwise every period each cached object is re-delivered to
  // on_update(old == new).
  std::chrono::seconds resync_period{0};
  // Applied to every object before it is cached, after managedFields are stripped. Lets a
  // component drop what it never reads (memory). May be empty.
  std::function<void(Object&)> transform;
  // Objects for which keep (given the transformed object) returns false are not cached: a list
  // leaves them out (a cached one is deleted), an add is dropped, an update removes the cached
  // object without telling the handlers, a delete of one not cached tells nobody. Lets a
  // component forget what it will never read again (the finished Jobs of finished runs). May
  // be empty: keep all.
  std::function<bool(const Object&)> keep;
};

class Informer : public CacheReader {
 public:
  // client and clock must outlive the informer.
  Informer(Watcher& watcher, ObjectReader& reader, Resource resource, InformerOptions options,
           const Clock& clock);
  ~Informer() override;
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Register before Start().
  void AddEventHandlers(EventHandlers handlers);
  // Starts the list+watch thread. Lists (paged), then watches from the list's resourceVersion
  // with bookmarks; on a dropped connection resumes from the last seen resourceVersion; on 410
  // relists and delivers the differences as add/update/delete.
  void Start();
  // Stops the thread and waits for it (returns within about a second).
  void Stop();
  // True once the first full list has been stored and its handlers called.
  bool HasSynced() const;
  const Resource& resource() const;

  ObjectPtr Get(const std::string& ns, const std::string& name) const override;
  std::vector<ObjectPtr> List(const std::string& ns) const override;
  std::vector<ObjectPtr> ListByOwner(const std::string& owner_uid) const override;
  // Drops those of these cached objects that options.keep now refuses (what keep reads has
  // changed), without calling handlers: for objects nobody will read again. Any thread. An
  // object the informer thread is storing at the same moment is judged at its next event.
  void Recheck(const std::vector<ObjectPtr>& objects);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Removes metadata.managedFields (and, when present, the last-applied annotation) in place.
void StripManagedFields(Object& obj);

}  // namespace stepline::k8s
