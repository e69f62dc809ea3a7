// Step artifacts (docs/api.md, "Artifacts"): the per-namespace artifact repository, read from the
// ConfigMap `stepline-artifact-repository` in the execution's namespace, the default URI of an
// output artifact, and the checks of an artifact's name, path, s3 URI and `from` reference.
//
// Pure functions over plain values; safe to call from several threads at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::reconcilers {

// The ConfigMap, in the execution's namespace, that names where output artifacts go by default
// and how steps reach the storage.
inline constexpr const char* kArtifactRepositoryConfigMap = "stepline-artifact-repository";

// The data keys of that ConfigMap.
struct ArtifactRepository {
  std::string bucket;              // "bucket": required
  std::string prefix;              // "prefix": key prefix, without leading or trailing '/'
  std::string endpoint;            // "endpoint": http(s)://host[:port]; "" means AWS
  std::string region;              // "region": the signing region; "" means us-east-1
  std::string credentials_secret;  // "credentialsSecret": a Secret with AWS_ACCESS_KEY_ID, ...
  std::optional<bool> path_style;  // "pathStyle": "true" | "false"; unset: the binary's default
};

// Parses the ConfigMap's data. Errors (Invalid) name the ConfigMap and the key:
//   ConfigMap ml/stepline-artifact-repository: data.bucket: is required
// Unknown keys are errors too, so that a misspelt key is never silently ignored.
k8s::Result<ArtifactRepository> ParseArtifactRepository(const k8s::Object& config_map);

// The URI of an output artifact that gives no `s3`:
//   s3://<bucket>/<prefix>/<namespace>/<execution>/<step>[/<index>]/attempt-<n>/<name>
// (no <prefix>/ when the prefix is empty). Every attempt writes its own keys, so a failed attempt
// never leaves files in the URI a later, successful attempt records.
std::string DefaultArtifactUri(const ArtifactRepository& repository, const std::string& ns,
                               const std::string& execution, const std::string& step,
                               std::optional<int> index, int attempt, const std::string& name);

// What is wrong with an artifact name (letters, digits, '-' and '_', at most 63 characters), or
// "" when nothing.
std::string ArtifactNameProblem(const std::string& name);

// What is wrong with an artifact path (absolute, no empty, "." or ".." segment, not "/", at most
// 1024 bytes, not under /dev, /proc, /sys or /stepline), or "" when nothing. A trailing '/' is
// allowed (an output's path names a directory then).
std::string ArtifactPathProblem(const std::string& path);

// What is wrong with an s3 value after rendering or, for a template, with its literal start:
// it must start with "s3://" and name a bucket, and a fully literal URI must name a key.
// `literal_prefix` is the text before the template's first reference (the whole text when
// `has_references` is false). "" when nothing.
std::string S3UriProblem(std::string_view literal_prefix, bool has_references);

// An input's `from` (whitespace inside the braces allowed):
//   "{{steps.STEP.artifacts.NAME}}"      the output artifact NAME of STEP, downloaded;
//   "{{steps.STEP.outputs.NAME}}"        the value of STEP's output NAME, written as a file;
//   "{{steps.STEP.artifacts.NAME.uri}}"  the URI of that output artifact, written as a file.
// A forEach step's values are its fan-in: the JSON list of its children's (from the status, or
// from the ConfigMaps that store it when it is too large for the status, fan_in_store.h).
struct ArtifactSource {
  enum class Kind { kArtifact, kOutputValue, kArtifactUriValue };
  Kind kind = Kind::kArtifact;
  std::string step;
  std::string name;

  bool IsValue() const { return kind != Kind::kArtifact; }
};
k8s::Result<ArtifactSource> ParseArtifactFrom(std::string_view text);

// The directory an output artifact's path is mounted at in the step's container: the path itself
// when it ends in '/' (without that '/'), else its parent directory. The file or directory the
// step leaves there under the basename is what is uploaded.
std::string OutputMountDirectory(const std::string& path);

}  // namespace stepline::reconcilers
