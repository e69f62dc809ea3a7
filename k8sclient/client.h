// The seams between Stepline and the API server. Reconcilers and the controller depend on these
// interfaces; ApiServerClient (api_client.h) implements them over HTTP, and unit tests use fakes.
//
// Implementations must be safe to call from several threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::k8s {

struct ListOptions {
  std::string label_selector;    // "stepline.dev/execution=run-1,app in (a,b)"
  std::string field_selector;    // "metadata.name=x"
  int64_t limit = 0;             // 0: no paging
  std::string continue_token;    // from the previous page
  std::string resource_version;  // "" (most recent, quorum read) or "0" (any, from cache)
};

struct ObjectList {
  std::vector<Object> items;     // each item has apiVersion and kind filled in
  std::string resource_version;  // the list's resourceVersion, for a following watch
  std::string continue_token;    // non-empty when more pages follow
};

enum class PatchType {
  kMerge,  // application/merge-patch+json (RFC 7386)
  kJson,   // application/json-patch+json (RFC 6902)
  kApply,  // application/apply-patch+yaml: server-side apply; needs field_manager
};

struct WriteOptions {
  std::string field_manager;  // defaults to the client's user agent name
  bool force = false;         // server-side apply: take over conflicting fields
  bool dry_run = false;
};

struct DeleteOptions {
  std::optional<std::string> propagation_policy;  // "Background", "Foreground", "Orphan"
  std::optional<int64_t> grace_period_seconds;
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
};

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual Result<Object> Get(const Resource& res, const std::string& ns,
                             const std::string& name) = 0;
  // One page when opts.limit > 0; ListAll (below) follows continue tokens.
  virtual Result<ObjectList> List(const Resource& res, const std::string& ns,
                                  const ListOptions& opts) = 0;
};

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Result<Object> Create(const Resource& res, const std::string& ns, const Object& obj,
                                const WriteOptions& opts = {}) = 0;
  // PUT; obj carries metadata.resourceVersion for optimistic concurrency (409 Conflict if stale).
  virtual Result<Object> Update(const Resource& res, const std::string& ns, const Object& obj,
                                const WriteOptions& opts = {}) = 0;
  // PUT to the /status subresource; spec changes in obj are ignored by the server.
  virtual Result<Object> UpdateStatus(const Resource& res, const std::string& ns, const Object& obj,
                                      const WriteOptions& opts = {}) = 0;
  // PATCH; subresource is "" or "status".
  virtual Result<Object> Patch(const Resource& res, const std::string& ns, const std::string& name,
                               PatchType type, const std::string& body,
                               const WriteOptions& opts = {},
                               const std::string& subresource = {}) = 0;
  virtual Status Delete(const Resource& res, const std::string& ns, const std::string& name,
                        const DeleteOptions& opts = {}) = 0;
};

// One event of a watch stream.
struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Object object;  // the object; for kError, the metav1.Status the server sent
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // start after this version ("" = now, with no initial list)
  bool allow_bookmarks = true;
  int64_t timeout_seconds = 0;  // 0: server default; the server ends the watch after it
};

class Watcher {
 public:
  virtual ~Watcher() = default;
  // Streams events to on_event until the server ends the stream (returns OK), an error occurs
  // (returns it; a 410 or an ERROR event with code 410 returns kGone), on_event returns false,
  // or *stop becomes true (returns kCancelled) — checked at least every second.
  virtual Status Watch(const Resource& res, const std::string& ns, const WatchOptions& opts,
                       const std::function<bool(WatchEvent&&)>& on_event,
                       const std::atomic<bool>* stop) = 0;
};

// Everything a component needs from the server.
class Client : public ObjectReader, public ObjectWriter, public Watcher {};

// Follows continue tokens until the whole collection is read (at most page_size per request).
Result<ObjectList> ListAll(ObjectReader& reader, const Resource& res, const std::string& ns,
                           ListOptions opts, int64_t page_size = 500);

}  // namespace stepline::k8s
