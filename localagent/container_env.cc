#include "localagent/container_env.h"

#include "k8sclient/object_fields.h"
#include "localagent/resources.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::BoolField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

using Vars = std::map<std::string, std::string>;

struct EnvBuilder {
  std::vector<std::string> order;
  Vars vars;
  void Set(const std::string& name, const std::string& value) {
    if (vars.count(name) == 0) order.push_back(name);
    vars[name] = value;
  }
};

k8s::Result<std::string> KeyRef(const k8s::Object& pod, const k8s::Object& ref, bool secret,
                                const EnvSources& sources, bool* skip) {
  const std::string ns = k8s::NamespaceOf(pod);
  const std::string name = StringField(ref, "name");
  const std::string key = StringField(ref, "key");
  const bool optional = BoolField(ref, "optional", false);
  auto data = secret ? sources.SecretData(ns, name) : sources.ConfigMapData(ns, name);
  const std::string kind = secret ? "Secret" : "ConfigMap";
  if (!data) {
    if (optional) *skip = true;
    return optional ? k8s::Result<std::string>("")
                    : k8s::Status::NotFound((secret ? "secret \"" : "configmap \"") + name +
                                            "\" not found");
  }
  auto it = data->find(key);
  if (it == data->end()) {
    if (optional) *skip = true;
    return optional ? k8s::Result<std::string>("")
                    : k8s::Status::NotFound("couldn't find key " + key + " in " + kind + " " + ns +
                                            "/" + name);
  }
  return it->second;
}

k8s::Result<std::string> FieldRef(const k8s::Object& pod, const std::string& path) {
  const auto& meta = ObjectField(pod, "metadata");
  if (path == "metadata.name") return StringField(meta, "name");
  if (path == "metadata.namespace") return StringField(meta, "namespace");
  if (path == "metadata.uid") return StringField(meta, "uid");
  if (path == "spec.nodeName") return StringField(ObjectField(pod, "spec"), "nodeName");
  if (path == "spec.serviceAccountName")
    return StringField(ObjectField(pod, "spec"), "serviceAccountName");
  if (path == "status.podIP" || path == "status.hostIP") return std::string("127.0.0.1");
  for (const char* map : {"labels", "annotations"}) {
    const std::string prefix = std::string("metadata.") + map + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2) {
      const std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      return StringField(ObjectField(meta, map), key.c_str());
    }
  }
  return k8s::Status::Invalid("unsupported fieldRef " + path);
}

k8s::Result<std::string> ResourceFieldRef(const k8s::Object& container, const k8s::Object& ref) {
  const std::string resource = StringField(ref, "resource");
  const size_t dot = resource.find('.');
  if (dot == std::string::npos) return k8s::Status::Invalid("bad resourceFieldRef " + resource);
  const auto& res = ObjectField(container, "resources");
  auto list = ParseResourceList(ObjectField(res, resource.substr(0, dot).c_str()));
  if (!list.ok()) return list.status();
  auto it = list->find(resource.substr(dot + 1));
  if (it == list->end()) return std::string("0");
  auto divisor =
      k8s::Quantity::Parse(StringField(ref, "divisor").empty() ? "1" : StringField(ref, "divisor"));
  if (!divisor.ok() || divisor->MilliValue() == 0) return it->second.ToString();
  const int64_t d = divisor->MilliValue();
  return std::to_string((it->second.MilliValue() + d - 1) / d);
}

k8s::Status AddEnvFrom(const k8s::Object& pod, const k8s::Object& container,
                       const EnvSources& sources, EnvBuilder* env) {
  for (const auto& from : ArrayField(container, "envFrom")) {
    const std::string prefix = StringField(from, "prefix");
    const bool secret = from.contains("secretRef");
    const auto& ref = ObjectField(from, secret ? "secretRef" : "configMapRef");
    const std::string name = StringField(ref, "name");
    auto data = secret ? sources.SecretData(k8s::NamespaceOf(pod), name)
                       : sources.ConfigMapData(k8s::NamespaceOf(pod), name);
    if (!data) {
      if (BoolField(ref, "optional", false)) continue;
      return k8s::Status::NotFound((secret ? "secret \"" : "configmap \"") + name + "\" not found");
    }
    for (const auto& [key, value] : *data) env->Set(prefix + key, value);
  }
  return k8s::Status::Ok();
}

k8s::Status AddEnv(const k8s::Object& pod, const k8s::Object& container, const EnvSources& sources,
                   EnvBuilder* env) {
  for (const auto& entry : ArrayField(container, "env")) {
    const std::string name = StringField(entry, "name");
    const auto& from = ObjectField(entry, "valueFrom");
    if (from.empty()) {
      env->Set(name, ExpandVars(StringField(entry, "value"), env->vars));
      continue;
    }
    bool skip = false;
    k8s::Result<std::string> value = std::string();
    if (from.contains("configMapKeyRef") || from.contains("secretKeyRef")) {
      const bool secret = from.contains("secretKeyRef");
      value = KeyRef(pod, ObjectField(from, secret ? "secretKeyRef" : "configMapKeyRef"), secret,
                     sources, &skip);
    } else if (from.contains("fieldRef")) {
      value = FieldRef(pod, StringField(ObjectField(from, "fieldRef"), "fieldPath"));
    } else if (from.contains("resourceFieldRef")) {
      value = ResourceFieldRef(container, ObjectField(from, "resourceFieldRef"));
    }
    if (!value.ok()) return value.status();
    if (!skip) env->Set(name, *value);
  }
  return k8s::Status::Ok();
}

}  // namespace

std::string ExpandVars(const std::string& text, const Vars& vars) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    const size_t close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      out += text[i];
      continue;
    }
    const std::string name = text.substr(i + 2, close - i - 2);
    auto it = vars.find(name);
    out += it != vars.end() ? it->second : text.substr(i, close - i + 1);
    i = close;
  }
  return out;
}

k8s::Result<ContainerLaunch> BuildContainerLaunch(
    const k8s::Object& pod, const k8s::Object& container,
    const std::vector<std::pair<std::string, std::string>>& base, const EnvSources& sources) {
  EnvBuilder env;
  for (const auto& [name, value] : base) env.Set(name, value);
  if (auto s = AddEnvFrom(pod, container, sources, &env); !s.ok()) return s;
  if (auto s = AddEnv(pod, container, sources, &env); !s.ok()) return s;
  ContainerLaunch launch;
  for (const auto& name : env.order) launch.env.push_back(name + "=" + env.vars[name]);
  for (const char* list : {"command", "args"}) {
    for (const auto& arg : ArrayField(container, list)) {
      if (arg.is_string()) launch.argv.push_back(ExpandVars(arg.get<std::string>(), env.vars));
    }
  }
  return launch;
}

}  // namespace stepline::localagent
