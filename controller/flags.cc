#include "controller/flags.h"

#include <cstdlib>
#include <functional>
#include <map>
#include <utility>

namespace stepline::controller {

namespace {

using Setter = std::function<bool(ControllerFlags&, const std::string&)>;

struct FlagSpec {
  bool is_bool;
  Setter set;
};

bool ParseInt(const std::string& text, int min, int* out) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < min || v > 1'000'000) return false;
  *out = static_cast<int>(v);
  return true;
}

bool ParseDouble(const std::string& text, double* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0)) return false;
  *out = v;
  return true;
}

bool ParseBool(const std::string& text, bool* out) {
  if (text == "true" || text == "1") return *out = true, true;
  if (text == "false" || text == "0") return *out = false, true;
  return false;
}

Setter String(std::string ControllerFlags::*field) {
  return [field](ControllerFlags& f, const std::string& v) { return (f.*field = v), true; };
}

Setter Duration(std::chrono::milliseconds ControllerFlags::*field) {
  return
      [field](ControllerFlags& f, const std::string& v) { return ParseDuration(v, &(f.*field)); };
}

Setter OneOf(std::string ControllerFlags::*field, std::vector<std::string> allowed) {
  return [field, allowed = std::move(allowed)](ControllerFlags& f, const std::string& v) {
    for (const auto& a : allowed) {
      if (a == v) return (f.*field = v), true;
    }
    return false;
  };
}

const std::map<std::string, FlagSpec>& Specs() {
  static const std::map<std::string, FlagSpec> kSpecs = {
      {"kubeconfig", {false, String(&ControllerFlags::kubeconfig)}},
      {"namespace", {false, String(&ControllerFlags::ns)}},
      {"workers",
       {false,
        [](ControllerFlags& f, const std::string& v) { return ParseInt(v, 1, &f.workers); }}},
      {"qps",
       {false, [](ControllerFlags& f, const std::string& v) { return ParseDouble(v, &f.qps); }}},
      {"burst",
       {false, [](ControllerFlags& f, const std::string& v) { return ParseInt(v, 1, &f.burst); }}},
      {"leader-elect",
       {true,
        [](ControllerFlags& f, const std::string& v) { return ParseBool(v, &f.leader_elect); }}},
      {"leader-elect-lease-duration", {false, Duration(&ControllerFlags::lease_duration)}},
      {"leader-elect-renew-deadline", {false, Duration(&ControllerFlags::renew_deadline)}},
      {"leader-elect-retry-period", {false, Duration(&ControllerFlags::retry_period)}},
      {"leader-elect-namespace", {false, String(&ControllerFlags::leader_elect_namespace)}},
      {"leader-elect-id", {false, String(&ControllerFlags::leader_elect_id)}},
      {"scheduling-timeout", {false, Duration(&ControllerFlags::scheduling_timeout)}},
      {"transient-status-delay", {false, Duration(&ControllerFlags::transient_status_delay)}},
      {"routine-step-events",
       {true, [](ControllerFlags& f,
                 const std::string& v) { return ParseBool(v, &f.routine_step_events); }}},
      {"allowed-service-accounts", {false, String(&ControllerFlags::allowed_service_accounts)}},
      {"allowed-toleration-keys", {false, String(&ControllerFlags::allowed_toleration_keys)}},
      {"artifacts-image", {false, String(&ControllerFlags::artifacts_image)}},
      {"artifact-upload-grace", {false, Duration(&ControllerFlags::artifact_upload_grace)}},
      {"metrics-bind-address", {false, String(&ControllerFlags::metrics_bind_address)}},
      {"health-probe-bind-address", {false, String(&ControllerFlags::health_probe_bind_address)}},
      {"log-level",
       {false, OneOf(&ControllerFlags::log_level, {"trace", "debug", "info", "warn", "error"})}},
      {"log-format", {false, OneOf(&ControllerFlags::log_format, {"text", "json"})}},
      {"help",
       {true, [](ControllerFlags& f, const std::string& v) { return ParseBool(v, &f.help); }}},
  };
  return kSpecs;
}

}  // namespace

bool ParseDuration(const std::string& text, std::chrono::milliseconds* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double plain = std::strtod(text.c_str(), &end);
  if (*end == '\0') {
    if (plain < 0) return false;
    *out = std::chrono::milliseconds(static_cast<int64_t>(plain * 1000));
    return true;
  }
  static const std::vector<std::pair<std::string, double>> kUnits = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  double total = 0;
  for (const char* p = text.c_str(); *p != '\0';) {
    const double v = std::strtod(p, &end);
    if (end == p || v < 0) return false;
    p = end;
    bool matched = false;
    for (const auto& [unit, scale] : kUnits) {
      if (std::string_view(p).substr(0, unit.size()) == unit) {
        total += v * scale;
        p += unit.size();
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  *out = std::chrono::milliseconds(static_cast<int64_t>(total));
  return true;
}

k8s::Result<ControllerFlags> ParseFlags(const std::vector<std::string>& args) {
  ControllerFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") return ParseFlags({"--help"});
    if (arg.rfind("--", 0) != 0) {
      return k8s::Status::InvalidArgument("unexpected argument \"" + arg + "\"");
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto spec = Specs().find(name);
    if (spec == Specs().end()) return k8s::Status::InvalidArgument("unknown flag --" + name);
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (spec->second.is_bool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return k8s::Status::InvalidArgument("flag --" + name + " needs a value");
    }
    if (!spec->second.set(flags, value)) {
      return k8s::Status::InvalidArgument("invalid value \"" + value + "\" for flag --" + name);
    }
  }
  return flags;
}

std::string UsageText() {
  return R"(Usage: stepline-controller [flags]

Runs the Stepline controller: reconciles Pipelines and PipelineExecutions into Jobs.

Flags:
  --kubeconfig PATH                     kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace NS                        watch only this namespace (default: all namespaces)
  --workers N                           concurrent reconciles per controller (default 4)
  --qps Q                               client-side API rate limit, requests/s (default 50)
  --burst N                             client-side API burst (default 100)
  --leader-elect                        elect a leader on a Lease; only the leader reconciles
  --leader-elect-lease-duration D       how long a Lease is valid without renewal (default 15s)
  --leader-elect-renew-deadline D       how long the leader retries renewing (default 10s)
  --leader-elect-retry-period D         how often candidates and the leader try (default 2s)
  --leader-elect-namespace NS           namespace of the Lease (default: --namespace, else the
                                        kubeconfig's or pod's namespace, else "default")
  --leader-elect-id NAME                name of the Lease (default stepline-controller)
  --scheduling-timeout D                how long a step's pod may stay unschedulable (or unable
                                        to pull its image) before the attempt fails (default 10m)
  --transient-status-delay D            a status change that records no progress (a step's pod
                                        started) is written this late, or with the next change
                                        that does: one write per step (default 10s; 0: at once)
  --routine-step-events                 also record StepStarted and StepSucceeded Events on the
                                        execution (two more writes per step; off by default:
                                        status.steps has every step's state, and the Events
                                        record retries, waits, failures and the outcome)
  --allowed-service-accounts LIST       service accounts Pipelines may name, comma-separated
                                        NAMESPACE/NAME, */NAME or * (default: none)
  --allowed-toleration-keys LIST        taint keys Pipelines may tolerate, comma-separated
                                        (default: any but the control-plane taints; a
                                        toleration of every taint is never allowed)
  --artifacts-image IMAGE               image of the containers that download and upload step
                                        artifacts (stepline-artifacts; default
                                        stepline/controller:latest: the controller's own)
  --artifact-upload-grace D             how long output uploads may take after a step's
                                        container ended (the pod's terminationGracePeriodSeconds
                                        when it has output artifacts; default 10m)
  --metrics-bind-address ADDR           /metrics address (default :8080; "0" disables)
  --health-probe-bind-address ADDR      /healthz and /readyz address (default :8081; "0" disables)
  --log-level LEVEL                     trace, debug, info, warn, error (default info)
  --log-format FORMAT                   text or json (default text)
  --help                                show this help

Durations are written as 15s, 500ms, 1m30s, or plain seconds.
)";
}

}  // namespace stepline::controller
