#include "controller/manager.h"

#include <algorithm>
#include <stdexcept>

#include "controller/log.h"

namespace stepline::controller {

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = NamedLogger("manager");
  return logger;
}

}  // namespace

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
                                 {"controller", "source"})) {
  RegisterReconcileMetricFamilies(registry);
  leader_gauge_.Set({}, 0);
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

InformerHandle& Manager::AddInformer(InformerSpec spec) {
  const std::string name = spec.name.empty() ? spec.resource.resource : spec.name;
  if (informers_.count(name) != 0) {
    throw std::logic_error("a second informer named " + name + " (InformerSpec::name)");
  }
  spec.options.ns = spec.ns.empty() ? options_.ns : spec.ns;
  auto informer = factory_.Create(spec.resource, spec.options);
  AddHandlers(*informer, spec.resource);
  owners_[name] = spec.owner;
  return *(informers_[name] = std::move(informer));
}

void Manager::AddHandlers(InformerHandle& informer, const k8s::Resource& resource) {
  k8s::EventHandlers h;
  h.on_add = [this, resource](const k8s::ObjectPtr& obj) {
    OnChange(resource, {nullptr, obj.get()});
  };
  h.on_update = [this, resource](const k8s::ObjectPtr& old_obj, const k8s::ObjectPtr& new_obj) {
    OnChange(resource, {old_obj.get(), new_obj.get()});
  };
  h.on_delete = [this, resource](const k8s::ObjectPtr& obj) {
    OnChange(resource, {obj.get(), nullptr});
  };
  informer.AddEventHandlers(std::move(h));
}

void Manager::OnChange(const k8s::Resource& resource, const Change& change) {
  for (Registered& r : registered_) {
    std::map<std::string, std::chrono::milliseconds> keys;  // each key once, its shortest delay
    for (const Watch& w : r.options.watches) {
      if (!(w.resource == resource)) continue;
      for (Request& req : w.map(change)) {
        auto [it, added] = keys.emplace(std::move(req.key), req.after);
        if (!added) it->second = std::min(it->second, req.after);
      }
    }
    ReconcileLoop& loop = *r.loop;
    for (const auto& [key, delay] : keys) {
      enqueues_.Inc({loop.name(), resource.resource});
      Log()->debug("enqueue controller={} key={} source={} delay_ms={}", loop.name(), key,
                   resource.resource, delay.count());
      if (delay.count() > 0) {
        loop.queue().AddAfter(key, delay);
      } else {
        loop.Enqueue(key);
      }
    }
  }
}

const k8s::CacheReader& Manager::Cache(const k8s::Resource& resource) const {
  return *informers_.at(resource.resource);
}

void Manager::Register(Reconciler& reconciler, ControllerOptions options) {
  for (const Watch& w : options.watches) {
    if (informers_.count(w.resource.resource) == 0) {
      throw std::logic_error(reconciler.Name() + " watches " + w.resource.GroupResource() +
                             ", which has no informer");
    }
  }
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
  k8s::MutexLock lock(mu_);
  stop_requested_ = true;
  changed_.SignalAll();
}

bool Manager::Lost() const {
  k8s::MutexLock lock(mu_);
  return lost_;
}

bool Manager::WaitForCacheSync(const std::atomic<bool>& stop, const std::function<bool()>& synced) {
  const k8s::MonoTime deadline = clock_.MonotonicNow() + options_.cache_sync_timeout;
  k8s::MutexLock lock(mu_);
  while (!synced()) {
    if (stop.load() || stop_requested_ || clock_.MonotonicNow() >= deadline) return false;
    changed_.WaitFor(mu_, std::chrono::milliseconds(50));
  }
  return true;
}

bool Manager::WaitToLead(const std::atomic<bool>& stop, LeaderElector& elector) {
  elector.OnStateChange([this](LeaderElector::State s) {
    const bool leading = s == LeaderElector::State::kLeader;
    leader_gauge_.Set({}, leading ? 1 : 0);
    // leading_ changes with mu_ held, so that WaitToLead cannot miss the signal between its
    // check and its wait.
    k8s::MutexLock lock(mu_);
    if (s == LeaderElector::State::kLost) lost_ = true;
    leading_ = leading;
    changed_.SignalAll();
  });
  elector_ = &elector;
  elector_thread_ = std::thread([this, &elector] { elector.Run(elector_stop_); });
  Log()->info("waiting to lead identity={}", elector.identity());
  k8s::MutexLock lock(mu_);
  // `stop` is set without a signal: look again every 100 ms.
  while (!leading_.load() && !lost_ && !stop_requested_ && !stop.load()) {
    changed_.WaitFor(mu_, std::chrono::milliseconds(100));
  }
  return leading_.load() && !lost_;
}

void Manager::WaitForStopOrLoss(const std::atomic<bool>& stop) {
  k8s::MutexLock lock(mu_);
  while (!stop.load() && !stop_requested_ && !lost_) {
    changed_.WaitFor(mu_, std::chrono::milliseconds(100));
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
  // Owners first: other caches may ask theirs what they may keep (InformerSpec::owner).
  const auto owner_kind = [this](const std::string& name) { return owners_.at(name); };
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
      k8s::MutexLock lock(mu_);
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
