#include "localagent/job_pod.h"

#include "k8sclient/object_fields.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr size_t kMaxGeneratedNameBase = 58;  // 63 - 5 random characters
constexpr const char* kAlphabet = "bcdfghjklmnpqrstvwxz2456789";

void SetDefault(k8s::Object* obj, const char* key, const k8s::Object& value) {
  if (!obj->contains(key) || (*obj)[key].is_null()) (*obj)[key] = value;
}

std::string ImagePullPolicyFor(const std::string& image) {
  const size_t slash = image.rfind('/');
  const size_t colon = image.rfind(':');
  const bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  if (!has_tag || image.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void DefaultContainer(k8s::Object* c) {
  SetDefault(c, "terminationMessagePath", "/dev/termination-log");
  SetDefault(c, "terminationMessagePolicy", "File");
  SetDefault(c, "imagePullPolicy", ImagePullPolicyFor(StringField(*c, "image")));
  SetDefault(c, "resources", k8s::Object::object());
}

}  // namespace

std::string JobPodName(const std::string& job_name, const std::string& suffix) {
  std::string base = job_name + "-";
  if (base.size() > kMaxGeneratedNameBase) base.resize(kMaxGeneratedNameBase);
  return base + suffix;
}

std::string NameSuffix(uint64_t random) {
  std::string out;
  const uint64_t n = std::char_traits<char>::length(kAlphabet);
  for (int i = 0; i < 5; ++i) {
    out += kAlphabet[random % n];
    random /= n;
  }
  return out;
}

void DefaultPodSpec(k8s::Object* spec) {
  SetDefault(spec, "restartPolicy", "Always");
  SetDefault(spec, "terminationGracePeriodSeconds", 30);
  SetDefault(spec, "dnsPolicy", "ClusterFirst");
  SetDefault(spec, "schedulerName", "default-scheduler");
  SetDefault(spec, "securityContext", k8s::Object::object());
  SetDefault(spec, "enableServiceLinks", true);
  for (const char* list : {"containers", "initContainers"}) {
    auto it = spec->find(list);
    if (it == spec->end() || !it->is_array()) continue;
    for (auto& c : *it) DefaultContainer(&c);
  }
}

k8s::Object BuildJobPod(const k8s::Object& job, const std::string& pod_name) {
  const auto& tmpl = ObjectField(ObjectField(job, "spec"), "template");
  const auto& tmeta = ObjectField(tmpl, "metadata");
  const std::string& job_name = k8s::NameOf(job);
  const std::string& uid = k8s::UidOf(job);

  k8s::Object labels = ObjectField(tmeta, "labels");
  labels["batch.kubernetes.io/controller-uid"] = uid;
  labels["batch.kubernetes.io/job-name"] = job_name;
  labels["controller-uid"] = uid;
  labels["job-name"] = job_name;

  k8s::Object meta = {{"name", pod_name},
                      {"namespace", k8s::NamespaceOf(job)},
                      {"labels", labels},
                      {"ownerReferences", k8s::Object::array({{{"apiVersion", "batch/v1"},
                                                               {"kind", "Job"},
                                                               {"name", job_name},
                                                               {"uid", uid},
                                                               {"controller", true},
                                                               {"blockOwnerDeletion", true}}})},
                      {"finalizers", k8s::Object::array({kJobTrackingFinalizer})}};
  if (tmeta.contains("annotations")) meta["annotations"] = tmeta["annotations"];
  k8s::Object spec = ObjectField(tmpl, "spec");
  DefaultPodSpec(&spec);
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", spec}};
}

}  // namespace stepline::localagent
