#include "controller/k8s_informers.h"

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
  void Recheck(const std::vector<k8s::ObjectPtr>& objects) override { informer_.Recheck(objects); }

 private:
  k8s::Informer informer_;
};

std::unique_ptr<InformerHandle> K8sInformerFactory::Create(const k8s::Resource& resource,
                                                           const k8s::InformerOptions& options) {
  return std::make_unique<Handle>(client_, resource, options, clock_);
}

}  // namespace stepline::controller
