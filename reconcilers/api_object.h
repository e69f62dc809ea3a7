// What Pipeline and PipelineExecution share as top-level objects: metadata, spec and status,
// with every field this version does not know kept in `extra` so a write never drops it.
// Internal to api_pipeline.cc and api_execution.cc.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "reconcilers/api_json.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

// Parses {metadata, spec, status, ...} into T with the given spec and status parsers; errors
// name the field path (e.g. "spec.steps[2].name").
template <typename T, typename SpecParser, typename StatusParser>
k8s::Result<T> ParseTopLevel(const Json& json, SpecParser parse_spec, StatusParser parse_status) {
  FieldReader r(json, "");
  std::optional<ObjectMeta> meta;
  std::optional<decltype(T::spec)> spec;
  std::optional<decltype(T::status)> status;
  r.Object("metadata", ParseObjectMeta, &meta);
  r.Object("spec", parse_spec, &spec);
  r.Object("status", parse_status, &status);
  if (!r.ok()) return r.status();
  T object;
  if (meta) object.metadata = std::move(*meta);
  if (spec) object.spec = std::move(*spec);
  if (status) object.status = std::move(*status);
  object.extra = r.Unknown();
  return object;
}

// The inverse: apiVersion and kind are set when extra lacks them; an empty status is omitted.
template <typename T>
Json TopLevelToJson(const T& object, const char* kind) {
  Json out = object.extra.is_object() ? object.extra : Json::object();
  if (!out.contains("apiVersion")) out["apiVersion"] = kApiVersion;
  if (!out.contains("kind")) out["kind"] = kind;
  out["metadata"] = ToJson(object.metadata);
  out["spec"] = ToJson(object.spec);
  Json status = ToJson(object.status);
  if (status.empty()) {
    out.erase("status");
  } else {
    out["status"] = std::move(status);
  }
  return out;
}

}  // namespace stepline::reconcilers
