// The stepline-controller command line. Parsing is pure (no I/O) so it is unit-tested.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::controller {

struct ControllerFlags {
  std::string kubeconfig;
  std::string ns;  // "" = all namespaces
  int workers = 4;
  double qps = 50;
  int burst = 100;
  bool leader_elect = false;
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  std::string leader_elect_namespace;  // "" = --namespace, else the config's, else "default"
  std::string leader_elect_id = "stepline-controller";
  std::string metrics_bind_address = ":8080";       // "0" disables
  std::string health_probe_bind_address = ":8081";  // "0" disables
  // A step's pod that cannot be scheduled (or pull its image) this long fails the attempt.
  std::chrono::milliseconds scheduling_timeout{600'000};
  // A status change that records no progress (a step's pod started) is written this much later,
  // or with the next change that does; "0" writes it at once.
  std::chrono::milliseconds transient_status_delay{10'000};
  // Also record the routine StepStarted and StepSucceeded Events (two Event writes per step).
  bool routine_step_events = false;
  // Pod policy (reconcilers/pod_policy.h): comma-separated "NAMESPACE/NAME", "*/NAME" or "*";
  // "" = a Pipeline may name no service account.
  std::string allowed_service_accounts;
  // Comma-separated taint keys Pipelines may tolerate; "" = any but the control-plane taints.
  std::string allowed_toleration_keys;
  // The image of the containers that stage step artifacts (stepline-artifacts): the
  // controller's own (the Helm chart passes it); the pod's upload time limit.
  std::string artifacts_image = "stepline/controller:latest";
  std::chrono::milliseconds artifact_upload_grace{600'000};
  std::string log_level = "info";
  std::string log_format = "text";
  bool help = false;
};

// Accepts --flag=value and --flag value; booleans also as bare --flag. Durations as Go writes
// them ("15s", "500ms", "1m30s") or plain seconds. kInvalidArgument names the flag.
k8s::Result<ControllerFlags> ParseFlags(const std::vector<std::string>& args);
// Parses "15s", "1m30s", "250ms", "2h", or a plain number of seconds.
bool ParseDuration(const std::string& text, std::chrono::milliseconds* out);
std::string UsageText();

}  // namespace stepline::controller
