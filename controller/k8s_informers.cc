#include "controller/k8s_informers.h"

#include "reconcilers/cache_trim.h"

namespace stepline::controller {

namespace {

class K8sInformerHandle final : public InformerHandle {
 public:
  K8sInformerHandle(k8s::Client& client, const k8s::Resource& resource,
                    const k8s::InformerOptions& options, const k8s::Clock& clock)
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

 private:
  k8s::Informer informer_;
};

}  // namespace

std::unique_ptr<InformerHandle> K8sInformerFactory::Create(const k8s::Resource& resource,
                                                           const k8s::InformerOptions& options) {
  k8s::InformerOptions opts = options;
  if (auto trim = reconcilers::CacheTrimFor(resource)) {  // what no reconciler reads goes first
    opts.transform = [trim, then = options.transform](k8s::Object& obj) {
      trim(obj);
      if (then) then(obj);
    };
  }
  return std::make_unique<K8sInformerHandle>(client_, resource, opts, clock_);
}

}  // namespace stepline::controller
