// Reading the fields of API objects held as JSON (Jobs, Pods, Events) without copying and
// without throwing: an absent or mistyped field reads as null, "", nullptr or nullopt.
//
// Pure; safe to call from any thread on objects nobody modifies.
#pragma once

#include <optional>
#include <string>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::reconcilers {

// obj[key], or a null value when obj is no object or has no such key.
const k8s::Object& Child(const k8s::Object& obj, const char* key);
// obj[key] when it is a string, else "" (a reference into obj, or to a static empty string).
const std::string& StringField(const k8s::Object& obj, const char* key);
// obj[key] parsed as an RFC 3339 time.
std::optional<k8s::WallTime> TimeField(const k8s::Object& obj, const char* key);
// The entry of status.conditions with this type, or nullptr.
const k8s::Object* ConditionOf(const k8s::Object& obj, const char* type);
// The same, only when its status is "True".
const k8s::Object* TrueCondition(const k8s::Object& obj, const char* type);
// metadata.creationTimestamp.
std::optional<k8s::WallTime> CreationTime(const k8s::Object& obj);
// metadata.annotations[key], or "".
const std::string& Annotation(const k8s::Object& obj, const char* key);
// metadata.annotations[key] parsed as an RFC 3339 time.
std::optional<k8s::WallTime> AnnotationTime(const k8s::Object& obj, const char* key);

}  // namespace stepline::reconcilers
