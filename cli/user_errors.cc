#include "cli/user_errors.h"

namespace stepline::cli {

namespace {

std::string Where(const std::string& ns) {
  return ns.empty() ? "in any namespace" : "in namespace \"" + ns + "\"";
}

}  // namespace

std::string Explain(const k8s::Status& status, const CallTarget& t) {
  const std::string what = t.name.empty() ? t.resource : t.noun + " \"" + t.name + "\"";
  switch (status.code()) {
    case k8s::StatusCode::kNotFound:
      if (t.name.empty()) {
        return "the cluster does not serve " + t.resource + " (are the Stepline CRDs installed?)";
      }
      return what + " not found " + Where(t.ns);
    case k8s::StatusCode::kForbidden:
      return "you may not " + t.verb + " " + t.resource + " " + Where(t.ns) +
             " (your credentials lack the RBAC permission: verb \"" + t.verb + "\" on \"" +
             t.resource + "\"): " + status.message();
    case k8s::StatusCode::kUnauthorized:
      return "the cluster did not accept your credentials (401 Unauthorized): check your "
             "kubeconfig's user";
    case k8s::StatusCode::kAlreadyExists:
      return what + " already exists " + Where(t.ns);
    case k8s::StatusCode::kInvalid:
    case k8s::StatusCode::kBadRequest:
      return "the cluster refused to " + t.verb + " " + what + ": " + status.message();
    case k8s::StatusCode::kConflict:
      return what + " changed while it was being updated; try again: " + status.message();
    case k8s::StatusCode::kTransport:
    case k8s::StatusCode::kUnavailable:
    case k8s::StatusCode::kTimeout:
      return "cannot reach the API server: " + status.message();
    default:
      return "cannot " + t.verb + " " + what + ": " + status.ToString();
  }
}

std::string UnknownStep(const RunView& run, const std::string& step) {
  std::string names;
  for (const auto& s : run.steps) names += (names.empty() ? "" : ", ") + s.name;
  return "step \"" + step + "\" not found in run \"" + run.name + "\"" +
         (names.empty() ? " (it has no steps yet: status " + run.status + ")"
                        : "; its steps: " + names);
}

std::string NotWaitingForApproval(const RunView& run, const StepView& step) {
  if (step.type != "Approval") {
    return "step \"" + step.name + "\" of run \"" + run.name + "\" is a " + step.type +
           " step, not an Approval step: only Approval steps take approve/reject";
  }
  if (step.phase == "Waiting") return "";
  return "step \"" + step.name + "\" of run \"" + run.name +
         "\" is not waiting for approval (phase " + step.phase + ")";
}

}  // namespace stepline::cli
