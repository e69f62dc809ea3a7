// ObjectYaml (render_text.h): JSON as block YAML, as `kubectl get -o yaml` prints it.
#include <yaml-cpp/yaml.h>

#include <regex>

#include "cli/render_text.h"

namespace stepline::cli {

namespace {

// A string that plain YAML would read as something else (a number, a boolean, null) or that
// plain style cannot hold is quoted.
bool NeedsQuotes(const std::string& s) {
  static const std::regex kAmbiguous(
      R"(^([-+]?[0-9][0-9_.eE+-]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|0x[0-9a-fA-F]+|0o[0-7]+|)"
      R"(true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|)"
      R"(null|Null|NULL|~|)$)");
  return std::regex_match(s, kAmbiguous);
}

void Emit(YAML::Emitter& e, const k8s::Object& v) {
  if ((v.is_object() || v.is_array()) && v.empty()) e << YAML::Flow;  // {} and [] inline
  if (v.is_object()) {
    e << YAML::BeginMap;
    for (const auto& [k, x] : v.items()) {
      e << YAML::Key << k << YAML::Value;
      Emit(e, x);
    }
    e << YAML::EndMap;
  } else if (v.is_array()) {
    e << YAML::BeginSeq;
    for (const auto& x : v) Emit(e, x);
    e << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (NeedsQuotes(s)) e << YAML::DoubleQuoted;
    e << s;
  } else if (v.is_null()) {
    e << YAML::Null;
  } else {
    e << v.dump();  // numbers and booleans, as JSON writes them
  }
}

}  // namespace

std::string ObjectYaml(const k8s::Object& obj) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetSeqFormat(YAML::Block);
  e.SetMapFormat(YAML::Block);
  Emit(e, obj);
  return std::string(e.c_str()) + "\n";
}

}  // namespace stepline::cli
