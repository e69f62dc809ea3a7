#include "k8sclient/informer.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <random>
#include <thread>
#include <unordered_map>

#include "k8sclient/log.h"
#include "k8sclient/object_store.h"
#include "k8sclient/rate_limiter.h"

namespace stepline::k8s {
namespace {

constexpr auto kInitialBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr int64_t kMinWatchTimeoutSeconds = 300;  // client-go: 5 to 10 minutes, randomised

// Gives the heap pages freed by a full list back to the system: the list's whole objects are
// freed once they are transformed, but glibc keeps the pages, so the process's RSS would stay
// at the list's peak.
void ReleaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

void StripManagedFields(Object& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return;
  meta->erase("managedFields");
  auto annotations = meta->find("annotations");
  if (annotations == meta->end() || !annotations->is_object()) return;
  annotations->erase("kubectl.kubernetes.io/last-applied-configuration");
  if (annotations->empty()) meta->erase(annotations);
}

class Informer::Impl {
 public:
  Impl(Watcher& watcher, ObjectReader& reader, Resource resource, InformerOptions options,
       const Clock& clock)
      : watcher_(watcher),
        reader_(reader),
        resource_(std::move(resource)),
        options_(std::move(options)),
        clock_(clock),
        sleeper_(clock),
        random_(std::random_device{}()) {}

  void Run();
  ObjectPtr Prepare(Object obj) const;
  Result<std::vector<ObjectPtr>> ListPrepared(std::string* resource_version);
  Status ListAndReplace();
  Status WatchOnce();
  bool HandleEvent(WatchEvent&& event);
  bool Keeps(const Object& obj) const;
  void Apply(const ObjectPtr& obj);
  void Delete(const ObjectPtr& obj);
  void MaybeResync();
  bool Backoff();
  int64_t WatchTimeoutSeconds();

  // Constant after construction (handlers_: after Start).
  Watcher& watcher_;
  ObjectReader& reader_;
  const Resource resource_;
  const InformerOptions options_;
  const Clock& clock_;
  ClockSleeper sleeper_;
  std::vector<EventHandlers> handlers_;

  ObjectStore store_;  // thread-safe
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::thread thread_;

  // Informer thread only.
  std::string resource_version_;
  std::chrono::nanoseconds backoff_{kInitialBackoff};
  MonoTime next_resync_{};
  std::minstd_rand random_;
};

ObjectPtr Informer::Impl::Prepare(Object obj) const {
  if (!obj.is_object()) obj = Object::object();  // never from a real server; keeps KeyOf safe
  if (!obj.contains("apiVersion")) obj["apiVersion"] = resource_.ApiVersion();
  if (!obj.contains("kind")) obj["kind"] = resource_.kind;
  StripManagedFields(obj);
  if (options_.transform) options_.transform(obj);
  return std::make_shared<const Object>(std::move(obj));
}

bool Informer::Impl::Keeps(const Object& obj) const { return !options_.keep || options_.keep(obj); }

void Informer::Impl::Apply(const ObjectPtr& obj) {
  if (!Keeps(*obj)) {  // forgotten, not deleted: nobody reads it, so nobody is told
    store_.Remove(KeyOf(*obj));
    return;
  }
  ObjectPtr old = store_.Upsert(obj);
  for (const auto& h : handlers_) {
    if (!old && h.on_add) h.on_add(obj);
    if (old && h.on_update) h.on_update(old, obj);
  }
}

void Informer::Impl::Delete(const ObjectPtr& obj) {
  ObjectPtr old = store_.Remove(KeyOf(*obj));
  if (!old) return;  // never seen (or already gone): nothing to tell
  for (const auto& h : handlers_) {
    if (h.on_delete) h.on_delete(obj);
  }
}

// Lists every page, preparing (stripping, transforming) each page's items as it arrives, so that
// only one page and the prepared objects' text are held at a time; what keep refuses goes at once.
// The prepared objects are kept as text until the last page is freed and only then decoded: a
// page's objects are decoded all over the heap, and the few members a transform keeps of each
// would pin most of those pages (with 10,000 finished executions and the Jobs and pods of 1,000
// running ones cached, decoding them afresh took the controller's RSS from ~110 to 94 MiB).
Result<std::vector<ObjectPtr>> Informer::Impl::ListPrepared(std::string* resource_version) {
  ListOptions opts;
  opts.label_selector = options_.label_selector;
  opts.field_selector = options_.field_selector;
  opts.limit = options_.page_size;
  std::vector<std::string> kept;
  while (true) {
    Result<ObjectList> page = reader_.List(resource_, options_.ns, opts);
    if (!page.ok()) return page.status();
    for (auto& item : page->items) {
      ObjectPtr obj = Prepare(std::move(item));
      if (Keeps(*obj)) kept.push_back(obj->dump());
    }
    *resource_version = page->resource_version;
    if (page->continue_token.empty()) break;
    opts.continue_token = page->continue_token;
  }
  ReleaseFreedMemory();
  std::vector<ObjectPtr> prepared;
  prepared.reserve(kept.size());
  for (std::string& text : kept) {
    prepared.push_back(std::make_shared<const Object>(Object::parse(text)));
    std::string().swap(text);
  }
  return prepared;
}

// Lists everything and makes the cache equal to it, telling handlers the differences.
Status Informer::Impl::ListAndReplace() {
  std::string list_version;
  Result<std::vector<ObjectPtr>> list = ListPrepared(&list_version);
  if (!list.ok()) return list.status();
  std::unordered_map<std::string, bool> listed;
  for (const ObjectPtr& obj : *list) {
    std::string key = KeyOf(*obj);
    listed[key] = true;
    ObjectPtr cached = store_.Get(key);
    if (cached && ResourceVersionOf(*cached) == ResourceVersionOf(*obj)) continue;
    Apply(obj);
  }
  for (const auto& cached : store_.List("")) {
    if (!listed.count(KeyOf(*cached))) Delete(cached);
  }
  resource_version_ = list_version;
  Logger()->info("listed resource={} objects={} resourceVersion={}", resource_.GroupResource(),
                 list->size(), resource_version_);
  list->clear();
  ReleaseFreedMemory();
  synced_ = true;
  return Status::Ok();
}

bool Informer::Impl::HandleEvent(WatchEvent&& event) {
  const std::string& rv = ResourceVersionOf(event.object);
  if (!rv.empty()) resource_version_ = rv;
  switch (event.type) {
    case WatchEvent::Type::kAdded:
    case WatchEvent::Type::kModified:
      Apply(Prepare(std::move(event.object)));
      break;
    case WatchEvent::Type::kDeleted:
      Delete(Prepare(std::move(event.object)));
      break;
    case WatchEvent::Type::kBookmark:
    case WatchEvent::Type::kError:
      break;
  }
  MaybeResync();
  return !stop_.load();
}

int64_t Informer::Impl::WatchTimeoutSeconds() {
  int64_t timeout = kMinWatchTimeoutSeconds +
                    std::uniform_int_distribution<int64_t>(0, kMinWatchTimeoutSeconds)(random_);
  if (options_.resync_period.count() > 0) {
    timeout = std::min<int64_t>(timeout, std::max<int64_t>(1, options_.resync_period.count()));
  }
  return timeout;
}

Status Informer::Impl::WatchOnce() {
  WatchOptions opts;
  opts.label_selector = options_.label_selector;
  opts.field_selector = options_.field_selector;
  opts.resource_version = resource_version_;
  opts.allow_bookmarks = true;
  opts.timeout_seconds = WatchTimeoutSeconds();
  return watcher_.Watch(
      resource_, options_.ns, opts, [this](WatchEvent&& e) { return HandleEvent(std::move(e)); },
      &stop_);
}

void Informer::Impl::MaybeResync() {
  if (options_.resync_period.count() <= 0) return;
  MonoTime now = clock_.MonotonicNow();
  if (now < next_resync_) return;
  next_resync_ = now + options_.resync_period;
  for (const auto& obj : store_.List("")) {
    for (const auto& h : handlers_) {
      if (h.on_update) h.on_update(obj, obj);
    }
  }
}

// Waits the current backoff (then doubles it). False when stopped meanwhile.
bool Informer::Impl::Backoff() {
  auto wait = backoff_;
  backoff_ = std::min<std::chrono::nanoseconds>(backoff_ * 2, kMaxBackoff);
  return sleeper_.SleepFor(wait, &stop_);
}

void Informer::Impl::Run() {
  const std::string what = resource_.GroupResource();
  bool need_list = true;
  if (options_.resync_period.count() > 0)
    next_resync_ = clock_.MonotonicNow() + options_.resync_period;
  while (!stop_.load()) {
    if (need_list) {
      if (Status s = ListAndReplace(); !s.ok()) {
        Logger()->warn("list failed resource={} error=\"{}\"", what, s.ToString());
        if (!Backoff()) break;
        continue;
      }
      need_list = false;
      backoff_ = kInitialBackoff;
    }
    const MonoTime started = clock_.MonotonicNow();
    Status s = WatchOnce();
    if (stop_.load() || s.code() == StatusCode::kCancelled) break;
    MaybeResync();
    if (s.IsGone()) {
      Logger()->info("watch expired resource={} resourceVersion={}: relisting", what,
                     resource_version_);
      need_list = true;
      continue;
    }
    if (s.ok() && clock_.MonotonicNow() - started > std::chrono::seconds(1)) {
      backoff_ = kInitialBackoff;  // the server ended a healthy watch: resume at once
      continue;
    }
    if (!s.ok()) Logger()->warn("watch failed resource={} error=\"{}\"", what, s.ToString());
    if (!Backoff()) break;
  }
}

Informer::Informer(Watcher& watcher, ObjectReader& reader, Resource resource,
                   InformerOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(watcher, reader, std::move(resource), std::move(options),
                                   clock)) {}

Informer::~Informer() { Stop(); }

void Informer::AddEventHandlers(EventHandlers handlers) {
  impl_->handlers_.push_back(std::move(handlers));
}

void Informer::Start() {
  if (impl_->thread_.joinable()) return;
  impl_->stop_ = false;
  impl_->thread_ = std::thread([impl = impl_.get()] { impl->Run(); });
}

void Informer::Stop() {
  impl_->stop_ = true;
  if (impl_->thread_.joinable()) impl_->thread_.join();
}

bool Informer::HasSynced() const { return impl_->synced_.load(); }
const Resource& Informer::resource() const { return impl_->resource_; }

void Informer::Recheck(const std::vector<ObjectPtr>& objects) {
  for (const ObjectPtr& obj : objects) {
    if (obj && !impl_->Keeps(*obj)) impl_->store_.Remove(KeyOf(*obj));
  }
}

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  return impl_->store_.Get(ns.empty() ? name : ns + "/" + name);
}
std::vector<ObjectPtr> Informer::List(const std::string& ns) const {
  return impl_->store_.List(ns);
}
std::vector<ObjectPtr> Informer::ListByOwner(const std::string& owner_uid) const {
  return impl_->store_.ListByOwner(owner_uid);
}

}  // namespace stepline::k8s
