// start, approve, reject, stop, rerun and delete: the commands that change runs.
#include <cctype>

#include "cli/commands.h"

namespace stepline::cli {

namespace {

const char* kPlx = "pipelineexecutions.stepline.dev";

// A DNS-1123 prefix for generateName from a pipeline name ("AbalonePipeline" ->
// "abalonepipeline-").
std::string GeneratePrefix(const std::string& pipeline) {
  std::string out;
  for (char c : pipeline) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(l)))
      out.push_back(l);
    else if (!out.empty() && out.back() != '-')
      out.push_back('-');
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) out.resize(50);
  return (out.empty() ? "run" : out) + "-";
}

// The declared parameter names of a pipeline (spec.parameters[].name).
std::vector<std::string> DeclaredParameters(const k8s::Object& pipeline) {
  std::vector<std::string> names;
  const auto spec = pipeline.find("spec");
  if (spec == pipeline.end() || !spec->contains("parameters")) return names;
  const auto& params = (*spec)["parameters"];
  if (!params.is_array()) return names;
  for (const auto& p : params) {
    if (p.contains("name") && p["name"].is_string()) names.push_back(p["name"]);
  }
  return names;
}

// spec.pipelineParameters from -p name=value, checked against the pipeline's declarations.
k8s::Result<k8s::Object> Parameters(const Args& args, const k8s::Object& pipeline,
                                    const std::string& pipeline_name) {
  k8s::Object out = k8s::Object::array();
  const std::vector<std::string> declared = DeclaredParameters(pipeline);
  const bool sagemaker = pipeline["spec"].contains("pipelineDefinition");
  for (const std::string& p : args.All("param")) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return k8s::Status::InvalidArgument("-p " + p + ": want name=value");
    }
    const std::string name = p.substr(0, eq);
    bool known = sagemaker;  // a SageMaker definition declares its own; the controller checks
    std::string list;
    for (const auto& d : declared) {
      known = known || d == name;
      list += (list.empty() ? "" : ", ") + d;
    }
    if (!known) {
      return k8s::Status::InvalidArgument(
          "pipeline \"" + pipeline_name + "\" has no parameter \"" + name + "\"" +
          (list.empty() ? " (it declares none)" : " (its parameters: " + list + ")"));
    }
    out.push_back({{"name", name}, {"value", p.substr(eq + 1)}});
  }
  return out;
}

}  // namespace

int CmdStart(const Args& args, Session& s) {
  int code = 0;
  if (!NeedArgs(args, s, 1, "start PIPELINE [-p name=value]... [--name N | --generate-name]",
                &code)) {
    return code;
  }
  const std::string pipeline_name = args.positionals[0];
  if (args.Has("name") && args.Has("generate-name")) {
    return Fail(s, "--name and --generate-name exclude each other", 2);
  }
  auto pipeline = s.client.Get(k8s::resources::kPipelines, s.ns, pipeline_name);
  if (!pipeline.ok()) {
    return Fail(s, Explain(pipeline.status(),
                           {"get", "pipelines.stepline.dev", s.ns, "pipeline", pipeline_name}));
  }
  auto params = Parameters(args, *pipeline, pipeline_name);
  if (!params.ok()) return Fail(s, params.status().message(), 2);
  k8s::Object meta = {{"namespace", s.ns}};
  if (args.Has("name"))
    meta["name"] = args.Get("name");
  else
    meta["generateName"] = GeneratePrefix(pipeline_name);
  k8s::Object run = {{"apiVersion", "stepline.dev/v1alpha1"},
                     {"kind", "PipelineExecution"},
                     {"metadata", meta},
                     {"spec", {{"pipelineName", pipeline_name}}}};
  if (!params->empty()) run["spec"]["pipelineParameters"] = *params;
  auto created = s.client.Create(k8s::resources::kPipelineExecutions, s.ns, run);
  if (!created.ok()) {
    return Fail(s, Explain(created.status(),
                           {"create", kPlx, s.ns, "run", args.Get("name", "(generated)")}));
  }
  s.out << "pipelineexecution.stepline.dev/" << k8s::NameOf(*created) << " created\n";
  return 0;
}

int CmdApprove(const Args& args, Session& s, bool approve) {
  int code = 0;
  const std::string verb = approve ? "approve" : "reject";
  if (!NeedArgs(args, s, 2, verb + " RUN STEP [--message M]", &code)) return code;
  const std::string& name = args.positionals[0];
  const std::string& step = args.positionals[1];
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string why;
    auto run = GetRun(s, name, &why);
    if (!run.ok()) return Fail(s, why);
    RunView v = RunViewFromObject(*run);
    const StepView* sv = v.Find(step);
    if (sv == nullptr) return Fail(s, UnknownStep(v, step));
    if (std::string no = NotWaitingForApproval(v, *sv); !no.empty()) return Fail(s, no);
    k8s::Object signals = k8s::Object::array();
    if (auto spec = run->find("spec");
        spec != run->end() && spec->contains("signals") && (*spec)["signals"].is_array()) {
      signals = (*spec)["signals"];
    }
    signals.push_back({{"step", step},
                       {"outcome", approve ? "Succeeded" : "Failed"},
                       {"message", args.Get("message", verb + "d with kubectl stepline")}});
    // The resourceVersion makes the merge patch fail with 409 if someone else answered first.
    k8s::Object patch = {{"metadata", {{"resourceVersion", k8s::ResourceVersionOf(*run)}}},
                         {"spec", {{"signals", signals}}}};
    auto patched = s.client.Patch(k8s::resources::kPipelineExecutions, s.ns, name,
                                  k8s::PatchType::kMerge, patch.dump());
    if (patched.ok()) {
      s.out << "step \"" << step << "\" of run \"" << name << "\" " << verb << "d\n";
      return 0;
    }
    if (!patched.status().IsConflict()) {
      return Fail(s, Explain(patched.status(), {"patch", kPlx, s.ns, "run", name}));
    }
  }
  return Fail(s, "run \"" + name + "\" kept changing; try again");
}

int CmdStop(const Args& args, Session& s) {
  int code = 0;
  if (!NeedArgs(args, s, 1, "stop RUN", &code)) return code;
  const std::string& name = args.positionals[0];
  std::string why;
  auto run = GetRun(s, name, &why);
  if (!run.ok()) return Fail(s, why);
  RunView v = RunViewFromObject(*run);
  if (v.Finished()) {
    return Fail(s, "run \"" + name + "\" has already finished (" + v.status + "); nothing to stop");
  }
  auto patched = s.client.Patch(k8s::resources::kPipelineExecutions, s.ns, name,
                                k8s::PatchType::kMerge, R"({"spec":{"stop":true}})");
  if (!patched.ok()) return Fail(s, Explain(patched.status(), {"patch", kPlx, s.ns, "run", name}));
  s.out << "run \"" << name << "\" stopping (spec.stop: true); its running Jobs are deleted\n";
  return 0;
}

// spec.rerunOf of a re-run of `source` (docs/api.md, Re-runs): --steps a,b, else (--from-failed,
// the default) every step that did not succeed.
k8s::Object RerunOf(const Args& args, const std::string& source) {
  k8s::Object rerun_of = {{"execution", source}};
  if (args.Has("allow-pipeline-change")) rerun_of["allowPipelineChange"] = true;
  if (!args.Has("steps")) return rerun_of;
  k8s::Object steps = k8s::Object::array();
  const std::string list = args.Get("steps");
  for (size_t start = 0; start <= list.size();) {
    size_t comma = std::min(list.find(',', start), list.size());
    if (comma > start) steps.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  rerun_of["steps"] = steps;
  return rerun_of;
}

// A new execution with spec.rerunOf: the source's pipeline and parameters, its results reused.
int CmdRerun(const Args& args, Session& s) {
  int code = 0;
  const char* usage =
      "rerun RUN [--from-failed | --steps a,b] [--name N] [--allow-pipeline-change]";
  if (!NeedArgs(args, s, 1, usage, &code)) return code;
  if (args.Has("from-failed") && args.Has("steps")) {
    return Fail(s, "--from-failed and --steps exclude each other", 2);
  }
  const std::string& source = args.positionals[0];
  std::string why;
  auto run = GetRun(s, source, &why);
  if (!run.ok()) return Fail(s, why);
  RunView v = RunViewFromObject(*run);
  if (!v.Finished()) {
    return Fail(
        s, "run \"" + source + "\" has not finished (" + v.status + "); re-run it once it has");
  }
  const k8s::Object& spec = (*run)["spec"];
  k8s::Object meta = {{"namespace", s.ns}};
  if (args.Has("name"))
    meta["name"] = args.Get("name");
  else
    meta["generateName"] = GeneratePrefix(source + "-rerun");
  k8s::Object rerun = {
      {"apiVersion", "stepline.dev/v1alpha1"},
      {"kind", "PipelineExecution"},
      {"metadata", meta},
      {"spec",
       {{"pipelineName", spec.value("pipelineName", "")}, {"rerunOf", RerunOf(args, source)}}}};
  if (spec.contains("pipelineParameters")) {  // the same values (long ones are read from spec)
    rerun["spec"]["pipelineParameters"] = spec["pipelineParameters"];
  }
  auto created = s.client.Create(k8s::resources::kPipelineExecutions, s.ns, rerun);
  if (!created.ok()) {
    return Fail(s, Explain(created.status(),
                           {"create", kPlx, s.ns, "run", args.Get("name", "(generated)")}));
  }
  s.out << "pipelineexecution.stepline.dev/" << k8s::NameOf(*created) << " created (re-runs "
        << source << ")\n";
  return 0;
}

int CmdDelete(const Args& args, Session& s) {
  int code = 0;
  if (!NeedArgs(args, s, 1, "delete RUN", &code)) return code;
  const std::string& name = args.positionals[0];
  k8s::Status st = s.client.Delete(k8s::resources::kPipelineExecutions, s.ns, name,
                                   {.propagation_policy = "Background"});
  if (!st.ok()) return Fail(s, Explain(st, {"delete", kPlx, s.ns, "run", name}));
  s.out << "pipelineexecution.stepline.dev \"" << name << "\" deleted\n";
  return 0;
}

}  // namespace stepline::cli
