// YAML manifests as JSON, for unit tests that read files from the source tree or the corpus in
// ../shared/external/. Pure; thread-compatible.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <vector>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

// A YAML node as JSON: plain scalars resolved as by the YAML 1.2 core schema (null, booleans,
// integers, floats), quoted scalars as strings.
Json YamlToJson(const YAML::Node& node);

// The non-empty documents of a YAML file, as JSON; a parse error is a test failure (and no
// documents).
std::vector<Json> LoadYamlDocuments(const std::filesystem::path& file);

}  // namespace stepline::reconcilers
