// Safe readers of API objects: absent or mistyped fields read as empty, never throw.
// Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "k8sclient/resource.h"

namespace stepline::localagent {

// obj[key] when it is an object, else an empty object.
const k8s::Object& ObjField(const k8s::Object& obj, const char* key);
// obj[key] when it is an array, else an empty array.
const k8s::Object& ArrField(const k8s::Object& obj, const char* key);
// obj[key] when it is a string, else "".
std::string StrField(const k8s::Object& obj, const char* key);
std::optional<int64_t> IntField(const k8s::Object& obj, const char* key);
// obj[key] when it is a boolean, else fallback.
bool BoolField(const k8s::Object& obj, const char* key, bool fallback);

}  // namespace stepline::localagent
