// Status and Result<T>: errors as values, with codes that match the API server's answers.
//
// A Status is cheap to copy. Every function that can fail at a module boundary returns a Status
// or a Result<T>; no exception crosses a module boundary. Status is immutable after
// construction and safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace stepline::k8s {

// The classes of failure a caller decides on. They mirror metav1.StatusReason.
enum class StatusCode {
  kOk,
  kNotFound,         // 404, reason NotFound
  kAlreadyExists,    // 409, reason AlreadyExists
  kConflict,         // 409, reason Conflict (stale resourceVersion, apply conflict)
  kGone,             // 410, reason Expired or Gone (resourceVersion too old)
  kForbidden,        // 403 (RBAC, or admission such as quota)
  kUnauthorized,     // 401
  kInvalid,          // 422, reason Invalid (schema, CEL)
  kBadRequest,       // 400
  kTooManyRequests,  // 429
  kUnavailable,      // 503, or a connection that could not be made
  kTimeout,          // 504 or a client-side timeout
  kInternal,         // 500 and anything the server did not explain
  kTransport,        // TLS, DNS, refused connection: the request never got an answer
  kCancelled,        // the caller asked to stop
  kInvalidArgument,  // a caller's own mistake or bad local input (config files, JSON)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, int http_code = 0, std::string reason = {})
      : code_(code),
        http_code_(http_code),
        message_(std::move(message)),
        reason_(std::move(reason)) {}

  static Status Ok() { return {}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg), 404}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg), 409};
  }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg), 409}; }
  static Status Gone(std::string msg) { return {StatusCode::kGone, std::move(msg), 410}; }
  static Status Invalid(std::string msg) { return {StatusCode::kInvalid, std::move(msg), 422}; }
  static Status Forbidden(std::string msg) { return {StatusCode::kForbidden, std::move(msg), 403}; }
  static Status Unavailable(std::string msg) {
    return {StatusCode::kUnavailable, std::move(msg), 503};
  }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg), 500}; }
  static Status Transport(std::string msg) { return {StatusCode::kTransport, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  int http_code() const { return http_code_; }
  // The server's metav1.Status reason (e.g. "AlreadyExists", "Expired"); may be empty.
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsConflict() const { return code_ == StatusCode::kConflict; }
  bool IsGone() const { return code_ == StatusCode::kGone; }
  bool IsForbidden() const { return code_ == StatusCode::kForbidden; }
  bool IsInvalid() const { return code_ == StatusCode::kInvalid; }
  bool IsTooManyRequests() const { return code_ == StatusCode::kTooManyRequests; }
  // Worth retrying as is: 429, 5xx (except 501), transport failures, timeouts.
  bool IsRetriable() const;

  // "NotFound: pipelines.stepline.dev \"x\" not found" — for logs and messages.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  int http_code_ = 0;
  std::string message_;
  std::string reason_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;  // OK when value_ is set
};

}  // namespace stepline::k8s
