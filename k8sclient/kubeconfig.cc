// Kubeconfig parsing (clientcmd's v1.Config, the fields a controller needs).
#include <yaml-cpp/yaml.h>

#include <map>

#include "k8sclient/base64.h"
#include "k8sclient/config.h"

namespace stepline::k8s {
namespace {

// One named entry of clusters/users/contexts, with where it came from for error messages and
// for resolving relative paths.
struct Entry {
  YAML::Node body;    // the "cluster" / "user" / "context" mapping (may be null)
  std::string file;   // the kubeconfig that defined it
  std::string dir;    // its directory, for relative paths
  std::string where;  // "clusters[2].cluster"
};

struct Merged {
  std::string current_context;
  std::string current_context_file;
  std::map<std::string, Entry> clusters, users, contexts;
  std::string first_file;
};

Status FieldError(const std::string& file, const std::string& field, const std::string& what) {
  return Status::InvalidArgument("kubeconfig " + file + ": " + field + ": " + what);
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return dir + "/" + path;
}

// A scalar string field; "" when absent or null; an error when it is not a scalar.
Status StringAt(const YAML::Node& map, const char* key, const Entry& e, std::string* out) {
  YAML::Node value = map[key];
  if (!value || value.IsNull()) return Status::Ok();
  if (!value.IsScalar()) return FieldError(e.file, e.where + "." + key, "must be a string");
  *out = value.Scalar();
  return Status::Ok();
}

Status BoolAt(const YAML::Node& map, const char* key, const Entry& e, bool* out) {
  YAML::Node value = map[key];
  if (!value || value.IsNull()) return Status::Ok();
  bool parsed = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, parsed)) {
    return FieldError(e.file, e.where + "." + key, "must be true or false");
  }
  *out = parsed;
  return Status::Ok();
}

// The contents of either KEY (a file path) or KEY-data (base64), never both.
Status FileOrData(const YAML::Node& map, const std::string& key, const Entry& e, std::string* out) {
  std::string path, data;
  if (Status s = StringAt(map, key.c_str(), e, &path); !s.ok()) return s;
  if (Status s = StringAt(map, (key + "-data").c_str(), e, &data); !s.ok()) return s;
  if (!path.empty() && !data.empty()) {
    return FieldError(e.file, e.where + "." + key,
                      "both " + key + " and " + key + "-data are set; use one");
  }
  if (!data.empty()) {
    std::optional<std::string> decoded = DecodeBase64(data);
    if (!decoded) return FieldError(e.file, e.where + "." + key + "-data", "not valid base64");
    *out = std::move(*decoded);
  } else if (!path.empty()) {
    Result<std::string> contents = ReadWholeFile(Resolve(e.dir, path));
    if (!contents.ok()) return FieldError(e.file, e.where + "." + key, contents.status().message());
    *out = std::move(*contents);
  }
  return Status::Ok();
}

Status RequirePem(const std::string& pem, const Entry& e, const std::string& field) {
  if (pem.empty() || pem.find("-----BEGIN ") != std::string::npos) return Status::Ok();
  return FieldError(e.file, e.where + "." + field, "does not hold PEM data");
}

// Adds each named entry of section (e.g. "clusters", body key "cluster") unless already known.
Status MergeSection(const YAML::Node& root, const char* section, const char* body_key,
                    const std::string& file, std::map<std::string, Entry>* into) {
  YAML::Node list = root[section];
  if (!list || list.IsNull()) return Status::Ok();
  if (!list.IsSequence()) return FieldError(file, section, "must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = std::string(section) + "[" + std::to_string(i) + "]";
    YAML::Node item = list[i];
    if (!item.IsMap()) return FieldError(file, where, "must be a mapping");
    YAML::Node name = item["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      return FieldError(file, where + ".name", "must be a non-empty string");
    }
    YAML::Node body = item[body_key];
    if (body && !body.IsNull() && !body.IsMap()) {
      return FieldError(file, where + "." + body_key, "must be a mapping");
    }
    into->emplace(name.Scalar(), Entry{body, file, DirOf(file), where + "." + body_key});
  }
  return Status::Ok();
}

Status MergeFile(const std::string& path, Merged* merged) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return Status::InvalidArgument("kubeconfig: " + text.status().message());
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + path + ": not valid YAML: line " +
                                   std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();  // an empty file is an empty config, as in kubectl
  if (!root.IsMap()) return FieldError(path, "(document)", "must be a mapping");
  YAML::Node current = root["current-context"];
  if (current && !current.IsNull() && !current.IsScalar()) {
    return FieldError(path, "current-context", "must be a string");
  }
  if (merged->current_context.empty() && current && current.IsScalar()) {
    merged->current_context = current.Scalar();
    merged->current_context_file = path;
  }
  if (Status s = MergeSection(root, "clusters", "cluster", path, &merged->clusters); !s.ok()) {
    return s;
  }
  if (Status s = MergeSection(root, "users", "user", path, &merged->users); !s.ok()) return s;
  return MergeSection(root, "contexts", "context", path, &merged->contexts);
}

Status ApplyCluster(const Entry& e, bool allow_insecure, RestConfig* config) {
  if (!e.body || e.body.IsNull()) return FieldError(e.file, e.where, "is missing");
  if (Status s = StringAt(e.body, "server", e, &config->server); !s.ok()) return s;
  if (config->server.empty()) return FieldError(e.file, e.where + ".server", "is required");
  if (config->server.rfind("https://", 0) != 0) {
    return FieldError(e.file, e.where + ".server",
                      "must be an https:// URL (got \"" + config->server + "\")");
  }
  while (config->server.size() > 8 && config->server.back() == '/') config->server.pop_back();
  if (Status s = FileOrData(e.body, "certificate-authority", e, &config->ca_pem); !s.ok()) return s;
  if (Status s = RequirePem(config->ca_pem, e, "certificate-authority"); !s.ok()) return s;
  bool insecure = false;
  if (Status s = BoolAt(e.body, "insecure-skip-tls-verify", e, &insecure); !s.ok()) return s;
  if (insecure && !allow_insecure) {
    return FieldError(e.file, e.where + ".insecure-skip-tls-verify",
                      "true is refused: Stepline always verifies the server's certificate "
                      "(set certificate-authority instead, or pass allow_insecure)");
  }
  config->insecure_skip_tls_verify = insecure;
  return Status::Ok();
}

Status RefuseUnsupported(const Entry& e) {
  for (const char* key : {"exec", "auth-provider", "username", "password"}) {
    if (e.body[key] && !e.body[key].IsNull()) {
      return FieldError(e.file, e.where + "." + key,
                        "is not supported (use a token, tokenFile or a client certificate)");
    }
  }
  return Status::Ok();
}

Status ApplyUser(const Entry& e, RestConfig* config) {
  if (!e.body || e.body.IsNull()) return Status::Ok();  // no credentials
  if (Status s = RefuseUnsupported(e); !s.ok()) return s;
  if (Status s = FileOrData(e.body, "client-certificate", e, &config->client_cert_pem); !s.ok()) {
    return s;
  }
  if (Status s = FileOrData(e.body, "client-key", e, &config->client_key_pem); !s.ok()) return s;
  if (Status s = RequirePem(config->client_cert_pem, e, "client-certificate"); !s.ok()) return s;
  if (Status s = RequirePem(config->client_key_pem, e, "client-key"); !s.ok()) return s;
  if (config->client_cert_pem.empty() != config->client_key_pem.empty()) {
    return FieldError(e.file, e.where, "client-certificate and client-key must be set together");
  }
  if (Status s = StringAt(e.body, "token", e, &config->bearer_token); !s.ok()) return s;
  std::string token_file;
  if (Status s = StringAt(e.body, "tokenFile", e, &token_file); !s.ok()) return s;
  if (!token_file.empty()) {
    config->token_file = Resolve(e.dir, token_file);
    Result<std::string> token = ReadWholeFile(config->token_file);
    if (!token.ok()) return FieldError(e.file, e.where + ".tokenFile", token.status().message());
  }
  return Status::Ok();
}

Result<RestConfig> ConfigFromMerged(const Merged& m, const KubeconfigOptions& options) {
  std::string name = options.context.empty() ? m.current_context : options.context;
  if (name.empty()) {
    return FieldError(m.first_file, "current-context", "is not set and no context was given");
  }
  auto ctx = m.contexts.find(name);
  if (ctx == m.contexts.end()) {
    std::string file = options.context.empty() ? m.current_context_file : m.first_file;
    return FieldError(file, "contexts", "no context named \"" + name + "\"");
  }
  const Entry& c = ctx->second;
  if (!c.body || c.body.IsNull()) return FieldError(c.file, c.where, "is missing");
  std::string cluster_name, user_name;
  RestConfig config;
  if (Status s = StringAt(c.body, "cluster", c, &cluster_name); !s.ok()) return s;
  if (Status s = StringAt(c.body, "user", c, &user_name); !s.ok()) return s;
  if (Status s = StringAt(c.body, "namespace", c, &config.default_namespace); !s.ok()) return s;
  auto cluster = m.clusters.find(cluster_name);
  if (cluster == m.clusters.end()) {
    return FieldError(c.file, c.where + ".cluster", "no cluster named \"" + cluster_name + "\"");
  }
  if (Status s = ApplyCluster(cluster->second, options.allow_insecure, &config); !s.ok()) return s;
  if (!user_name.empty()) {
    auto user = m.users.find(user_name);
    if (user == m.users.end()) {
      return FieldError(c.file, c.where + ".user", "no user named \"" + user_name + "\"");
    }
    if (Status s = ApplyUser(user->second, &config); !s.ok()) return s;
  }
  return config;
}

}  // namespace

Result<RestConfig> LoadKubeconfigFiles(const std::vector<std::string>& paths,
                                       const KubeconfigOptions& options) {
  if (paths.empty()) return Status::InvalidArgument("kubeconfig: no file given");
  Merged merged;
  merged.first_file = paths.front();
  for (const auto& path : paths) {
    try {
      if (Status s = MergeFile(path, &merged); !s.ok()) return s;
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument("kubeconfig " + path + ": " + e.msg);
    }
  }
  try {
    return ConfigFromMerged(merged, options);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + merged.first_file + ": " + e.msg);
  }
}

Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context,
                                  bool allow_insecure) {
  return LoadKubeconfigFiles({path}, KubeconfigOptions{context, allow_insecure});
}

}  // namespace stepline::k8s
