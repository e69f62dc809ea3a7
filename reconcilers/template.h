// Templating: strings with {{...}} references, as in a step's command, args, env values, `when`
// and `forEach` (DESIGN.md section 2, "Templating").
//
// The reference forms are, with optional whitespace inside the braces:
//   {{parameters.NAME}}        a run parameter
//   {{item}}  {{item.KEY}}     the fan-out item, or one key of an object item
//   {{steps.STEP.outputs.NAME}} {{steps.STEP.phase}}
//   {{steps.STEP.outputs.NAME.KEY.KEY...}}  a value inside an output that holds a JSON object
//                              (a list index is a KEY of digits); at most kMaxJsonPathKeys KEYs
//   {{steps.STEP.artifacts.NAME.uri}}   the s3:// URI of an output artifact of STEP
//   {{steps.STEP.jobName}}     the Job of STEP's latest attempt (of the one that succeeded, once
//                              STEP succeeded); none for a step that ran no Job of its own
//   {{execution.name}}  {{execution.namespace}}
//   {{execution.startTime}}    when the execution started (RFC 3339, UTC: 2026-12-06T19:46:08Z)
// NAME, KEY and STEP are made of letters, digits, '_' and '-'. Anything else between "{{" and
// "}}" is an error naming the reference and its column; so is a "{{" without a "}}".
//
// Parsing and rendering are pure; all values come from a TemplateContext. Everything here is
// safe to call from several threads at once (a parsed Template is immutable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/status.h"

namespace stepline::reconcilers {

// Templates and rendered strings larger than this are rejected (a Kubernetes object is at
// most 1.5 MiB anyway).
inline constexpr size_t kMaxTemplateBytes = 1 << 20;
inline constexpr size_t kMaxJsonPathKeys = 16;

struct Reference {
  enum class Kind {
    kParameter,           // name = the parameter
    kItem,                // the whole item
    kItemKey,             // name = the key
    kStepOutput,          // step, name = the output
    kStepPhase,           // step
    kStepArtifactUri,     // step, name = the output artifact
    kStepJobName,         // step
    kExecutionName,       //
    kExecutionNamespace,  //
    kExecutionStartTime   //
  };
  Kind kind = Kind::kItem;
  std::string step;
  std::string name;
  std::vector<std::string> json_path;  // kStepOutput: keys into the output's JSON value
  size_t column = 0;                   // 1-based column of the "{{" in the text it was parsed from

  // The canonical spelling: "{{steps.evaluate.outputs.accuracy}}".
  std::string ToString() const;
  bool operator==(const Reference& other) const {
    return kind == other.kind && step == other.step && name == other.name &&
           json_path == other.json_path;
  }
};

// Parses what is between "{{" and "}}" (surrounding whitespace allowed). `column` is only used
// in error messages.
k8s::Result<Reference> ParseReference(std::string_view inner, size_t column);

// A fan-in stored in ConfigMaps instead of the status (fan_in_store.h): the ConfigMaps, in item
// order (each holds values.json, a JSON list), and the whole list's length.
struct StoredValue {
  std::vector<std::string> config_maps;
  int64_t items = 0;
};

// What a step exposes to templates. An empty phase renders as "Pending".
struct StepValues {
  std::string phase;
  std::map<std::string, std::string, std::less<>> outputs;
  std::map<std::string, std::string, std::less<>> artifacts;  // output artifact -> URI
  std::string job_name;  // the latest attempt's Job; empty when the step ran none
  // A fan-out step's fan-in values too large to pass on (status_bounds.h: kMaxOutputBytes):
  // name -> why, and where the values are instead. A reference to one fails saying so.
  std::map<std::string, std::string, std::less<>> outputs_not_kept;
  std::map<std::string, std::string, std::less<>> artifacts_not_kept;
  // Those of them stored in ConfigMaps: no template reads them, an input artifact's `from` does
  // (artifact_staging.h).
  std::map<std::string, StoredValue, std::less<>> stored_outputs;
  std::map<std::string, StoredValue, std::less<>> stored_artifacts;
};

// Where references get their values. Pointers returned stay valid while the context lives;
// nullptr means "there is no such thing".
class TemplateContext {
 public:
  virtual ~TemplateContext() = default;
  virtual const std::string* Parameter(std::string_view name) const = 0;
  virtual const nlohmann::json* Item() const = 0;  // nullptr outside a forEach step
  virtual const StepValues* Step(std::string_view name) const = 0;
  virtual std::string_view ExecutionName() const = 0;
  virtual std::string_view ExecutionNamespace() const = 0;
  virtual std::string_view ExecutionStartTime() const = 0;
};

// A TemplateContext over plain maps: for callers that already hold the values, and for tests.
struct TemplateValues : public TemplateContext {
  std::map<std::string, std::string, std::less<>> parameters;
  std::optional<nlohmann::json> item;
  std::map<std::string, StepValues, std::less<>> steps;
  std::string execution_name;
  std::string execution_namespace;
  std::string execution_start_time;

  const std::string* Parameter(std::string_view name) const override;
  const nlohmann::json* Item() const override { return item ? &*item : nullptr; }
  const StepValues* Step(std::string_view name) const override;
  std::string_view ExecutionName() const override { return execution_name; }
  std::string_view ExecutionNamespace() const override { return execution_namespace; }
  std::string_view ExecutionStartTime() const override { return execution_start_time; }
};

// The value of one reference. An item that is a string renders as the string itself; numbers,
// booleans, null, objects and lists render as compact JSON. Errors name the reference:
//   {{steps.evaluate.outputs.accuracy}}: step "evaluate" has no output "accuracy"
// (NotFound when a value is missing, Invalid when {{item.KEY}} meets an item that is no object).
k8s::Result<std::string> ResolveReference(const Reference& ref, const TemplateContext& context);

// A parsed template: literal text and references, in order.
class Template {
 public:
  struct Part {
    std::string literal;                 // used when reference is empty
    std::optional<Reference> reference;  //
  };

  const std::vector<Part>& parts() const { return parts_; }
  // Every reference, in order of appearance (repeats included), for validation.
  std::vector<Reference> References() const;
  bool HasReferences() const;

 private:
  friend k8s::Result<Template> ParseTemplate(std::string_view text);
  std::vector<Part> parts_;
};

// Errors (Invalid): `invalid reference "{{foo}}" at column 7: expected ...`,
// `unterminated "{{" at column 3`, `template of N bytes exceeds ...`.
k8s::Result<Template> ParseTemplate(std::string_view text);

// Substitutes every reference; the first one that cannot be resolved is the error.
k8s::Result<std::string> Render(const Template& tmpl, const TemplateContext& context);

// ParseTemplate then Render.
k8s::Result<std::string> RenderTemplate(std::string_view text, const TemplateContext& context);

// Kubernetes expands $(VAR) in a container's command, args and env values, and turns "$$" into
// "$". A value Stepline puts there (a parameter, an item, an output) must reach the container
// as it is, never expanded into another variable's value (a Secret's, say): every '$' of it is
// doubled. The pipeline's own literal text is left alone.
std::string EscapeForKubernetesExpansion(std::string_view value);

// RenderTemplate for a container's command, args and env values: each substituted value is
// escaped with EscapeForKubernetesExpansion.
k8s::Result<std::string> RenderContainerTemplate(std::string_view text,
                                                 const TemplateContext& context);

// The text of a raw artifact (inputs.artifacts[].raw.data) rendered. A JSON object or list has
// the templates of its string values (and list items) rendered one by one, so that a value with
// quotes or backslashes stays valid JSON, and is written compact; other text is rendered as
// RenderTemplate does. Nesting deeper than 64 is an error.
k8s::Result<std::string> RenderRawText(std::string_view text, const TemplateContext& context);

}  // namespace stepline::reconcilers
