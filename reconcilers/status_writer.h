// StatusWriter: writes an object's status through the /status subresource, only when it
// changed, and coalesces changes that record no progress.
//   - Only if changed: Settle writes nothing when the wanted status equals the one the object
//     holds.
//   - Coalescing: a change the caller calls kTransient (for an execution: no action taken, the
//     same phase, progress and condition reasons; a pod started, a message changed) waits until
//     `coalesce` after this writer's last write of the object, so that a step that finishes
//     meanwhile costs one write, not two, and such changes cost at most one write per
//     `coalesce`. Settle then says how long it held the change back; the caller asks to be
//     reconciled again by then. A change of an object this writer has not written yet (since
//     it started, or since `coalesce` ago) is written at once.
//   - A status the server refuses for what it holds (schema, size), not for a conflict or an
//     outage, would be refused again on every retry: Settle asks the caller's Reducer for a
//     smaller one and writes that instead.
// Each status written is remembered in the objects' ReadYourWritesCache (as the cache will
// hold it: options' as_cached), so that the next reconcile neither writes it again nor acts on
// the status it replaced.
//
// Ownership: the writer, the cache and the clock are held by reference and must outlive the
// StatusWriter.
// Thread-safety: Settle and Forget may be called from several threads at once, never for the
// same object; the times of the last writes are GUARDED_BY mu_.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"
#include "reconcilers/read_your_writes.h"

namespace stepline::reconcilers {

struct StatusWriterOptions {
  std::string field_manager = "stepline-controller";
  // How long a transient change waits after the last write of its object; 0: none waits.
  std::chrono::milliseconds coalesce{0};
  // Shapes a written object as the cache will hold it (cache_trim.h); null: as written.
  std::function<void(k8s::Object&)> as_cached;
};

class StatusWriter {
 public:
  enum class Change {
    kProgress,   // written at once
    kTransient,  // may wait (see above)
  };
  struct Settled {
    k8s::Status status;    // the write failed (a conflict: retry on fresh state)
    bool written = false;  // the status was written (changed, and not held back)
    std::optional<std::chrono::milliseconds> held_back;  // written no sooner than this from now
  };
  // Given the server's refusal and the attempt (1, 2, ...), the smaller status to write
  // instead; nullopt: give up (Settle returns the refusal).
  using Reducer =
      std::function<std::optional<k8s::Object>(const k8s::Status& refusal, int attempt)>;

  // resource: the kind whose status is written (its /status subresource).
  StatusWriter(const k8s::Resource& resource, k8s::ObjectWriter& writer, ReadYourWritesCache& cache,
               const k8s::Clock& clock, StatusWriterOptions options);

  // Writes `wanted` as current's status unless it equals `before` (the status current holds,
  // as the caller reads it) or `change` is transient and held back. current is the object as
  // read from the cache.
  Settled Settle(const k8s::Object& current, const k8s::Object& before, const k8s::Object& wanted,
                 Change change, const Reducer& reduce = {});
  // The object is gone: forgets when it was last written.
  void Forget(const std::string& key) EXCLUDES(mu_);

 private:
  // How long to hold a transient change of key back; nullopt: write it now.
  std::optional<std::chrono::milliseconds> HoldBack(const std::string& key) const EXCLUDES(mu_);
  k8s::Result<k8s::Object> Write(const k8s::Object& current, const k8s::Object& status);
  void RememberWrite(const k8s::Object& current, k8s::Object written) EXCLUDES(mu_);

  // Constant after construction.
  const k8s::Resource& resource_;
  k8s::ObjectWriter& writer_;
  ReadYourWritesCache& cache_;
  const k8s::Clock& clock_;
  const StatusWriterOptions options_;

  mutable k8s::Mutex mu_;
  std::map<std::string, k8s::MonoTime> last_write_ GUARDED_BY(mu_);  // object key -> when
  k8s::MonoTime last_sweep_ GUARDED_BY(mu_){};
};

// True when the server refused a status for what it holds (schema, size), not for a conflict
// or an outage: writing the same status again can never succeed.
bool IsRefusedStatus(const k8s::Status& s);

}  // namespace stepline::reconcilers
