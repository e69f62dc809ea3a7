#include "reconcilers/transform_job.h"

#include <string>
#include <vector>

#include "reconcilers/job_builder.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;

// The path of the step's artifact `name` ("" when it has none).
std::string ArtifactPath(const std::vector<Artifact>& list, const std::string& name) {
  for (const Artifact& a : list) {
    if (a.name == name) return a.path;
  }
  return "";
}

}  // namespace

std::vector<std::string> TransformCommand(const Step& step) {
  const TransformSpec& t = *step.transform;
  const int64_t port = t.port.value_or(kDefaultModelServerPort);
  std::vector<std::string> command{"stepline-artifacts",
                                   "transform",
                                   "--input",
                                   ArtifactPath(step.input_artifacts, "input"),
                                   "--output",
                                   ArtifactPath(step.output_artifacts, "output"),
                                   "--server",
                                   "http://127.0.0.1:" + std::to_string(port)};
  auto add = [&command](const char* flag, const std::string& value) {
    if (!value.empty()) command.insert(command.end(), {flag, value});
  };
  add("--content-type", t.content_type);
  add("--accept", t.accept);
  add("--split-type", t.split_type);
  add("--batch-strategy", t.batch_strategy);
  add("--assemble-with", t.assemble_with);
  if (t.max_payload_in_mb) add("--max-payload-mb", std::to_string(*t.max_payload_in_mb));
  if (t.invocations_timeout_in_seconds) {
    add("--invocation-timeout", std::to_string(*t.invocations_timeout_in_seconds));
  }
  if (t.invocations_max_retries) {
    add("--max-retries", std::to_string(*t.invocations_max_retries));
  }
  add("--error-file", "/dev/termination-log");
  return command;
}

void AddTransformContainers(const Step& step, const ArtifactStagingOptions& options,
                            Object* pod_spec) {
  if (!step.transform) return;
  Object server = (*pod_spec)["containers"][0];
  server["name"] = kModelServerContainer;
  server["restartPolicy"] = "Always";  // a native sidecar: stopped once the client ended
  server["ports"] =
      Object::array({{{"name", "http"},
                      {"containerPort", step.transform->port.value_or(kDefaultModelServerPort)}}});
  std::vector<std::string> command = TransformCommand(step);
  for (std::string& arg : command) arg = EscapeForKubernetesExpansion(arg);
  Object client = {{"name", kContainerName},
                   {"image", options.image},
                   {"command", command},
                   {"terminationMessagePolicy", "FallbackToLogsOnError"},
                   {"securityContext",
                    {{"allowPrivilegeEscalation", false},
                     {"capabilities", {{"drop", Object::array({"ALL"})}}}}}};
  if (server.contains("volumeMounts")) client["volumeMounts"] = server["volumeMounts"];
  Object& init = (*pod_spec)["initContainers"];
  if (!init.is_array()) init = Object::array();
  init.push_back(std::move(server));
  (*pod_spec)["containers"] = Object::array({std::move(client)});
}

}  // namespace stepline::reconcilers
