// What a cluster admin allows a Pipeline's pods to ask for, beyond what any Pipeline may (the
// controller's flags --allowed-service-accounts and --allowed-toleration-keys; docs/api.md,
// "Pod policy"). Safe by default:
//   - serviceAccountName: only the service accounts listed ("NAMESPACE/NAME", "*/NAME" or "*");
//     none by default, so a Pipeline cannot mount a service account's token unless allowed;
//   - tolerations: never one that tolerates every taint (empty key with Exists), never the
//     control-plane taints; when keys are listed, only those keys;
//   - nodeSelector: never the control-plane node-role labels.
//
// Pure; a PodPolicy is immutable once built and safe to share between threads.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

struct PodPolicy {
  std::vector<std::string> allowed_service_accounts;  // "ns/name", "*/name", "*"; empty: none
  std::vector<std::string> allowed_toleration_keys;   // empty: any key but the forbidden ones
};

// Every problem of a Pipeline in `ns` under the policy, one line each naming the field:
//   spec.serviceAccountName: "trainer" is not allowed in namespace "ml" (the controller's
//   --allowed-service-accounts lists the service accounts Pipelines may use)
std::vector<std::string> PodPolicyProblems(const Pipeline& pipeline, const PodPolicy& policy);

// Splits a flag's comma-separated list ("a, b" -> {"a", "b"}; "" -> {}).
std::vector<std::string> SplitList(const std::string& text);

}  // namespace stepline::reconcilers
