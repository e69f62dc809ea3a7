#include "reconcilers/artifact_staging.h"

#include <map>
#include <utility>

#include "k8sclient/object_fields.h"
#include "reconcilers/attempt.h"
#include "reconcilers/fan_in_store.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {
namespace {

using k8s::Annotation;
using k8s::Object;

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string FromProblem(const Artifact& a, const std::string& why) {
  return "input artifact " + Quoted(a.name) + ": " + a.from + " " + why;
}

k8s::Result<std::string> InputUri(const ArtifactResolution& in, const Artifact& a,
                                  const ArtifactSource& source) {
  if (const StepValues* v = in.upstream ? in.upstream(source.step) : nullptr; v != nullptr) {
    if (auto it = v->artifacts.find(source.name); it != v->artifacts.end()) return it->second;
  }
  return k8s::Status::Invalid(
      FromProblem(a, "has no URI (step " + Quoted(source.step) + " did not record that artifact)"));
}

// An input whose from names an upstream value: the value kept in the status, written as a raw
// artifact's text, or the fan-in stored in ConfigMaps, joined.
k8s::Result<StagedArtifact> ValueInput(const ArtifactResolution& in, const Artifact& a,
                                       const ArtifactSource& source) {
  const bool output = source.kind == ArtifactSource::Kind::kOutputValue;
  const std::string what = (output ? "output " : "output artifact ") + Quoted(source.name);
  const StepValues* v = in.upstream ? in.upstream(source.step) : nullptr;
  if (v == nullptr) {
    return k8s::Status::Invalid(
        FromProblem(a, "has no value: step " + Quoted(source.step) + " has not run"));
  }
  const auto& kept = output ? v->outputs : v->artifacts;
  if (auto it = kept.find(source.name); it != kept.end()) {
    if (it->second.size() > kMaxRawArtifactBytes) {  // the status keeps no more than this
      return k8s::Status::Invalid(FromProblem(a, "is " + std::to_string(it->second.size()) +
                                                     " bytes, more than " +
                                                     std::to_string(kMaxRawArtifactBytes)));
    }
    return StagedArtifact{a.name, a.path, "", "", it->second};
  }
  const auto& stored = output ? v->stored_outputs : v->stored_artifacts;
  if (auto it = stored.find(source.name); it != stored.end()) {
    StagedArtifact staged{a.name, a.path};
    staged.stored = it->second;
    return staged;
  }
  const auto& not_kept = output ? v->outputs_not_kept : v->artifacts_not_kept;
  if (auto it = not_kept.find(source.name); it != not_kept.end()) {
    return k8s::Status::Invalid(FromProblem(a, "has no value: " + it->second));
  }
  return k8s::Status::Invalid(FromProblem(a, "has no value: step " + Quoted(source.step) +
                                                 " has no " + what + (output ? "" : " URI") +
                                                 " (it has not succeeded, or did not write it)"));
}

k8s::Result<std::string> OutputUri(const ArtifactResolution& in, const Artifact& a) {
  if (!a.s3.empty()) return a.s3;
  const std::string where = "output artifact " + Quoted(a.name) + " gives no s3 and ";
  if (!in.repository_problem.empty()) {
    return k8s::Status::Invalid(where +
                                "the artifact repository is unusable: " + in.repository_problem);
  }
  if (in.repository == nullptr) {
    return k8s::Status::Invalid(where + "namespace " + in.ns + " has no ConfigMap " +
                                kArtifactRepositoryConfigMap +
                                " (data: bucket, prefix, endpoint, region, credentialsSecret, "
                                "pathStyle); create it or give the artifact an s3 URI");
  }
  return DefaultArtifactUri(*in.repository, in.ns, in.execution, in.step->name, in.index,
                            in.attempt, a.name);
}

// The URI with each run of '/' in its key read as one: a parameter that ends in '/' joined with
// "/rest" (SageMaker's S3OutputPath "s3://b/models/" + "/JOB/output/...") names s3://b/models/JOB/
// ..., as SageMaker joins them; an empty segment would otherwise be refused.
std::string WithoutEmptySegments(const std::string& uri) {
  const size_t key = uri.rfind("s3://", 0) == 0 ? uri.find('/', 5) : std::string::npos;
  if (key == std::string::npos) return uri;
  std::string out = uri.substr(0, key + 1);
  for (size_t i = key + 1; i < uri.size(); ++i) {
    if (uri[i] != '/' || out.back() != '/') out += uri[i];
  }
  return out;
}

// Checks a rendered URI: what validation could not check before the templates were rendered.
k8s::Status CheckRendered(const std::string& kind, const Artifact& a, const std::string& uri) {
  std::string problem = S3UriProblem(uri, false);
  if (problem.empty()) return k8s::Status::Ok();
  return k8s::Status::Invalid(kind + " artifact " + Quoted(a.name) + ": " + problem);
}

// The common options of every stepline-artifacts command.
std::vector<std::string> StorageArgs(const StagedArtifacts& s) {
  std::vector<std::string> args{"--error-file", "/dev/termination-log"};
  const ArtifactRepository& r = s.repository;
  if (!r.endpoint.empty()) args.insert(args.end(), {"--endpoint", r.endpoint});
  if (!r.region.empty()) args.insert(args.end(), {"--region", r.region});
  if (r.path_style) args.push_back(*r.path_style ? "--path-style" : "--virtual-hosted");
  if (!r.credentials_secret.empty()) {
    args.insert(args.end(), {"--credentials-dir", kArtifactCredentialsPath});
  }
  return args;
}

Object StagingContainer(const StagedArtifacts& s, const std::string& name,
                        std::vector<std::string> command) {
  for (std::string& arg : StorageArgs(s)) command.push_back(std::move(arg));
  // Kubernetes expands $(VAR) in args: URIs and paths reach the binary as they are.
  for (std::string& arg : command) arg = EscapeForKubernetesExpansion(arg);
  Object mounts = Object::array({{{"name", kArtifactVolume}, {"mountPath", kArtifactMountPath}}});
  if (!s.repository.credentials_secret.empty()) {
    mounts.push_back({{"name", kArtifactCredentialsVolume},
                      {"mountPath", kArtifactCredentialsPath},
                      {"readOnly", true}});
  }
  return {{"name", name},
          {"image", s.options.image},
          {"command", command},
          {"volumeMounts", mounts},
          {"terminationMessagePolicy", "FallbackToLogsOnError"},
          {"securityContext",
           {{"allowPrivilegeEscalation", false},
            {"capabilities", {{"drop", Object::array({"ALL"})}}}}}};
}

// A staging container that touches no storage (a write, a join): none of the storage's options
// or credentials.
Object StorageFreeContainer(const StagedArtifacts& s, const std::string& name,
                            std::vector<std::string> command) {
  StagedArtifacts storage_free;
  storage_free.options = s.options;
  return StagingContainer(storage_free, name, std::move(command));
}

// The init container that writes a raw artifact: the text in the environment, escaped against
// Kubernetes' $(VAR) expansion.
Object RawWriter(const StagedArtifacts& s, const std::string& name, const std::string& dest,
                 const std::string& text) {
  Object c = StorageFreeContainer(s, name, {"stepline-artifacts", "write", dest});
  c["env"] = Object::array(
      {{{"name", kRawArtifactDataEnv}, {"value", EscapeForKubernetesExpansion(text)}}});
  return c;
}

std::string WithoutTrailingSlash(const std::string& path) {
  return path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
}

// The file or directory an output is uploaded from, inside the staging volume: out/<k> is the
// output's directory; a path ending in '/' is that directory itself, else its basename in it.
std::string UploadSource(const std::string& path, size_t dir_index) {
  std::string dir = std::string(kArtifactMountPath) + "/out/" + std::to_string(dir_index);
  if (path.back() == '/') return dir;
  return dir + path.substr(path.rfind('/'));
}

// The init container that joins a fan-in stored in ConfigMaps into the file dest: each ConfigMap
// from a configMap volume of its own, optional so that one deleted since (a re-run reading its
// source run's) fails the join, saying which, rather than the pod's start.
Object FanInJoiner(const StagedArtifacts& s, const std::string& name, size_t input,
                   const std::string& dest, const StoredValue& stored, Object& volumes) {
  std::vector<std::string> command{"stepline-artifacts", "join", dest, "--items",
                                   std::to_string(stored.items)};
  Object mounts = Object::array();
  for (size_t k = 0; k < stored.config_maps.size(); ++k) {
    const std::string& cm = stored.config_maps[k];
    const std::string volume =
        std::string(kFanInVolumePrefix) + std::to_string(input) + "-" + std::to_string(k);
    const std::string dir = std::string(kFanInMountPath) + "/" + std::to_string(input) + "/" + cm;
    volumes.push_back(
        {{"name", volume},
         {"configMap",
          {{"name", cm},
           {"optional", true},
           {"items", Object::array({{{"key", kFanInDataKey}, {"path", kFanInDataKey}}})}}}});
    mounts.push_back({{"name", volume}, {"mountPath", dir}, {"readOnly", true}});
    command.push_back(dir + "/" + kFanInDataKey);
  }
  Object c = StorageFreeContainer(s, name, std::move(command));
  for (Object& m : mounts) c["volumeMounts"].push_back(std::move(m));
  return c;
}

void AddInputs(const StagedArtifacts& s, Object& init, Object& mounts, Object& volumes) {
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    const StagedArtifact& a = s.inputs[i];
    const std::string sub = "in/" + std::to_string(i);
    // A directory input: an object lands in it under its own name (stepline-artifacts' rule
    // for a destination ending in '/'), a prefix's objects below it.
    const std::string into = a.path.back() == '/' ? "/" : "";
    const std::string name = kArtifactContainerPrefix + std::string("in-") + std::to_string(i);
    const std::string dest = std::string(kArtifactMountPath) + "/" + sub + into;
    std::vector<std::string> download{"stepline-artifacts", "download", a.uri, dest};
    if (a.archive == "tgz") download.push_back("--tar-gz");  // unpacked into the directory
    if (a.raw) {
      init.push_back(RawWriter(s, name, dest, *a.raw));
    } else if (a.stored) {
      init.push_back(FanInJoiner(s, name, i, dest, *a.stored, volumes));
    } else {
      init.push_back(StagingContainer(s, name, std::move(download)));
    }
    mounts.push_back(
        {{"name", kArtifactVolume}, {"mountPath", WithoutTrailingSlash(a.path)}, {"subPath", sub}});
  }
}

void AddOutputs(const StagedArtifacts& s, Object& init, Object& mounts) {
  std::map<std::string, size_t> dirs;  // mount directory -> k of out/<k>
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    const StagedArtifact& a = s.outputs[i];
    auto [it, fresh] = dirs.emplace(OutputMountDirectory(a.path), dirs.size());
    if (fresh) {
      mounts.push_back({{"name", kArtifactVolume},
                        {"mountPath", it->first},
                        {"subPath", "out/" + std::to_string(it->second)}});
    }
    std::vector<std::string> command{"stepline-artifacts", "upload",
                                     UploadSource(a.path, it->second), a.uri, "--wait-for-term"};
    if (a.archive == "tgz") command.push_back("--tar-gz");
    Object c = StagingContainer(
        s, kArtifactContainerPrefix + std::string("out-") + std::to_string(i), std::move(command));
    c["restartPolicy"] = "Always";  // a native sidecar: runs beside the step, stopped after it
    init.push_back(std::move(c));
  }
}

}  // namespace

k8s::Result<StagedArtifacts> ResolveArtifacts(const ArtifactResolution& in) {
  StagedArtifacts out;
  out.options = in.options;
  if (in.repository != nullptr) out.repository = *in.repository;
  for (const Artifact& a : in.step->input_artifacts) {
    if (a.raw) {
      if (a.raw->size() > kMaxRawArtifactBytes) {
        return k8s::Status::Invalid("input artifact " + Quoted(a.name) + ": raw.data is " +
                                    std::to_string(a.raw->size()) + " bytes once rendered, more " +
                                    "than " + std::to_string(kMaxRawArtifactBytes));
      }
      out.inputs.push_back({a.name, a.path, "", "", a.raw});
      continue;
    }
    k8s::Result<ArtifactSource> source = ParseArtifactFrom(a.from);
    if (!a.from.empty() && !source.ok()) return source.status();
    if (!a.from.empty() && source->IsValue()) {
      k8s::Result<StagedArtifact> value = ValueInput(in, a, *source);
      if (!value.ok()) return value.status();
      out.inputs.push_back(std::move(value).value());
      continue;
    }
    k8s::Result<std::string> uri = a.from.empty() ? a.s3 : InputUri(in, a, *source);
    if (!uri.ok()) return uri.status();
    *uri = WithoutEmptySegments(*uri);
    if (k8s::Status st = CheckRendered("input", a, *uri); !st.ok()) return st;
    out.inputs.push_back({a.name, a.path, *uri, a.archive});
  }
  for (const Artifact& a : in.step->output_artifacts) {
    k8s::Result<std::string> uri = OutputUri(in, a);
    if (!uri.ok()) return uri.status();
    *uri = WithoutEmptySegments(*uri);
    if (k8s::Status st = CheckRendered("output", a, *uri); !st.ok()) return st;
    out.outputs.push_back({a.name, a.path, *uri, a.archive});
  }
  return out;
}

std::string AddArtifactStaging(const StagedArtifacts& staged, Object* pod_spec) {
  if (staged.empty()) return "";
  Object init = Object::array();
  Object& main = (*pod_spec)["containers"][0];
  Object mounts = main.contains("volumeMounts") ? main["volumeMounts"] : Object::array();
  Object volumes = Object::array({{{"name", kArtifactVolume}, {"emptyDir", Object::object()}}});
  AddInputs(staged, init, mounts, volumes);
  AddOutputs(staged, init, mounts);
  main["volumeMounts"] = mounts;
  (*pod_spec)["initContainers"] = init;
  if (!staged.repository.credentials_secret.empty()) {
    volumes.push_back({{"name", kArtifactCredentialsVolume},
                       {"secret", {{"secretName", staged.repository.credentials_secret}}}});
  }
  (*pod_spec)["volumes"] = volumes;
  if (staged.outputs.empty()) return "";
  (*pod_spec)["terminationGracePeriodSeconds"] = staged.options.upload_grace_seconds;
  Object uris = Object::object();
  for (const StagedArtifact& a : staged.outputs) uris[a.name] = a.uri;
  return uris.dump();
}

StringMap RecordedArtifacts(const Object& job) {
  const std::string& text = Annotation(job, kAnnotationArtifacts);
  StringMap out;
  if (text.empty()) return out;
  Object parsed = Object::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return out;
  for (const auto& [name, uri] : parsed.items()) {
    if (uri.is_string()) out[name] = uri.get<std::string>();
  }
  return out;
}

}  // namespace stepline::reconcilers
