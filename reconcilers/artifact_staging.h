// How a step's pod stages its artifacts (docs/api.md, "Artifacts"): the URIs of one attempt's
// inputs and outputs, resolved by the planner, and the containers, volumes and mounts the Job
// builder adds for them.
//
// The pod gets one emptyDir volume, `stepline-artifacts`:
// - one init container per input artifact (`artifact-in-<i>`, the controller's image, running
//   `stepline-artifacts download URI /stepline/artifacts/in/<i>`, or for a raw artifact
//   `stepline-artifacts write /stepline/artifacts/in/<i>` with the text in its environment
//   variable STEPLINE_ARTIFACT_DATA; an input with archive tgz is downloaded with --tar-gz,
//   unpacked into its directory; an input whose `from` names an upstream value is written: the
//   value kept in the status as a raw artifact's text, a fan-in stored in ConfigMaps by
//   `stepline-artifacts join`, which reads each ConfigMap's values.json from a configMap volume
//   `stepline-fan-in-<i>-<k>` (optional, so a ConfigMap deleted since fails the join with a
//   message naming it, not the pod's start) mounted at /stepline/fan-in/<i>/<ConfigMap>, and
//   writes the one JSON list); the step's container mounts
//   `in/<i>` (subPath) at the artifact's path, so a file is a file and a directory a directory;
// - for the outputs, the directory of each output path (the path itself when it ends in '/') is
//   mounted from `out/<k>`; a native sidecar (`artifact-upload`: an init container with
//   restartPolicy Always) waits, and when the kubelet stops it after the step's container ended
//   (SIGTERM), uploads every output with `stepline-artifacts upload`. The pod's
//   terminationGracePeriodSeconds is the upload's time limit.
// A failed download fails the pod (a failed init container); a failed upload ends the sidecar
// with a non-zero exit code, which the Job ignores and the planner reads (attempt.h:
// ArtifactError). Both write the storage's message to their termination log.
//
// Pure; plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"
#include "reconcilers/artifact_repository.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {

// The Job annotation holding the attempt's output artifact URIs (a JSON object name -> URI);
// the planner records it in status.steps[].artifacts when the attempt succeeds.
inline constexpr const char* kAnnotationArtifacts = "stepline.dev/artifacts";
inline constexpr const char* kArtifactVolume = "stepline-artifacts";
inline constexpr const char* kArtifactCredentialsVolume = "stepline-artifact-credentials";
inline constexpr const char* kArtifactMountPath = "/stepline/artifacts";
inline constexpr const char* kArtifactCredentialsPath = "/stepline/credentials";
// A stored fan-in's ConfigMaps, each a configMap volume of the joining init container.
inline constexpr const char* kFanInVolumePrefix = "stepline-fan-in-";
inline constexpr const char* kFanInMountPath = "/stepline/fan-in";
// The environment variable of a raw artifact's writer that holds the text.
inline constexpr const char* kRawArtifactDataEnv = "STEPLINE_ARTIFACT_DATA";

// What the controller's flags say about staging.
struct ArtifactStagingOptions {
  // The image of the staging containers: the controller's own, which ships stepline-artifacts.
  std::string image = "stepline/controller:latest";
  // The pod's terminationGracePeriodSeconds when it uploads outputs: the time uploads may take
  // after the step's container ended.
  int64_t upload_grace_seconds = 600;
};

struct StagedArtifact {
  std::string name;
  std::string path;  // as declared
  std::string uri;   // s3://bucket/key, rendered
  // outputs: "tgz" uploads one .tar.gz object; inputs: "tgz" unpacks one into the directory
  std::string archive;
  // inputs: a raw artifact's rendered text, written by `stepline-artifacts write` (uri "")
  std::optional<std::string> raw;
  // inputs: an upstream fan-in stored in ConfigMaps, joined by `stepline-artifacts join` (uri "")
  std::optional<StoredValue> stored;
};

// One attempt's artifacts, resolved.
struct StagedArtifacts {
  std::vector<StagedArtifact> inputs;
  std::vector<StagedArtifact> outputs;
  // How to reach the storage (endpoint, region, addressing, credentials Secret); the
  // repository's bucket and prefix only matter for the default URIs, already resolved.
  ArtifactRepository repository;
  ArtifactStagingOptions options;

  bool empty() const { return inputs.empty() && outputs.empty(); }
};

// Where an attempt's artifacts go: the step (s3 values rendered), the values of the upstream
// steps its inputs' `from` read (null for a step without values yet), and the namespace's
// repository (null when there is no ConfigMap; repository_problem says why it is unusable when
// it is invalid).
struct ArtifactResolution {
  const Step* step = nullptr;
  std::function<const StepValues*(const std::string& step)> upstream;
  const ArtifactRepository* repository = nullptr;
  std::string repository_problem;
  std::string ns;
  std::string execution;
  std::optional<int> index;
  int attempt = 1;
  ArtifactStagingOptions options;
};

// Errors (Invalid) name the artifact and say what to do: an upstream artifact without a URI, an
// upstream value that is not there (or not kept, and why), an output with no s3 and no usable
// repository, a rendered s3 value that is no s3:// URI.
k8s::Result<StagedArtifacts> ResolveArtifacts(const ArtifactResolution& in);

// Adds the staging to a Job's pod spec whose containers[0] is the step's container; nothing when
// `staged` is empty. Also returns the annotation value of kAnnotationArtifacts ("" without
// outputs).
std::string AddArtifactStaging(const StagedArtifacts& staged, k8s::Object* pod_spec);

// The output URIs an attempt's Job recorded (kAnnotationArtifacts); empty when none or garbled.
StringMap RecordedArtifacts(const k8s::Object& job);

}  // namespace stepline::reconcilers
