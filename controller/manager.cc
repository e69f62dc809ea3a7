#include "controller/manager.h"

#include <algorithm>

#include "controller/event_mapping.h"
#include "controller/log.h"
#include "reconcilers/artifact_repository.h"
#include "reconcilers/sagemaker_instances.h"

namespace stepline::controller {

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = NamedLogger("manager");
  return logger;
}

const std::vector<k8s::Resource>& WatchedResources() {
  static const std::vector<k8s::Resource> kWatched = {
      k8s::resources::kPipelines,  k8s::resources::kPipelineExecutions,
      k8s::resources::kJobs,       k8s::resources::kPods,
      k8s::resources::kEvents,     k8s::resources::kResourceQuotas,
      k8s::resources::kConfigMaps, k8s::resources::kPipelineSchedules};
  return kWatched;
}

// How long a pod change waits before it enqueues (ManagerOptions::started_pod_delay).
std::chrono::milliseconds StartedPodDelay(PodChange change, const ManagerOptions& options) {
  return change == PodChange::kStarted ? options.started_pod_delay : std::chrono::milliseconds(0);
}

}  // namespace

bool Manager::Registered::Watches(Watch w) const {
  return std::find(options.watches.begin(), options.watches.end(), w) != options.watches.end();
}

Manager::Manager(InformerFactory& factory, const k8s::Clock& clock, metrics::Registry& registry,
                 ManagerOptions options)
    : factory_(factory),
      clock_(clock),
      registry_(registry),
      options_(std::move(options)),
      leader_gauge_(registry.Gauge("stepline_leader",
                                   "1 while this replica holds the leader Lease (or runs "
                                   "without leader election).")),
      enqueues_(registry.Counter("stepline_enqueues_total",
                                 "Keys enqueued by watch events, by controller and by the "
                                 "resource whose event it was (before the queue's dedup).",
                                 {"controller", "source"})),
      dispatch_latency_(clock, registry) {
  RegisterReconcileMetricFamilies(registry);
  leader_gauge_.Set({}, 0);
  CreateInformers();
}

Manager::~Manager() {
  StopWorkers();
  StopElector(nullptr, false);
  StopInformers();
}

void Manager::StopInformers() {
  // Each Stop waits up to about a second for its watch to notice: stop them side by side.
  std::vector<std::thread> stoppers;
  for (auto& [name, informer] : informers_) {
    stoppers.emplace_back([&informer = informer] { informer->Stop(); });
  }
  for (auto& t : stoppers) t.join();
}

void Manager::CreateInformers() {
  for (const k8s::Resource& res : WatchedResources()) {
    k8s::InformerOptions opts;
    opts.ns = options_.ns;
    if (res == k8s::resources::kJobs) {
      opts.label_selector = std::string(kManagedByLabel) + "=" + kManagedByValue;
    } else if (res == k8s::resources::kPods) {
      opts.label_selector = kExecutionLabel;  // exists
    } else if (res == k8s::resources::kEvents) {
      opts.field_selector = kJobEventsFieldSelector;
      opts.transform = IndexByInvolvedObject;
    } else if (res == k8s::resources::kConfigMaps) {
      // Only the artifact repositories (reconcilers/artifact_repository.h), read when a Job is
      // built; a change enqueues nothing.
      opts.field_selector =
          std::string("metadata.name=") + reconcilers::kArtifactRepositoryConfigMap;
    }
    auto informer = factory_.Create(res, opts);
    AddHandlers(*informer, res);
    informers_[res.resource] = std::move(informer);
  }
  if (!options_.controller_namespace.empty()) {
    k8s::InformerOptions opts;
    opts.ns = options_.controller_namespace;
    opts.field_selector =
        std::string("metadata.name=") + reconcilers::sagemaker::kInstanceTypesConfigMap;
    auto informer = factory_.Create(k8s::resources::kConfigMaps, opts);
    AddHandlers(*informer, k8s::resources::kConfigMaps);
    informers_[reconcilers::sagemaker::kInstanceTypesConfigMap] = std::move(informer);
  }
}

void Manager::AddHandlers(InformerHandle& informer, const k8s::Resource& resource) {
  k8s::EventHandlers h;
  h.on_add = [this, resource](const k8s::ObjectPtr& obj) {
    Hooks(resource, nullptr, obj.get());
    OnAdd(resource, *obj);
  };
  h.on_update = [this, resource](const k8s::ObjectPtr& old_obj, const k8s::ObjectPtr& new_obj) {
    Hooks(resource, old_obj.get(), new_obj.get());
    OnUpdate(resource, old_obj, *new_obj);
  };
  h.on_delete = [this, resource](const k8s::ObjectPtr& obj) {
    Hooks(resource, obj.get(), nullptr);
    OnObject(resource, *obj);
  };
  informer.AddEventHandlers(std::move(h));
}

// A new Job is one this controller created (it remembers it); a new pod that is merely Pending
// tells the planner nothing. Both wait for an update that matters.
void Manager::OnAdd(const k8s::Resource& resource, const k8s::Object& obj) {
  if (resource == k8s::resources::kJobs) return;
  if (resource == k8s::resources::kPods) {
    auto meta = obj.find("metadata");
    const k8s::Object bare = {{"metadata", meta == obj.end() ? k8s::Object() : *meta}};
    const PodChange change = ClassifyPodChange(bare, obj);
    if (change == PodChange::kNone) return;
    return Enqueue(resource, KeysFor(resource, obj), StartedPodDelay(change, options_));
  }
  Enqueue(resource, KeysFor(resource, obj));
}

// A pod that succeeded while its Job has not finished yet: the Job's own update follows and
// brings the reconcile (which then reads this pod from the cache).
bool Manager::JobWillTellOfPod(const k8s::Object& old_pod, const k8s::Object& new_pod) const {
  if (new_pod.value("/status/phase"_json_pointer, "") != "Succeeded") return false;
  if (old_pod.value("/status/phase"_json_pointer, "") == "Succeeded") return false;
  const k8s::Object* owner = k8s::ControllerOf(new_pod);
  if (owner == nullptr || owner->value("kind", "") != "Job") return false;
  k8s::ObjectPtr job =
      Cache(k8s::resources::kJobs).Get(k8s::NamespaceOf(new_pod), owner->value("name", ""));
  return job && !JobIsFinished(*job);
}

// Updates that no reconcile needs are dropped here: the echo of a status write to one of our
// kinds, and Job and pod updates that change nothing the planner reads. A pod that merely
// started is looked at later (StartedPodDelay).
void Manager::OnUpdate(const k8s::Resource& resource, const k8s::ObjectPtr& old_obj,
                       const k8s::Object& new_obj) {
  const bool ours = resource == k8s::resources::kPipelines ||
                    resource == k8s::resources::kPipelineExecutions ||
                    resource == k8s::resources::kPipelineSchedules;
  if (old_obj && ours && OnlyStatusChanged(*old_obj, new_obj)) return;
  const bool job = resource == k8s::resources::kJobs;
  if (old_obj && job && !JobChangeMatters(*old_obj, new_obj)) return;
  std::chrono::milliseconds delay(0);
  if (old_obj && resource == k8s::resources::kPods) {
    const PodChange change = ClassifyPodChange(*old_obj, new_obj);
    if (change == PodChange::kNone || JobWillTellOfPod(*old_obj, new_obj)) return;
    delay = StartedPodDelay(change, options_);
  }
  if (old_obj && job) {
    if (auto owner = ControllerOwnerKey(new_obj, k8s::resources::kPipelineExecutions.kind)) {
      dispatch_latency_.OnJobUpdate(*owner, *old_obj, new_obj);
    }
  }
  // An object may move between owners or labels: both the old and the new one look again.
  Keys keys = KeysFor(resource, new_obj);
  if (old_obj && old_obj.get() != &new_obj) {
    Keys old_keys = KeysFor(resource, *old_obj);
    keys.insert(keys.end(), old_keys.begin(), old_keys.end());
  }
  Enqueue(resource, std::move(keys), delay);
}

void Manager::Hooks(const k8s::Resource& resource, const k8s::Object* old_obj,
                    const k8s::Object* new_obj) {
  Keys keys;
  for (Registered& r : registered_) {
    if (!r.options.on_change) continue;
    for (auto& key : r.options.on_change(resource, old_obj, new_obj)) {
      keys.emplace_back(r.loop.get(), std::move(key));
    }
  }
  if (!keys.empty()) Enqueue(resource, std::move(keys));
}

void Manager::OnObject(const k8s::Resource& resource, const k8s::Object& obj) {
  Enqueue(resource, KeysFor(resource, obj));
}

Manager::Keys Manager::KeysFor(const k8s::Resource& resource, const k8s::Object& obj) {
  Keys keys;
  for (Registered& r : registered_) {
    ReconcileLoop* loop = r.loop.get();
    if (resource == r.options.primary) keys.emplace_back(loop, k8s::KeyOf(obj));
    if (resource == k8s::resources::kJobs && r.Watches(Watch::kOwnedJobs)) {
      if (auto key = ControllerOwnerKey(obj, r.options.primary.kind)) keys.emplace_back(loop, *key);
    }
    if (resource == k8s::resources::kPods && r.Watches(Watch::kExecutionPods)) {
      if (auto key = ExecutionLabelKey(obj)) keys.emplace_back(loop, *key);
    }
    if (resource == k8s::resources::kEvents && r.Watches(Watch::kJobEvents)) {
      const auto& jobs = *informers_.at(k8s::resources::kJobs.resource);
      if (auto key = JobEventOwnerKey(obj, jobs, r.options.primary.kind)) {
        keys.emplace_back(loop, *key);
      }
    }
    if (resource == k8s::resources::kPipelines && r.Watches(Watch::kReferencedPipelines)) {
      const auto& executions = *informers_.at(k8s::resources::kPipelineExecutions.resource);
      for (auto& key : ExecutionsReferencing(obj, executions)) keys.emplace_back(loop, key);
    }
  }
  return keys;
}

void Manager::Enqueue(const k8s::Resource& resource, Keys keys, std::chrono::milliseconds delay) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (auto& [loop, key] : keys) {
    enqueues_.Inc({loop->name(), resource.resource});
    Log()->debug("enqueue controller={} key={} source={} delay_ms={}", loop->name(), key,
                 resource.resource, delay.count());
    if (delay.count() > 0) {
      loop->queue().AddAfter(key, delay);
    } else {
      loop->Enqueue(key);
    }
  }
}

const k8s::CacheReader& Manager::Cache(const k8s::Resource& resource) const {
  return *informers_.at(resource.resource);
}

void Manager::Register(reconcilers::Reconciler& reconciler, ControllerOptions options) {
  Registered r;
  r.loop = std::make_unique<ReconcileLoop>(reconciler, clock_, registry_);
  r.options = std::move(options);
  registered_.push_back(std::move(r));
}

bool Manager::CachesSynced() const {
  return std::all_of(informers_.begin(), informers_.end(),
                     [](const auto& entry) { return entry.second->HasSynced(); });
}

void Manager::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  changed_.notify_all();
}

bool Manager::Lost() const {
  std::lock_guard lock(mu_);
  return lost_;
}

bool Manager::WaitForCacheSync(const std::atomic<bool>& stop, const std::function<bool()>& synced) {
  const k8s::MonoTime deadline = clock_.MonotonicNow() + options_.cache_sync_timeout;
  std::unique_lock lock(mu_);
  while (!synced()) {
    if (stop.load() || stop_requested_ || clock_.MonotonicNow() >= deadline) return false;
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return true;
}

bool Manager::WaitToLead(const std::atomic<bool>& stop, LeaderElector& elector) {
  elector.OnStateChange([this](LeaderElector::State s) {
    {
      std::lock_guard lock(mu_);
      if (s == LeaderElector::State::kLost) lost_ = true;
    }
    leading_ = s == LeaderElector::State::kLeader;
    leader_gauge_.Set({}, leading_ ? 1 : 0);
    changed_.notify_all();
  });
  elector_ = &elector;
  elector_thread_ = std::thread([this, &elector] { elector.Run(elector_stop_); });
  Log()->info("waiting to lead identity={}", elector.identity());
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return leading_.load() || lost_ || stop_requested_ || stop.load(); });
  return leading_.load() && !lost_;
}

void Manager::WaitForStopOrLoss(const std::atomic<bool>& stop) {
  std::unique_lock lock(mu_);
  while (!stop.load() && !stop_requested_ && !lost_) {
    changed_.wait_for(lock, std::chrono::milliseconds(100));
    if (elector_ && elector_->RenewalOverdue()) {
      // The elector's renewal is stuck in a request: stop now rather than when it returns.
      Log()->error("lease renewal overdue identity={}", elector_->identity());
      lost_ = true;
    }
  }
}

void Manager::StartWorkers() {
  for (Registered& r : registered_) r.loop->Start(r.options.workers);
  Log()->info("workers started controllers={}", registered_.size());
}

void Manager::StopWorkers() {
  for (Registered& r : registered_) r.loop->ShutDown();
  for (Registered& r : registered_) r.loop->Join();
}

void Manager::StopElector(LeaderElector* elector, bool release) {
  elector_stop_ = true;
  if (elector_) elector_->Wake();
  if (elector_thread_.joinable()) elector_thread_.join();
  if (elector && release) {
    k8s::Status s = elector->Release();
    if (s.ok()) {
      Log()->info("released the leader lease identity={}", elector->identity());
    } else {
      Log()->warn("releasing the leader lease failed err={}", s.ToString());
    }
  }
}

Manager::RunResult Manager::Run(const std::atomic<bool>& stop, LeaderElector* elector) {
  // Owners first: the Job and pod caches ask the executions cache what they may forget
  // (k8s_informers.h), so Pipelines and executions are listed before what they own.
  const auto owner_kind = [](const std::string& name) {
    return name == k8s::resources::kPipelines.resource ||
           name == k8s::resources::kPipelineExecutions.resource;
  };
  for (auto& [name, informer] : informers_) {
    if (owner_kind(name)) informer->Start();
  }
  const bool owners_synced = WaitForCacheSync(stop, [&] {
    return std::all_of(informers_.begin(), informers_.end(), [&](const auto& entry) {
      return !owner_kind(entry.first) || entry.second->HasSynced();
    });
  });
  for (auto& [name, informer] : informers_) {
    if (owners_synced && !owner_kind(name)) informer->Start();
  }
  if (!owners_synced || !WaitForCacheSync(stop, [this] { return CachesSynced(); })) {
    bool stopping = stop.load();
    {
      std::lock_guard lock(mu_);
      stopping = stopping || stop_requested_;
    }
    StopInformers();
    if (stopping) return RunResult::kStopped;
    Log()->error("caches did not sync timeout_ms={}", options_.cache_sync_timeout.count());
    return RunResult::kCacheSyncFailed;
  }
  Log()->info("caches synced namespace={}", options_.ns.empty() ? "<all>" : options_.ns);
  const bool lead = elector == nullptr || WaitToLead(stop, *elector);
  if (lead) {
    if (!elector) leading_ = true;
    leader_gauge_.Set({}, 1);
    StartWorkers();
    WaitForStopOrLoss(stop);
  }
  const bool lost = Lost();
  StopWorkers();
  if (lost) {
    leading_ = false;  // also when the loss was an overdue renewal the elector never reported
    leader_gauge_.Set({}, 0);
    Log()->error("leadership lost: stopped reconciling");
    return RunResult::kLeadershipLost;
  }
  StopElector(elector, /*release=*/true);
  leading_ = false;
  leader_gauge_.Set({}, 0);
  StopInformers();
  return RunResult::kStopped;
}

}  // namespace stepline::controller
