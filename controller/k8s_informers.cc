#include "controller/k8s_informers.h"

#include "reconcilers/cache_trim.h"

namespace stepline::controller {

class K8sInformerFactory::Handle final : public InformerHandle {
 public:
  Handle(k8s::Client& client, const k8s::Resource& resource, const k8s::InformerOptions& options,
         const k8s::Clock& clock)
      : informer_(client, client, resource, options, clock) {}
  void AddEventHandlers(k8s::EventHandlers h) override { informer_.AddEventHandlers(std::move(h)); }
  void Start() override { informer_.Start(); }
  void Stop() override { informer_.Stop(); }
  bool HasSynced() const override { return informer_.HasSynced(); }
  k8s::ObjectPtr Get(const std::string& ns, const std::string& name) const override {
    return informer_.Get(ns, name);
  }
  std::vector<k8s::ObjectPtr> List(const std::string& ns) const override {
    return informer_.List(ns);
  }
  std::vector<k8s::ObjectPtr> ListByOwner(const std::string& uid) const override {
    return informer_.ListByOwner(uid);
  }
  void Recheck(const std::vector<k8s::ObjectPtr>& objects) { informer_.Recheck(objects); }

 private:
  k8s::Informer informer_;
};

// The execution just finished: its ended Jobs, and their ended pods, are read no more.
void K8sInformerFactory::ForgetEnded(const k8s::Object& execution) const {
  if (jobs_ == nullptr) return;
  std::vector<k8s::ObjectPtr> jobs = jobs_->ListByOwner(k8s::UidOf(execution));
  if (pods_ != nullptr) {
    for (const k8s::ObjectPtr& job : jobs) pods_->Recheck(pods_->ListByOwner(k8s::UidOf(*job)));
  }
  jobs_->Recheck(jobs);
}

std::unique_ptr<InformerHandle> K8sInformerFactory::Create(const k8s::Resource& resource,
                                                           const k8s::InformerOptions& options) {
  k8s::InformerOptions opts = options;
  if (auto trim = reconcilers::CacheTrimFor(resource)) {  // what no reconciler reads goes first
    opts.transform = [trim, then = options.transform](k8s::Object& obj) {
      trim(obj);
      if (then) then(obj);
    };
  }
  const bool ended_go = resource == k8s::resources::kJobs || resource == k8s::resources::kPods;
  if (ended_go && executions_ != nullptr) {
    opts.keep = [executions = executions_](const k8s::Object& obj) {
      return !reconcilers::FinishedWithItsExecution(obj, *executions);
    };
  }
  auto handle = std::make_unique<Handle>(client_, resource, opts, clock_);
  if (resource == k8s::resources::kPipelineExecutions) {
    executions_ = handle.get();
    k8s::EventHandlers h;
    h.on_update = [this](const k8s::ObjectPtr& old_obj, const k8s::ObjectPtr& new_obj) {
      if (!reconcilers::IsFinishedExecution(*old_obj) &&
          reconcilers::IsFinishedExecution(*new_obj)) {
        ForgetEnded(*new_obj);
      }
    };
    handle->AddEventHandlers(std::move(h));
  }
  if (resource == k8s::resources::kJobs) jobs_ = handle.get();
  if (resource == k8s::resources::kPods) pods_ = handle.get();
  return handle;
}

}  // namespace stepline::controller
