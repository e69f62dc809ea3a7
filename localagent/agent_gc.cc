#include "localagent/agent_gc.h"

#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"
#include "localagent/owner_resource.h"
#include "localagent/patches.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::BoolField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr const char* kName = "garbage-collector";
constexpr const char* kForeground = "foregroundDeletion";
constexpr const char* kOrphan = "orphan";

std::vector<std::string> Split(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t bar = key.find('|', start);
    parts.push_back(key.substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return parts;
}

const k8s::Object* RefTo(const k8s::Object& obj, const std::string& uid) {
  for (const auto& ref : ArrayField(ObjectField(obj, "metadata"), "ownerReferences")) {
    if (StringField(ref, "uid") == uid) return &ref;
  }
  return nullptr;
}

}  // namespace

GarbageCollector::GarbageCollector(k8s::Client& client, k8s::Informer& pods, k8s::Informer& jobs,
                                   const k8s::Clock& clock)
    : client_(client),
      pods_(pods),
      jobs_(jobs),
      clock_(clock),
      loop_(kName, clock, [this](const std::string& key) { return Sync(key); }) {}

GarbageCollector::~GarbageCollector() { Stop(); }

void GarbageCollector::Stop() {
  loop_.Stop();
  k8s::MutexLock lock(mu_);
  for (auto& [name, informer] : owner_informers_) informer->Stop();
  owner_informers_.clear();
}

void GarbageCollector::EnqueueObject(const char* role, const k8s::Object& obj) {
  loop_.Add(std::string(role) + "|" + StringField(obj, "apiVersion") + "|" +
            StringField(obj, "kind") + "|" + k8s::NamespaceOf(obj) + "|" + k8s::NameOf(obj));
}

void GarbageCollector::EnqueueOwners(const k8s::Object& obj) {
  for (const auto& ref : ArrayField(ObjectField(obj, "metadata"), "ownerReferences")) {
    loop_.Add("own|" + StringField(ref, "apiVersion") + "|" + StringField(ref, "kind") + "|" +
              k8s::NamespaceOf(obj) + "|" + StringField(ref, "name"));
  }
}

void GarbageCollector::OnDependent(const k8s::ObjectPtr& obj) {
  if (!ArrayField(ObjectField(*obj, "metadata"), "ownerReferences").empty()) {
    EnqueueObject("dep", *obj);
  }
  if (k8s::IsBeingDeleted(*obj)) EnqueueObject("own", *obj);
}

void GarbageCollector::OnDeleted(const k8s::ObjectPtr& obj) {
  std::vector<k8s::Resource> kinds;
  for (const auto& dep : DependentsOf(k8s::UidOf(*obj), &kinds)) EnqueueObject("dep", *dep);
  EnqueueOwners(*obj);
}

std::vector<k8s::ObjectPtr> GarbageCollector::DependentsOf(
    const std::string& uid, std::vector<k8s::Resource>* kinds) const {
  std::vector<k8s::ObjectPtr> out;
  for (k8s::Informer* informer : {&pods_, &jobs_}) {
    for (const auto& obj : informer->ListByOwner(uid)) {
      out.push_back(obj);
      kinds->push_back(informer->resource());
    }
  }
  return out;
}

bool GarbageCollector::HasDependents(const std::string& uid) const {
  std::vector<k8s::Resource> kinds;
  return !DependentsOf(uid, &kinds).empty();
}

k8s::CacheReader* GarbageCollector::InformerFor(const k8s::Resource& res, bool* synced) {
  if (res == pods_.resource() || res == jobs_.resource()) {
    k8s::Informer& informer = res == pods_.resource() ? pods_ : jobs_;
    *synced = informer.HasSynced();
    return &informer;
  }
  k8s::MutexLock lock(mu_);
  auto& slot = owner_informers_[res.GroupResource()];
  if (!slot) {
    slot = std::make_unique<k8s::Informer>(client_, client_, res, k8s::InformerOptions{}, clock_);
    slot->AddEventHandlers({[this](const k8s::ObjectPtr& o) { OnDependent(o); },
                            [this](const k8s::ObjectPtr&, const k8s::ObjectPtr& o) {
                              if (k8s::IsBeingDeleted(*o)) EnqueueObject("own", *o);
                            },
                            [this](const k8s::ObjectPtr& o) { OnDeleted(o); }});
    slot->Start();
    AgentLogger(kName)->info("watching owners resource={}", res.GroupResource());
  }
  *synced = slot->HasSynced();
  return slot.get();
}

GarbageCollector::OwnerState GarbageCollector::Lookup(const std::string& ns,
                                                      const k8s::Object& ref) {
  auto res = ResourceForKind(StringField(ref, "apiVersion"), StringField(ref, "kind"));
  if (!res) return OwnerState::kPresent;  // cannot tell: keep the dependent
  const std::string owner_ns = res->namespaced ? ns : "";
  const std::string uid = StringField(ref, "uid");
  auto state_of = [&](const k8s::Object& owner) {
    return k8s::IsBeingDeleted(owner) && HasFinalizer(owner, kForeground)
               ? OwnerState::kDeletingForeground
               : OwnerState::kPresent;
  };
  bool synced = false;
  k8s::CacheReader* cache = InformerFor(*res, &synced);
  if (!synced) return OwnerState::kUnknown;
  if (auto cached = cache->Get(owner_ns, StringField(ref, "name"));
      cached && k8s::UidOf(*cached) == uid) {
    return state_of(*cached);
  }
  auto live = client_.Get(*res, owner_ns, StringField(ref, "name"));
  if (live.ok()) return k8s::UidOf(*live) == uid ? state_of(*live) : OwnerState::kAbsent;
  return live.status().IsNotFound() ? OwnerState::kAbsent : OwnerState::kUnknown;
}

SyncOutcome GarbageCollector::Sync(const std::string& key) {
  const auto parts = Split(key);
  if (parts.size() != 5) return SyncOutcome::Done();
  auto res = ResourceForKind(parts[1], parts[2]);
  if (!res) return SyncOutcome::Done();
  return parts[0] == "dep" ? SyncDependent(*res, parts[3], parts[4])
                           : SyncOwner(*res, parts[3], parts[4]);
}

SyncOutcome GarbageCollector::SyncDependent(const k8s::Resource& res, const std::string& ns,
                                            const std::string& name) {
  bool synced = false;
  k8s::CacheReader* cache = InformerFor(res, &synced);
  const k8s::ObjectPtr obj = cache->Get(ns, name);
  if (!obj || k8s::IsBeingDeleted(*obj)) return SyncOutcome::Done();
  std::vector<std::string> not_solid;  // absent, or waiting for their dependents
  bool present = false, foreground = false;
  for (const auto& ref : ArrayField(ObjectField(*obj, "metadata"), "ownerReferences")) {
    const OwnerState state = Lookup(ns, ref);
    if (state == OwnerState::kUnknown) {
      return SyncOutcome::Retry(k8s::Status::Unavailable("an owner's state is not known yet"));
    }
    if (state != OwnerState::kPresent) not_solid.push_back(StringField(ref, "uid"));
    present = present || state == OwnerState::kPresent;
    foreground = foreground || state == OwnerState::kDeletingForeground;
  }
  if (!present && !not_solid.empty()) {
    k8s::DeleteOptions opts;
    opts.propagation_policy =
        foreground && HasDependents(k8s::UidOf(*obj)) ? "Foreground" : "Background";
    opts.precondition_uid = k8s::UidOf(*obj);
    AgentLogger(kName)->info("deleting object={} {}/{} propagation={}", res.GroupResource(), ns,
                             name, *opts.propagation_policy);
    k8s::Status s = client_.Delete(res, ns, name, opts);
    return s.ok() || s.IsNotFound() || s.IsConflict() ? SyncOutcome::Done() : SyncOutcome::Retry(s);
  }
  // Another owner is still there: only the references to the others go.
  for (const auto& uid : not_solid) {
    auto patch = RemoveOwnerReferencePatch(*obj, uid);
    if (!patch) continue;
    auto r = client_.Patch(res, ns, name, k8s::PatchType::kJson, *patch);
    if (!r.ok() && !r.status().IsNotFound()) return SyncOutcome::Retry(r.status());
    break;  // the next one is removed from the updated object, on its update event
  }
  return SyncOutcome::Done();
}

SyncOutcome GarbageCollector::SyncOwner(const k8s::Resource& res, const std::string& ns,
                                        const std::string& name) {
  bool synced = false;
  k8s::CacheReader* cache = InformerFor(res, &synced);
  const k8s::ObjectPtr owner = cache->Get(res.namespaced ? ns : "", name);
  if (!owner || !k8s::IsBeingDeleted(*owner)) return SyncOutcome::Done();
  const bool orphan = HasFinalizer(*owner, kOrphan);
  if (!orphan && !HasFinalizer(*owner, kForeground)) return SyncOutcome::Done();
  std::vector<k8s::Resource> kinds;
  const auto dependents = DependentsOf(k8s::UidOf(*owner), &kinds);
  int blocking = 0;
  for (size_t i = 0; i < dependents.size(); ++i) {
    const k8s::Object& dep = *dependents[i];
    const k8s::Object* ref = RefTo(dep, k8s::UidOf(*owner));
    if (ref == nullptr) continue;
    if (orphan) {
      auto patch = RemoveOwnerReferencePatch(dep, k8s::UidOf(*owner));
      auto r = client_.Patch(kinds[i], k8s::NamespaceOf(dep), k8s::NameOf(dep),
                             k8s::PatchType::kJson, *patch);
      if (!r.ok() && !r.status().IsNotFound()) return SyncOutcome::Retry(r.status());
      continue;
    }
    if (BoolField(*ref, "blockOwnerDeletion", false)) ++blocking;
    if (!k8s::IsBeingDeleted(dep)) EnqueueObject("dep", dep);
  }
  if (blocking > 0) return SyncOutcome::Done();  // each dependent's deletion brings us back
  auto patch = RemoveFinalizerPatch(*owner, orphan ? kOrphan : kForeground);
  if (!patch) return SyncOutcome::Done();
  AgentLogger(kName)->info("removing finalizer object={} {}/{} finalizer={}", res.GroupResource(),
                           ns, name, orphan ? kOrphan : kForeground);
  auto r = client_.Patch(res, res.namespaced ? ns : "", name, k8s::PatchType::kJson, *patch);
  return r.ok() || r.status().IsNotFound() || r.status().IsInvalid()
             ? SyncOutcome::Done()
             : SyncOutcome::Retry(r.status());
}

}  // namespace stepline::localagent
