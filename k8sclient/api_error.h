// Decoding the API server's error answers (metav1.Status) into a typed Status.
//
// Pure functions; safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::k8s {

// The error a response with this HTTP code and body means. The body is normally a metav1.Status
// ({"kind":"Status","reason":"NotFound","code":404,"message":...,"details":{...}}); the reason
// decides the class (AlreadyExists vs Conflict on 409, Expired/Gone on 410), the HTTP code is
// the fallback when the body is not a Status.
Status DecodeApiError(int http_code, std::string_view body);

// DecodeApiError for a request that addresses an object or a collection (get, list, watch,
// create, update, patch, delete). A 404 names a missing object only when it is a Status whose
// details name the object, as every NotFound for an object does (apierrors.NewNotFound).
// Otherwise the server did not route the request to the resource at all: an API server that is
// starting answers "404 page not found" (or a Status with empty details) for custom resources
// until their CRDs are loaded. That is an outage, class kUnavailable (retried), reason
// "NotServed": a kubelet or controller that took it for a deletion would forget an object that
// still exists.
Status DecodeObjectCallError(int http_code, std::string_view body);

// The same for a metav1.Status object already parsed (a watch ERROR event's object). The object's
// own "code" wins over http_code.
Status StatusFromApiStatus(const Object& status, int http_code);

// The class a bare HTTP code falls into when the server did not explain itself.
StatusCode StatusCodeForHttp(int http_code);

// details.retryAfterSeconds of a metav1.Status body, when present and positive.
std::optional<int> RetryAfterFromBody(std::string_view body);

}  // namespace stepline::k8s
