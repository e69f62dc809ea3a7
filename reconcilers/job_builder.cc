#include "reconcilers/job_builder.h"

#include <cctype>

#include "reconcilers/function_job.h"
#include "reconcilers/job_name.h"
#include "reconcilers/notebook.h"
#include "reconcilers/template.h"
#include "reconcilers/transform_job.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;

Object Labels(const JobInput& in) {
  Object labels = Object::object();
  for (const auto& [k, v] : in.snapshot->tags) labels[k] = v;
  labels[kLabelExecution] = in.execution_name;
  labels[kLabelStep] = in.step->name;
  labels[kLabelAttempt] = std::to_string(in.attempt);
  if (in.index) labels[kLabelIndex] = std::to_string(*in.index);
  labels[kLabelManagedBy] = kManagedByValue;
  return labels;
}

Object OwnerReference(const JobInput& in) {
  return {{"apiVersion", kApiVersion}, {"kind", kPipelineExecutionKind},
          {"name", in.execution_name}, {"uid", in.execution_uid},
          {"controller", true},        {"blockOwnerDeletion", true}};
}

Object EnvVar(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

Object Env(const JobInput& in) {
  Object env = Object::array();
  // The step's own entries in their API form: serialize a step that holds only them (the whole
  // step would also serialize a fan-out's forEach list, once per child).
  Step env_only;
  env_only.env = in.step->env;
  Json step_json = ToJson(env_only);
  if (auto it = step_json.find("env"); it != step_json.end()) env = std::move(*it);
  env.push_back(EnvVar("STEPLINE_EXECUTION", in.execution_name));
  env.push_back(EnvVar("STEPLINE_STEP", in.step->name));
  env.push_back(EnvVar("STEPLINE_ATTEMPT", std::to_string(in.attempt)));
  // Values, not pipeline text: escaped against $(VAR) expansion (template.h).
  if (in.index) env.push_back(EnvVar("STEPLINE_ITEM", EscapeForKubernetesExpansion(in.item)));
  for (const auto& p : in.snapshot->parameters) {
    if (p.value.size() > kMaxParameterEnvBytes) continue;  // {{parameters.NAME}} still reads it
    env.push_back(EnvVar(ParameterEnvName(p.name), EscapeForKubernetesExpansion(p.value)));
  }
  return env;
}

Object Container(const JobInput& in) {
  const Step& step = *in.step;
  Object c = {{"name", kContainerName},
              {"image", step.image},
              {"env", Env(in)},
              {"terminationMessagePolicy", "FallbackToLogsOnError"},
              {"securityContext",
               {{"allowPrivilegeEscalation", false},
                {"capabilities", {{"drop", Object::array({"ALL"})}}}}}};
  if (IsNotebookStep(step)) {
    c["command"] = NotebookCommand(step);
  } else {
    if (!step.command.empty()) c["command"] = step.command;
    if (!step.args.empty()) c["args"] = step.args;
  }
  if (!step.working_dir.empty()) c["workingDir"] = step.working_dir;
  if (step.resources) {
    Object res = Object::object();
    if (!step.resources->requests.empty()) res["requests"] = step.resources->requests;
    if (!step.resources->limits.empty()) res["limits"] = step.resources->limits;
    if (!res.empty()) c["resources"] = res;
  }
  return c;
}

// seccomp RuntimeDefault always; the identity fields the step sets (stepDefaults merged).
Object PodSecurityContext(const Step& step) {
  Object sc = {{"seccompProfile", {{"type", "RuntimeDefault"}}}};
  if (!step.security_context) return sc;
  const PodSecurity& p = *step.security_context;
  if (p.run_as_user) sc["runAsUser"] = *p.run_as_user;
  if (p.run_as_group) sc["runAsGroup"] = *p.run_as_group;
  if (p.run_as_non_root) sc["runAsNonRoot"] = *p.run_as_non_root;
  if (p.fs_group) sc["fsGroup"] = *p.fs_group;
  if (p.supplemental_groups) sc["supplementalGroups"] = *p.supplemental_groups;
  return sc;
}

Object PodSpec(const JobInput& in) {
  const Step& step = *in.step;
  const std::string& sa = in.snapshot->service_account_name;
  Object spec = {{"restartPolicy", "Never"},
                 {"automountServiceAccountToken", !sa.empty()},
                 {"securityContext", PodSecurityContext(step)},
                 {"containers", Object::array({Container(in)})}};
  if (!sa.empty()) spec["serviceAccountName"] = sa;
  if (!step.node_selector.empty()) spec["nodeSelector"] = step.node_selector;
  if (step.tolerations.is_array() && !step.tolerations.empty())
    spec["tolerations"] = step.tolerations;
  return spec;
}

}  // namespace

std::string ParameterEnvName(const std::string& parameter) {
  std::string out = "STEPLINE_PARAM_";
  for (char c : parameter) {
    unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

k8s::Object BuildStepJob(const JobInput& in) {
  Object labels = Labels(in);
  Object pod_spec = PodSpec(in);
  std::string artifacts = in.artifacts ? AddArtifactStaging(*in.artifacts, &pod_spec) : "";
  if (IsNotebookStep(*in.step)) AddNotebookVolume(&pod_spec);
  const ArtifactStagingOptions staging =
      in.artifacts ? in.artifacts->options : ArtifactStagingOptions{};
  if (in.step->transform) AddTransformContainers(*in.step, staging, &pod_spec);
  if (in.step->function) AddFunctionCall(*in.step, in.execution_namespace, staging, &pod_spec);
  Object job_spec = {{"backoffLimit", 0},
                     {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}};
  if (in.step->timeout_seconds) {
    job_spec["activeDeadlineSeconds"] = Saturate(*in.step->timeout_seconds, 1, kMaxTimeoutSeconds);
  }
  Object metadata = {{"name", JobName(in.execution_name, in.step->name, in.index, in.attempt)},
                     {"namespace", in.execution_namespace},
                     {"labels", labels},
                     {"ownerReferences", Object::array({OwnerReference(in)})}};
  if (!artifacts.empty()) metadata["annotations"] = {{kAnnotationArtifacts, artifacts}};
  if (!in.snapshot->queue_name.empty()) {
    // Kueue admits the Job by unsuspending it. The label is the Job's only: on the pods it
    // would make Kueue's pod integration manage them a second time.
    metadata["labels"][kLabelKueueQueueName] = in.snapshot->queue_name;
    job_spec["suspend"] = true;
  }
  return {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", metadata}, {"spec", job_spec}};
}

}  // namespace stepline::reconcilers
