#include "k8sclient/status.h"

namespace stepline::k8s {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kConflict:
      return "Conflict";
    case StatusCode::kGone:
      return "Gone";
    case StatusCode::kForbidden:
      return "Forbidden";
    case StatusCode::kUnauthorized:
      return "Unauthorized";
    case StatusCode::kInvalid:
      return "Invalid";
    case StatusCode::kBadRequest:
      return "BadRequest";
    case StatusCode::kTooManyRequests:
      return "TooManyRequests";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kTimeout:
      return "Timeout";
    case StatusCode::kInternal:
      return "Internal";
    case StatusCode::kTransport:
      return "Transport";
    case StatusCode::kCancelled:
      return "Cancelled";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
  }
  return "Unknown";
}

bool Status::IsRetriable() const {
  switch (code_) {
    case StatusCode::kTooManyRequests:
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
    case StatusCode::kTransport:
      return true;
    case StatusCode::kInternal:
      return http_code_ != 501;
    default:
      return false;
  }
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = StatusCodeName(code_);
  if (http_code_ != 0) out += " (" + std::to_string(http_code_) + ")";
  if (!message_.empty()) out += ": " + message_;
  return out;
}

}  // namespace stepline::k8s
