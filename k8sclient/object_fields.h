// Reading the fields of API objects held as JSON (Jobs, Pods, Events, Statuses) without copying
// and without throwing: an absent or mistyped field reads as null, {}, [], "", nullptr or
// nullopt. The one set of field readers every folder uses.
//
// Pure; safe to call from any thread on objects nobody modifies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::k8s {

// obj[key], or a null value when obj is no object or has no such key.
const Object& Child(const Object& obj, const char* key);
// obj[key] when it is an object, else an empty object.
const Object& ObjectField(const Object& obj, const char* key);
// obj[key] when it is an array, else an empty array.
const Object& ArrayField(const Object& obj, const char* key);
// obj[key] when it is a string, else "" (a reference into obj, or to a static empty string).
const std::string& StringField(const Object& obj, const char* key);
// obj[key] when it is an integer.
std::optional<int64_t> IntField(const Object& obj, const char* key);
// obj[key] when it is a boolean, else fallback.
bool BoolField(const Object& obj, const char* key, bool fallback);
// obj[key] parsed as an RFC 3339 time.
std::optional<WallTime> TimeField(const Object& obj, const char* key);
// The entry of status.conditions with this type, or nullptr.
const Object* ConditionOf(const Object& obj, const char* type);
// The same, only when its status is "True".
const Object* TrueCondition(const Object& obj, const char* type);
// metadata.creationTimestamp.
std::optional<WallTime> CreationTime(const Object& obj);
// True when metadata.deletionTimestamp is set: the object is being deleted (finalizers hold it).
bool IsBeingDeleted(const Object& obj);
// The UIDs of obj's ownerReferences.
std::vector<std::string> OwnerUids(const Object& obj);
// metadata.annotations[key], or "".
const std::string& Annotation(const Object& obj, const char* key);
// metadata.annotations[key] parsed as an RFC 3339 time.
std::optional<WallTime> AnnotationTime(const Object& obj, const char* key);

}  // namespace stepline::k8s
