// Notebook steps (docs/api.md, "Notebook steps"; issue #21): a step of type Notebook runs a
// Jupyter notebook with papermill through stepline-notebook (notebook/README.md) in the step's
// container. It is a container step in every other respect (image, resources, retries,
// timeouts, onFailure, when, forEach, artifacts); this module holds what differs:
// - its command, built from `notebook` (NotebookCommand);
// - its typed parameters, rendered from templates (RenderNotebookParameters);
// - the output artifact "notebook", the executed copy, added to every Notebook step
//   (AddNotebookArtifact), and what the status says when no repository keeps it;
// - the checks of its fields (NotebookProblems).
//
// Pure functions; safe to call from several threads at once.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"
#include "reconcilers/api_types.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {

inline constexpr const char* kNotebookRunner = "stepline-notebook";
// The output artifact that holds the executed copy, and where the runner writes it.
inline constexpr const char* kNotebookArtifact = "notebook";
inline constexpr const char* kNotebookOutputPath = "/stepline/notebook/executed.ipynb";
inline constexpr const char* kNotebookVolume = "stepline-notebook";

bool IsNotebookStep(const Step& step);

// The step with the defaults' notebook merged under its own (api_types.h, EffectiveStep), no
// inherited command or args, and the output artifact kNotebookArtifact added unless the step
// declares one of that name (validation refuses that). No-op for other step types.
void ApplyNotebookDefaults(const Step& defaults, Step* step);

// The container command of a rendered Notebook step: stepline-notebook with the notebook, the
// executed copy's path, the kernel and the parameters as one JSON object. Values are escaped
// against Kubernetes' $(VAR) expansion: they reach the notebook as they are.
std::vector<std::string> NotebookCommand(const Step& rendered);

// Gives the step container of a Notebook step's pod a writable directory for the executed copy:
// an emptyDir at the directory of kNotebookOutputPath, unless a volume is mounted there already
// (the upload of the artifact "notebook"). pod_spec: a core/v1 PodSpec with the step container
// first.
void AddNotebookVolume(k8s::Object* pod_spec);

// Is {{parameters.NAME}} declared with type String (its value stays a string)?
using StringParameterTest = std::function<bool(std::string_view name)>;

// notebook.parameters with every template rendered. A string that is exactly one reference
// takes the value's JSON type: {{item}} and {{item.KEY}} the item's own value; a parameter
// declared Integer, Float, Boolean or List its number, boolean or list (a String parameter
// stays a string); a step output the JSON value its text reads as (0.91, [1, 2], true), else
// the text. Any other string is rendered as text. Lists and objects are rendered inside.
// The first reference that cannot be resolved is the error, naming it.
k8s::Result<Json> RenderNotebookParameters(const Json& parameters, const TemplateContext& context,
                                           const StringParameterTest& is_string_parameter);

// Every string inside parameters with its field path ("<path>.horizon", "<path>.grid[1]"),
// for the template checks of validation.
void ForEachParameterString(
    const Json& parameters, const std::string& path,
    const std::function<void(const std::string& text, const std::string& at)>& visit);

// The problems of a Notebook step's own fields, as (field path, what) pairs: notebook and its
// path required, parameters an object whose names are Python identifiers, no command or args,
// no output artifact of its own named "notebook"; and `notebook` on another step type.
// effective: the step with stepDefaults merged (the path may come from there).
std::vector<std::pair<std::string, std::string>> NotebookProblems(const Step& step,
                                                                  const Step& effective,
                                                                  const std::string& path);

// The names of notebook.parameters that papermill cannot assign (not Python variable names),
// or a parameters value that is no object, as (field path, what) pairs.
std::vector<std::pair<std::string, std::string>> NotebookParameterProblems(const Json& parameters,
                                                                           const std::string& path);

// For a Notebook step whose artifact "notebook" has no s3 URI (so it needs the namespace's
// artifact repository): *out = the step without that artifact, and true. False otherwise.
bool WithoutUnkeptNotebook(const Step& step, Step* out);

// Where the executed copy of a Notebook step's attempt went, for the step's message: empty when
// it was uploaded and the attempt succeeded (status.steps[].artifacts.notebook names it);
// "executed notebook: <uri>" after a failure; without an artifact repository, that it was not
// kept and that its cell outputs are in the Job's log. recorded: RecordedArtifacts of the Job.
std::string NotebookWhereabouts(const StringMap& recorded, const std::string& job_name,
                                bool failed);

}  // namespace stepline::reconcilers
