#include "reconcilers/artifact_repository.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

namespace stepline::reconcilers {
namespace {

constexpr std::array<std::string_view, 6> kRepositoryKeys{
    "bucket", "prefix", "endpoint", "region", "credentialsSecret", "pathStyle"};

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string StripSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// What is wrong with a bucket name (S3's rules), or "".
std::string BucketProblem(std::string_view bucket) {
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  bool ok =
      bucket.size() >= 3 && bucket.size() <= 63 && alnum(bucket.front()) && alnum(bucket.back());
  for (char c : bucket) ok = ok && (alnum(c) || c == '.' || c == '-');
  if (ok) return "";
  return "\"" + std::string(bucket) +
         "\" is not a valid bucket name (3-63 characters of a-z, 0-9, '.' and '-', starting and "
         "ending with a letter or digit)";
}

// The data values as strings; Invalid naming the key when one is not a string or is unknown.
k8s::Result<std::vector<std::pair<std::string, std::string>>> DataEntries(
    const k8s::Object& data, const std::string& where) {
  std::vector<std::pair<std::string, std::string>> entries;
  if (data.is_null()) return entries;
  if (!data.is_object()) return k8s::Status::Invalid(where + "data: must be an object");
  for (const auto& [key, value] : data.items()) {
    bool known = false;
    for (std::string_view k : kRepositoryKeys) known = known || key == k;
    if (!known) {
      return k8s::Status::Invalid(where + "data." + key +
                                  ": unknown key (expected bucket, prefix, endpoint, region, "
                                  "credentialsSecret, pathStyle)");
    }
    if (!value.is_string()) return k8s::Status::Invalid(where + "data." + key + ": not a string");
    entries.emplace_back(key, Trimmed(value.get<std::string>()));
  }
  return entries;
}

k8s::Status SetRepositoryKey(ArtifactRepository* r, const std::string& key, std::string value,
                             const std::string& where) {
  std::string* field = key == "bucket"              ? &r->bucket
                       : key == "endpoint"          ? &r->endpoint
                       : key == "region"            ? &r->region
                       : key == "credentialsSecret" ? &r->credentials_secret
                                                    : nullptr;
  if (field != nullptr) {
    *field = std::move(value);
    return k8s::Status::Ok();
  }
  if (key == "prefix") {
    r->prefix = StripSlashes(std::move(value));
    return k8s::Status::Ok();
  }
  if (key != "pathStyle") return k8s::Status::Ok();
  if (value == "true" || value == "false") {
    r->path_style = value == "true";
    return k8s::Status::Ok();
  }
  return k8s::Status::Invalid(where + "data.pathStyle: must be \"true\" or \"false\" (got \"" +
                              value + "\")");
}

}  // namespace

k8s::Result<ArtifactRepository> ParseArtifactRepository(const k8s::Object& config_map) {
  std::string ns = config_map.value("/metadata/namespace"_json_pointer, "");
  std::string name = config_map.value("/metadata/name"_json_pointer, "");
  const std::string where = "ConfigMap " + ns + "/" + name + ": ";
  auto data = config_map.find("data");
  auto entries = DataEntries(data == config_map.end() ? k8s::Object() : *data, where);
  if (!entries.ok()) return entries.status();
  ArtifactRepository repo;
  for (auto& [key, value] : *entries) {
    if (k8s::Status st = SetRepositoryKey(&repo, key, std::move(value), where); !st.ok()) {
      return st;
    }
  }
  if (repo.bucket.empty()) return k8s::Status::Invalid(where + "data.bucket: is required");
  if (std::string problem = BucketProblem(repo.bucket); !problem.empty()) {
    return k8s::Status::Invalid(where + "data.bucket: " + problem);
  }
  const std::string& e = repo.endpoint;
  if (!e.empty() && e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
    return k8s::Status::Invalid(
        where + "data.endpoint: must start with http:// or https:// (got \"" + e + "\")");
  }
  return repo;
}

std::string DefaultArtifactUri(const ArtifactRepository& repository, const std::string& ns,
                               const std::string& execution, const std::string& step,
                               std::optional<int> index, int attempt, const std::string& name) {
  std::string uri = "s3://" + repository.bucket + "/";
  if (!repository.prefix.empty()) uri += repository.prefix + "/";
  uri += ns + "/" + execution + "/" + step + "/";
  if (index) uri += std::to_string(*index) + "/";
  return uri + "attempt-" + std::to_string(attempt) + "/" + name;
}

std::string ArtifactNameProblem(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 63) return "\"" + name + "\" is longer than 63 characters";
  for (char c : name) {
    if (!IsNameChar(c)) {
      return "\"" + name + "\" may only contain letters, digits, '-' and '_'";
    }
  }
  return "";
}

std::string ArtifactPathProblem(const std::string& path) {
  const std::string quoted = "\"" + path + "\"";
  if (path.empty() || path.front() != '/') return quoted + " is not an absolute path";
  if (path.size() > 1024) return quoted + " is longer than 1024 bytes";
  std::string body = path.substr(1);
  if (!body.empty() && body.back() == '/') body.pop_back();
  if (body.empty()) return "must not be \"/\"";
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('/', start);
    std::string segment = body.substr(start, end == std::string::npos ? end : end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return quoted + " has an empty, \".\" or \"..\" segment";
    }
    if (start == 0 &&
        (segment == "dev" || segment == "proc" || segment == "sys" || segment == "stepline")) {
      return quoted + " is under /" + segment + ", which the pod reserves";
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

std::string S3UriProblem(std::string_view literal_prefix, bool has_references) {
  const std::string_view scheme = "s3://";
  const std::string shown = "\"" + std::string(literal_prefix) + (has_references ? "...\"" : "\"");
  if (literal_prefix.substr(0, scheme.size()) != scheme.substr(0, literal_prefix.size())) {
    return shown + " is not an s3:// URI (s3://BUCKET/KEY)";
  }
  if (literal_prefix.size() < scheme.size()) {
    return has_references ? "" : shown + " is not an s3:// URI (s3://BUCKET/KEY)";
  }
  std::string_view rest = literal_prefix.substr(scheme.size());
  size_t slash = rest.find('/');
  if (slash == 0) return shown + " names no bucket";
  if (slash != std::string_view::npos || !has_references) {
    std::string problem = BucketProblem(rest.substr(0, slash));
    if (!problem.empty()) return shown + ": " + problem;
  }
  if (has_references) return "";
  if (slash == std::string_view::npos || slash + 1 == rest.size()) return shown + " names no key";
  return "";
}

k8s::Result<ArtifactSource> ParseArtifactFrom(std::string_view text) {
  const std::string expected = "\"" + std::string(text) +
                               "\" is not a {{steps.STEP.artifacts.NAME}}, "
                               "{{steps.STEP.outputs.NAME}} or {{steps.STEP.artifacts.NAME.uri}} "
                               "reference";
  std::string t = Trimmed(text);
  if (t.size() < 4 || t.rfind("{{", 0) != 0 || t.compare(t.size() - 2, 2, "}}") != 0) {
    return k8s::Status::Invalid(expected);
  }
  std::string inner = Trimmed(std::string_view(t).substr(2, t.size() - 4));
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot = inner.find('.'); dot != std::string::npos; dot = inner.find('.', start)) {
    parts.push_back(inner.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(inner.substr(start));
  using Kind = ArtifactSource::Kind;
  std::optional<Kind> kind;
  if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "artifacts") kind = Kind::kArtifact;
  if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "outputs") kind = Kind::kOutputValue;
  if (parts.size() == 5 && parts[0] == "steps" && parts[2] == "artifacts" && parts[4] == "uri") {
    kind = Kind::kArtifactUriValue;
  }
  if (!kind) return k8s::Status::Invalid(expected);
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    // an output's name has no length limit (validation.cc: IsOutputName), an artifact's has
    const bool output_name = i == 3 && *kind == Kind::kOutputValue;
    if (output_name ? parts[i].empty() || !std::all_of(parts[i].begin(), parts[i].end(), name_char)
                    : !ArtifactNameProblem(parts[i]).empty()) {
      return k8s::Status::Invalid(expected);
    }
  }
  return ArtifactSource{*kind, parts[1], parts[3]};
}

std::string OutputMountDirectory(const std::string& path) {
  if (!path.empty() && path.back() == '/') return path.substr(0, path.size() - 1);
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace stepline::reconcilers
