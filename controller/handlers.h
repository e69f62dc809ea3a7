// Building blocks for watches (controller/reconciler.h), free of any domain: the object's own
// key with the "only its status changed" predicate (controller-runtime's For with a
// generation-changed predicate), and the keys of an object's controller owner (Owns).
//
// Pure functions over objects; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controller/reconciler.h"
#include "k8sclient/resource.h"

namespace stepline::controller {

// True when new_obj differs from old_obj only in status, resourceVersion and managedFields: a
// status write (most often the controller's own, coming back through the watch) that no
// reconcile needs to look at, since spec and metadata (generation, labels, annotations,
// finalizers, deletionTimestamp) are unchanged.
bool OnlyStatusChanged(const k8s::Object& old_obj, const k8s::Object& new_obj);

// "ns/name" of obj's controller ownerReference when it is of owner's kind and API group.
std::optional<std::string> ControllerOwnerKey(const k8s::Object& obj, const k8s::Resource& owner);

// The watch of a reconciler's own kind: each change enqueues the object's key, except updates
// that changed only its status.
Watch ForObjects(const k8s::Resource& resource);

// The keys of the controller owners of kind owner, of the old and the new copy (an object may
// move to another owner).
std::vector<Request> OwnerRequests(const Change& change, const k8s::Resource& owner);

}  // namespace stepline::controller
