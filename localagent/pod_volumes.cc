#include "localagent/pod_volumes.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "k8sclient/object_fields.h"
#include "localagent/file_util.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::BoolField;
using k8s::IntField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr int64_t kDefaultMode = 0644;  // the API's default for secret and configMap volumes

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

bool BadRelativePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return true;
  for (const auto& part : std::filesystem::path(path)) {
    if (part == "..") return true;
  }
  return false;
}

// Writes each key (or each of items) as a file under dir. source: "secret" or "configmap".
k8s::Status WriteKeys(const std::map<std::string, std::string>& data, const k8s::Object& source,
                      const std::string& dir, const std::string& what) {
  const int64_t mode = IntField(source, "defaultMode").value_or(kDefaultMode);
  std::vector<std::tuple<std::string, std::string, int64_t>> files;  // key, path, mode
  const auto& items = ArrayField(source, "items");
  for (const auto& [key, value] : data) {
    if (items.empty()) files.emplace_back(key, key, mode);
  }
  for (const auto& item : items) {
    const std::string key = StringField(item, "key");
    const std::string path = StringField(item, "path");
    if (data.count(key) == 0) {
      return k8s::Status::InvalidArgument("configured to use key " + key + " of " + what +
                                          " but it does not have that key");
    }
    if (BadRelativePath(path)) {
      return k8s::Status::InvalidArgument("items path " + Quoted(path) + " of " + what +
                                          " must be relative and must not contain '..'");
    }
    files.emplace_back(key, path, IntField(item, "mode").value_or(mode));
  }
  for (const auto& [key, path, file_mode] : files) {
    const std::string target = dir + "/" + path;
    MakeDirs(target.substr(0, target.rfind('/')));
    if (!WriteWholeFile(target, data.at(key)) ||
        ::chmod(target.c_str(), static_cast<mode_t>(file_mode & 07777)) != 0) {
      return k8s::Status::Internal("cannot write " + target);
    }
  }
  return k8s::Status::Ok();
}

// A secret or configMap volume: its keys as files, or an empty directory when it is optional
// and missing.
k8s::Status WriteObjectVolume(const k8s::Object& pod, const std::string& volume,
                              const k8s::Object& source, bool secret, const std::string& dir,
                              const EnvSources& sources) {
  const std::string name = StringField(source, secret ? "secretName" : "name");
  const std::string ns = StringField(ObjectField(pod, "metadata"), "namespace");
  const std::string what = std::string(secret ? "secret " : "configmap ") + Quoted(name);
  auto data = secret ? sources.SecretData(ns, name) : sources.ConfigMapData(ns, name);
  const bool optional = BoolField(source, "optional", false);
  const std::string failed = "MountVolume.SetUp failed for volume " + Quoted(volume) + " : ";
  if (!data) {
    if (optional) return k8s::Status::Ok();
    return k8s::Status::Unavailable(failed + what + " not found");
  }
  k8s::Status st = WriteKeys(*data, source, dir, what);
  if (!st.ok()) return k8s::Status::InvalidArgument(failed + st.message());
  return st;
}

// The host path backing one volume (set up), or why not.
k8s::Result<std::string> PrepareVolume(const k8s::Object& pod, const k8s::Object& volume,
                                       const std::string& volumes_dir, const EnvSources& sources) {
  const std::string name = StringField(volume, "name");
  const std::string dir = volumes_dir + "/" + name;
  if (volume.contains("hostPath")) return StringField(ObjectField(volume, "hostPath"), "path");
  const bool secret = volume.contains("secret");
  if (volume.contains("emptyDir") || secret || volume.contains("configMap")) {
    if (!MakeDirs(dir)) return k8s::Status::Internal("cannot create " + dir);
    if (volume.contains("emptyDir")) return dir;
    k8s::Status st = WriteObjectVolume(
        pod, name, ObjectField(volume, secret ? "secret" : "configMap"), secret, dir, sources);
    if (!st.ok()) return st;
    return dir;
  }
  std::string type;
  for (const auto& [key, value] : volume.items()) {
    if (key != "name") type += (type.empty() ? "" : ", ") + key;
  }
  return k8s::Status::InvalidArgument(
      "volume " + Quoted(name) + ": the local agent provides emptyDir, secret, configMap and " +
      "hostPath volumes, not " + (type.empty() ? std::string("an empty volume source") : type));
}

}  // namespace

k8s::Result<PodVolumes> PreparePodVolumes(const k8s::Object& pod, const std::string& volumes_dir,
                                          const EnvSources& sources) {
  PodVolumes out;
  for (const auto& volume : ArrayField(ObjectField(pod, "spec"), "volumes")) {
    auto path = PrepareVolume(pod, volume, volumes_dir, sources);
    if (!path.ok()) return path.status();
    out[StringField(volume, "name")] = *path;
  }
  return out;
}

k8s::Result<std::vector<BindMount>> ContainerMounts(const k8s::Object& container,
                                                    const PodVolumes& volumes) {
  std::vector<BindMount> out;
  for (const auto& m : ArrayField(container, "volumeMounts")) {
    const std::string name = StringField(m, "name");
    const std::string sub = StringField(m, "subPath");
    const std::string where = "volumeMount " + Quoted(name) + " at " +
                              Quoted(StringField(m, "mountPath")) + " of container " +
                              Quoted(StringField(container, "name"));
    auto it = volumes.find(name);
    if (it == volumes.end()) {
      return k8s::Status::InvalidArgument(where + ": the pod has no volume " + Quoted(name));
    }
    if (!sub.empty() && BadRelativePath(sub)) {
      return k8s::Status::InvalidArgument(where + ": subPath " + Quoted(sub) +
                                          " must be relative and must not contain '..'");
    }
    std::string source = sub.empty() ? it->second : it->second + "/" + sub;
    if (!sub.empty() && !std::filesystem::exists(source)) MakeDirs(source);
    const bool read_only = BoolField(m, "readOnly", false);
    out.push_back({source, StringField(m, "mountPath"), read_only});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const BindMount& a, const BindMount& b) { return a.target < b.target; });
  return out;
}

}  // namespace stepline::localagent
