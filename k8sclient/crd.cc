#include "k8sclient/crd.h"

namespace stepline::k8s {

namespace {

bool FieldIs(const Object& obj, const char* key, const char* want) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() && it->get_ref<const std::string&>() == want;
}

}  // namespace

bool IsCrdEstablished(const Object& crd) {
  auto status = crd.find("status");
  if (status == crd.end() || !status->is_object()) return false;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return false;
  for (const auto& c : *conditions) {
    if (c.is_object() && FieldIs(c, "type", "Established") && FieldIs(c, "status", "True")) {
      return true;
    }
  }
  return false;
}

Status EnsureCrdEstablished(Client& client, const Object& crd, const Clock& clock, Sleeper& sleeper,
                            std::chrono::milliseconds timeout) {
  const Resource& crds = resources::kCustomResourceDefinitions;
  Result<Object> created = client.Create(crds, "", crd);
  if (!created.ok() && !created.status().IsAlreadyExists()) return created.status();
  const std::string& name = NameOf(crd);
  const MonoTime deadline = clock.MonotonicNow() + timeout;
  while (true) {
    Result<Object> current = client.Get(crds, "", name);
    if (!current.ok()) return current.status();
    if (IsCrdEstablished(*current)) return Status::Ok();
    if (clock.MonotonicNow() >= deadline) {
      return Status(StatusCode::kTimeout, "CRD " + name + " not Established after " +
                                              std::to_string(timeout.count()) + " ms");
    }
    if (!sleeper.SleepFor(std::chrono::milliseconds(100), nullptr)) {
      return Status::Cancelled("waiting for CRD " + name);
    }
  }
}

}  // namespace stepline::k8s
