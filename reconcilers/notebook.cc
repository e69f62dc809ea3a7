#include "reconcilers/notebook.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "reconcilers/artifact_repository.h"
#include "reconcilers/artifact_staging.h"

namespace stepline::reconcilers {
namespace {

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// Python's keywords: not usable as names of injected parameters.
constexpr std::array<std::string_view, 35> kPythonKeywords{
    "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
    "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
    "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
    "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};

bool IsPythonName(const std::string& s) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  if (!std::all_of(s.begin(), s.end(), word)) return false;
  return std::find(kPythonKeywords.begin(), kPythonKeywords.end(), s) == kPythonKeywords.end();
}

// The typed value of the one reference a string consists of.
k8s::Result<Json> TypedReference(const Reference& ref, const TemplateContext& context,
                                 const StringParameterTest& is_string_parameter) {
  if (ref.kind == Reference::Kind::kItem && context.Item() != nullptr) return *context.Item();
  k8s::Result<std::string> text = ResolveReference(ref, context);
  if (!text.ok()) return text.status();
  bool typed = ref.kind == Reference::Kind::kItemKey || ref.kind == Reference::Kind::kStepOutput ||
               (ref.kind == Reference::Kind::kParameter && !is_string_parameter(ref.name));
  if (!typed) return Json(*text);
  Json parsed = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || (ref.kind == Reference::Kind::kItemKey && parsed.is_string())) {
    return Json(*text);
  }
  return parsed;
}

k8s::Result<Json> RenderString(const std::string& text, const TemplateContext& context,
                               const StringParameterTest& is_string_parameter) {
  k8s::Result<Template> t = ParseTemplate(text);
  if (!t.ok()) return t.status();
  const auto& parts = t->parts();
  if (parts.size() == 1 && parts[0].reference) {
    return TypedReference(*parts[0].reference, context, is_string_parameter);
  }
  k8s::Result<std::string> rendered = Render(*t, context);
  if (!rendered.ok()) return rendered.status();
  return Json(*rendered);
}

}  // namespace

bool IsNotebookStep(const Step& step) { return step.type == StepType::kNotebook; }

void ApplyNotebookDefaults(const Step& defaults, Step* step) {
  if (!IsNotebookStep(*step)) return;
  if (defaults.notebook) {
    const NotebookSpec& d = *defaults.notebook;
    NotebookSpec& n = step->notebook ? *step->notebook : step->notebook.emplace();
    if (n.path.empty()) n.path = d.path;
    if (n.kernel.empty()) n.kernel = d.kernel;
    if (d.parameters.is_object() && (n.parameters.is_null() || n.parameters.is_object())) {
      Json merged = d.parameters;
      if (n.parameters.is_object()) merged.update(n.parameters);
      n.parameters = std::move(merged);
    }
  }
  step->command.clear();
  step->args.clear();
  auto named = [](const Artifact& a) { return a.name == kNotebookArtifact; };
  auto& outputs = step->output_artifacts;
  if (std::none_of(outputs.begin(), outputs.end(), named)) {
    Artifact notebook;
    notebook.name = kNotebookArtifact;
    notebook.path = kNotebookOutputPath;
    outputs.push_back(std::move(notebook));
  }
}

std::vector<std::string> NotebookCommand(const Step& rendered) {
  const NotebookSpec n = rendered.notebook.value_or(NotebookSpec{});
  Json parameters = n.parameters.is_object() ? n.parameters : Json::object();
  std::vector<std::string> command{kNotebookRunner, "--notebook", n.path, "--output",
                                   kNotebookOutputPath};
  if (!n.kernel.empty()) command.insert(command.end(), {"--kernel", n.kernel});
  command.insert(command.end(), {"--parameters", parameters.dump()});
  for (std::string& arg : command) arg = EscapeForKubernetesExpansion(arg);
  return command;
}

void AddNotebookVolume(k8s::Object* pod_spec) {
  const std::string dir = OutputMountDirectory(kNotebookOutputPath);
  k8s::Object& main = (*pod_spec)["containers"][0];
  k8s::Object& mounts = main["volumeMounts"];
  if (mounts.is_null()) mounts = k8s::Object::array();
  for (const k8s::Object& m : mounts) {
    if (m.value("mountPath", "") == dir) return;
  }
  mounts.push_back({{"name", kNotebookVolume}, {"mountPath", dir}});
  k8s::Object& volumes = (*pod_spec)["volumes"];
  if (volumes.is_null()) volumes = k8s::Object::array();
  volumes.push_back({{"name", kNotebookVolume}, {"emptyDir", k8s::Object::object()}});
}

k8s::Result<Json> RenderNotebookParameters(const Json& parameters, const TemplateContext& context,
                                           const StringParameterTest& is_string_parameter) {
  if (parameters.is_string()) {
    return RenderString(parameters.get<std::string>(), context, is_string_parameter);
  }
  if (!parameters.is_structured()) return parameters;
  Json out = parameters;
  for (auto it = out.begin(); it != out.end(); ++it) {
    k8s::Result<Json> value = RenderNotebookParameters(*it, context, is_string_parameter);
    if (!value.ok()) return value.status();
    *it = std::move(value).value();
  }
  return out;
}

void ForEachParameterString(
    const Json& parameters, const std::string& path,
    const std::function<void(const std::string& text, const std::string& at)>& visit) {
  if (parameters.is_string()) return visit(parameters.get<std::string>(), path);
  if (parameters.is_array()) {
    for (size_t i = 0; i < parameters.size(); ++i) {
      ForEachParameterString(parameters[i], path + "[" + std::to_string(i) + "]", visit);
    }
  } else if (parameters.is_object()) {
    for (const auto& [key, value] : parameters.items()) {
      ForEachParameterString(value, path + "." + key, visit);
    }
  }
}

std::vector<std::pair<std::string, std::string>> NotebookParameterProblems(
    const Json& parameters, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (parameters.is_null()) return out;
  if (!parameters.is_object()) return {{path, "must be an object of parameter names and values"}};
  for (const auto& [key, value] : parameters.items()) {
    if (IsPythonName(key)) continue;
    out.push_back({path + "." + key,
                   Quoted(key) + " is not a Python variable name (letters, digits and '_', not "
                                 "starting with a digit, not a keyword): papermill assigns each "
                                 "parameter to a variable of its name"});
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> NotebookProblems(const Step& step,
                                                                  const Step& effective,
                                                                  const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!IsNotebookStep(step)) {
    if (step.notebook) out.push_back({path + ".notebook", "only Notebook steps take a notebook"});
    return out;
  }
  const std::string at = path + ".notebook";
  if (step.notebook) out = NotebookParameterProblems(step.notebook->parameters, at + ".parameters");
  if (!effective.notebook || effective.notebook->path.empty()) {
    out.push_back({at + ".path",
                   "required for a Notebook step (on the step or in "
                   "spec.stepDefaults.notebook)"});
  } else if (effective.notebook->path.find("{{") != std::string::npos) {
    out.push_back({at + ".path", "templates are not allowed here"});
  }
  const std::string runs = "not allowed on a Notebook step: it runs " +
                           std::string(kNotebookRunner) +
                           " (give notebook.path, notebook.kernel and notebook.parameters)";
  if (!step.command.empty()) out.push_back({path + ".command", runs});
  if (!step.args.empty()) out.push_back({path + ".args", runs});
  for (size_t j = 0; j < step.output_artifacts.size(); ++j) {
    if (step.output_artifacts[j].name != kNotebookArtifact) continue;
    out.push_back({path + ".outputs.artifacts[" + std::to_string(j) + "].name",
                   "\"notebook\" is the executed notebook of a Notebook step, added by "
                   "Stepline: choose another name"});
  }
  return out;
}

bool WithoutUnkeptNotebook(const Step& step, Step* out) {
  if (!IsNotebookStep(step)) return false;
  auto unkept = [](const Artifact& a) { return a.name == kNotebookArtifact && a.s3.empty(); };
  const auto& outputs = step.output_artifacts;
  if (std::none_of(outputs.begin(), outputs.end(), unkept)) return false;
  *out = step;
  std::erase_if(out->output_artifacts, unkept);
  return true;
}

std::string NotebookWhereabouts(const StringMap& recorded, const std::string& job_name,
                                bool failed) {
  auto it = recorded.find(kNotebookArtifact);
  if (it != recorded.end()) return failed ? "executed notebook: " + it->second : "";
  return std::string("executed notebook not kept: the namespace has no ConfigMap ") +
         kArtifactRepositoryConfigMap +
         " to upload it to; the cell outputs are in the log: " + "kubectl logs job/" + job_name;
}

}  // namespace stepline::reconcilers
