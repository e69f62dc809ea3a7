#include "reconcilers/template.h"

#include <utility>

namespace stepline::reconcilers {
namespace {

using k8s::Result;
using k8s::Status;

constexpr std::string_view kExpectedForms =
    "expected parameters.NAME, item, item.KEY, steps.STEP.outputs.NAME, steps.STEP.phase, "
    "steps.STEP.artifacts.NAME.uri, steps.STEP.jobName, execution.name, execution.namespace or "
    "execution.startTime";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Splits "a.b.c" into at most 4 + kMaxJsonPathKeys segments, and one more that means "too
// many" and fails the match anyway.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  while (segments.size() < 5 + kMaxJsonPathKeys) {
    size_t dot = path.find('.');
    segments.push_back(path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return segments;
}

std::optional<Reference> MatchPath(const std::vector<std::string_view>& s) {
  using Kind = Reference::Kind;
  auto ref = [](Kind kind, std::string_view step, std::string_view name) {
    return Reference{kind, std::string(step), std::string(name)};
  };
  for (std::string_view segment : s) {
    if (!IsName(segment)) return std::nullopt;
  }
  if (s.size() == 2 && s[0] == "parameters") return ref(Kind::kParameter, "", s[1]);
  if (s.size() == 1 && s[0] == "item") return ref(Kind::kItem, "", "");
  if (s.size() == 2 && s[0] == "item") return ref(Kind::kItemKey, "", s[1]);
  if (s.size() >= 4 && s.size() <= 4 + kMaxJsonPathKeys && s[0] == "steps" && s[2] == "outputs") {
    Reference out = ref(Kind::kStepOutput, s[1], s[3]);
    for (size_t i = 4; i < s.size(); ++i) out.json_path.emplace_back(s[i]);
    return out;
  }
  if (s.size() == 5 && s[0] == "steps" && s[2] == "artifacts" && s[4] == "uri") {
    return ref(Kind::kStepArtifactUri, s[1], s[3]);
  }
  if (s.size() == 3 && s[0] == "steps" && s[2] == "phase") return ref(Kind::kStepPhase, s[1], "");
  if (s.size() == 3 && s[0] == "steps" && s[2] == "jobName") {
    return ref(Kind::kStepJobName, s[1], "");
  }
  if (s.size() == 2 && s[0] == "execution" && s[1] == "name") {
    return ref(Kind::kExecutionName, "", "");
  }
  if (s.size() == 2 && s[0] == "execution" && s[1] == "namespace") {
    return ref(Kind::kExecutionNamespace, "", "");
  }
  if (s.size() == 2 && s[0] == "execution" && s[1] == "startTime") {
    return ref(Kind::kExecutionStartTime, "", "");
  }
  return std::nullopt;
}

Status Unresolved(const Reference& ref, const std::string& why) {
  return Status::NotFound(ref.ToString() + ": " + why);
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Strings render as themselves, everything else as compact JSON.
std::string JsonText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> ResolveItem(const Reference& ref, const TemplateContext& context) {
  const nlohmann::json* item = context.Item();
  if (item == nullptr) return Unresolved(ref, "only a forEach step has an item");
  if (ref.kind == Reference::Kind::kItem) return JsonText(*item);
  if (!item->is_object()) {
    std::string type = item->type_name();
    std::string article = type.find_first_of("aeiou") == 0 ? "an " : "a ";
    return Status::Invalid(ref.ToString() + ": the item is " + article + type + ", not an object");
  }
  auto it = item->find(ref.name);
  if (it == item->end()) return Unresolved(ref, "the item has no key " + Quoted(ref.name));
  return JsonText(*it);
}

// The value at ref.json_path inside output, which must hold JSON.
Result<std::string> ResolveJsonPath(const Reference& ref, const std::string& output) {
  nlohmann::json value = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Status::Invalid(ref.ToString() + ": output " + Quoted(ref.name) + " of step " +
                           Quoted(ref.step) + " is not JSON");
  }
  const nlohmann::json* at = &value;
  for (const std::string& key : ref.json_path) {
    const nlohmann::json* next = nullptr;
    if (at->is_object() && at->contains(key)) next = &(*at)[key];
    bool index =
        !key.empty() && key.size() < 10 && key.find_first_not_of("0123456789") == std::string::npos;
    if (at->is_array() && index && std::stoul(key) < at->size()) next = &(*at)[std::stoul(key)];
    if (next == nullptr) {
      return Unresolved(ref, "output " + Quoted(ref.name) + " of step " + Quoted(ref.step) +
                                 " has no " + Quoted(key) + " there");
    }
    at = next;
  }
  return JsonText(*at);
}

Result<std::string> ResolveStep(const Reference& ref, const TemplateContext& context) {
  const StepValues* step = context.Step(ref.step);
  if (step == nullptr) return Unresolved(ref, "no step " + Quoted(ref.step));
  if (ref.kind == Reference::Kind::kStepPhase) {
    return step->phase.empty() ? std::string("Pending") : step->phase;
  }
  if (ref.kind == Reference::Kind::kStepJobName) {
    if (!step->job_name.empty()) return step->job_name;
    return Unresolved(ref, "step " + Quoted(ref.step) + " has no Job (it has not started one)");
  }
  if (ref.kind == Reference::Kind::kStepArtifactUri) {
    auto it = step->artifacts.find(ref.name);
    if (it != step->artifacts.end()) return it->second;
    if (auto why = step->artifacts_not_kept.find(ref.name); why != step->artifacts_not_kept.end()) {
      return Unresolved(ref, why->second);
    }
    return Unresolved(ref, "step " + Quoted(ref.step) + " has no output artifact " +
                               Quoted(ref.name) + " (it has not succeeded)");
  }
  auto it = step->outputs.find(ref.name);
  if (auto why = step->outputs_not_kept.find(ref.name);
      it == step->outputs.end() && why != step->outputs_not_kept.end()) {
    return Unresolved(ref, why->second);
  }
  if (it == step->outputs.end()) {
    return Unresolved(ref, "step " + Quoted(ref.step) + " has no output " + Quoted(ref.name));
  }
  if (ref.json_path.empty()) return it->second;
  return ResolveJsonPath(ref, it->second);
}

Status TooLarge(std::string_view what, size_t size) {
  return Status::Invalid(std::string(what) + " of " + std::to_string(size) + " bytes exceeds " +
                         std::to_string(kMaxTemplateBytes));
}

void AppendLiteral(std::vector<Template::Part>* parts, std::string_view text) {
  if (text.empty()) return;
  if (!parts->empty() && !parts->back().reference) {
    parts->back().literal.append(text);
  } else {
    parts->push_back({std::string(text), std::nullopt});
  }
}

}  // namespace

std::string Reference::ToString() const {
  switch (kind) {
    case Kind::kParameter:
      return "{{parameters." + name + "}}";
    case Kind::kItem:
      return "{{item}}";
    case Kind::kItemKey:
      return "{{item." + name + "}}";
    case Kind::kStepOutput: {
      std::string keys;
      for (const std::string& key : json_path) keys += "." + key;
      return "{{steps." + step + ".outputs." + name + keys + "}}";
    }
    case Kind::kStepPhase:
      return "{{steps." + step + ".phase}}";
    case Kind::kStepArtifactUri:
      return "{{steps." + step + ".artifacts." + name + ".uri}}";
    case Kind::kStepJobName:
      return "{{steps." + step + ".jobName}}";
    case Kind::kExecutionName:
      return "{{execution.name}}";
    case Kind::kExecutionNamespace:
      return "{{execution.namespace}}";
    case Kind::kExecutionStartTime:
      return "{{execution.startTime}}";
  }
  return "{{?}}";
}

Result<Reference> ParseReference(std::string_view inner, size_t column) {
  std::string_view path = Trim(inner);
  std::optional<Reference> ref = MatchPath(SplitPath(path));
  if (!ref) {
    return Status::Invalid("invalid reference \"{{" + std::string(path) + "}}\" at column " +
                           std::to_string(column) + ": " + std::string(kExpectedForms));
  }
  ref->column = column;
  return *std::move(ref);
}

const std::string* TemplateValues::Parameter(std::string_view name) const {
  auto it = parameters.find(name);
  return it == parameters.end() ? nullptr : &it->second;
}

const StepValues* TemplateValues::Step(std::string_view name) const {
  auto it = steps.find(name);
  return it == steps.end() ? nullptr : &it->second;
}

Result<std::string> ResolveReference(const Reference& ref, const TemplateContext& context) {
  switch (ref.kind) {
    case Reference::Kind::kParameter: {
      const std::string* value = context.Parameter(ref.name);
      if (value == nullptr) return Unresolved(ref, "no parameter " + Quoted(ref.name));
      return *value;
    }
    case Reference::Kind::kItem:
    case Reference::Kind::kItemKey:
      return ResolveItem(ref, context);
    case Reference::Kind::kStepOutput:
    case Reference::Kind::kStepPhase:
    case Reference::Kind::kStepArtifactUri:
    case Reference::Kind::kStepJobName:
      return ResolveStep(ref, context);
    case Reference::Kind::kExecutionName:
      return std::string(context.ExecutionName());
    case Reference::Kind::kExecutionNamespace:
      return std::string(context.ExecutionNamespace());
    case Reference::Kind::kExecutionStartTime:
      return std::string(context.ExecutionStartTime());
  }
  return Status::Internal("unknown reference kind");
}

std::vector<Reference> Template::References() const {
  std::vector<Reference> refs;
  for (const Part& part : parts_) {
    if (part.reference) refs.push_back(*part.reference);
  }
  return refs;
}

bool Template::HasReferences() const {
  for (const Part& part : parts_) {
    if (part.reference) return true;
  }
  return false;
}

Result<Template> ParseTemplate(std::string_view text) {
  if (text.size() > kMaxTemplateBytes) return TooLarge("template", text.size());
  Template tmpl;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    AppendLiteral(&tmpl.parts_, text.substr(pos, open - pos));
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Status::Invalid("unterminated \"{{\" at column " + std::to_string(open + 1));
    }
    auto ref = ParseReference(text.substr(open + 2, close - open - 2), open + 1);
    if (!ref.ok()) return ref.status();
    tmpl.parts_.push_back({"", std::move(ref).value()});
    pos = close + 2;
  }
  return tmpl;
}

namespace {

Result<std::string> RenderParts(const Template& tmpl, const TemplateContext& context, bool escape) {
  std::string out;
  for (const Template::Part& part : tmpl.parts()) {
    if (!part.reference) {
      out += part.literal;
    } else {
      auto value = ResolveReference(*part.reference, context);
      if (!value.ok()) return value.status();
      out += escape ? EscapeForKubernetesExpansion(*value) : *value;
    }
    if (out.size() > kMaxTemplateBytes) return TooLarge("rendered template", out.size());
  }
  return out;
}

}  // namespace

Result<std::string> Render(const Template& tmpl, const TemplateContext& context) {
  return RenderParts(tmpl, context, /*escape=*/false);
}

Result<std::string> RenderTemplate(std::string_view text, const TemplateContext& context) {
  auto tmpl = ParseTemplate(text);
  if (!tmpl.ok()) return tmpl.status();
  return Render(*tmpl, context);
}

std::string EscapeForKubernetesExpansion(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

Result<std::string> RenderContainerTemplate(std::string_view text, const TemplateContext& context) {
  auto tmpl = ParseTemplate(text);
  if (!tmpl.ok()) return tmpl.status();
  return RenderParts(*tmpl, context, /*escape=*/true);
}

namespace {

// Every string inside value rendered in place; object keys stay as they are.
k8s::Status RenderJsonStrings(nlohmann::json& value, const TemplateContext& context, int depth) {
  if (depth > 64) return k8s::Status::Invalid("JSON nested deeper than 64");
  if (value.is_string()) {
    auto rendered = RenderTemplate(value.get<std::string>(), context);
    if (!rendered.ok()) return rendered.status();
    value = std::move(rendered).value();
    return k8s::Status::Ok();
  }
  if (!value.is_structured()) return k8s::Status::Ok();
  for (auto& item : value) {
    k8s::Status st = RenderJsonStrings(item, context, depth + 1);
    if (!st.ok()) return st;
  }
  return k8s::Status::Ok();
}

}  // namespace

Result<std::string> RenderRawText(std::string_view text, const TemplateContext& context) {
  if (text.find("{{") == std::string_view::npos) return std::string(text);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_structured()) return RenderTemplate(text, context);
  if (k8s::Status st = RenderJsonStrings(doc, context, 0); !st.ok()) return st;
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stepline::reconcilers
