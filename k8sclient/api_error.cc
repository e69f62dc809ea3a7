#include "k8sclient/api_error.h"
#include "k8sclient/object_fields.h"

#include <array>
#include <utility>

namespace stepline::k8s {
namespace {

struct ReasonCode {
  std::string_view reason;
  StatusCode code;
};

// metav1.StatusReason values (k8s.io/apimachinery/pkg/apis/meta/v1/types.go).
constexpr std::array<ReasonCode, 17> kReasons = {{
    {"NotFound", StatusCode::kNotFound},
    {"AlreadyExists", StatusCode::kAlreadyExists},
    {"Conflict", StatusCode::kConflict},
    {"Gone", StatusCode::kGone},
    {"Expired", StatusCode::kGone},
    {"Forbidden", StatusCode::kForbidden},
    {"Unauthorized", StatusCode::kUnauthorized},
    {"Invalid", StatusCode::kInvalid},
    {"BadRequest", StatusCode::kBadRequest},
    {"MethodNotAllowed", StatusCode::kBadRequest},
    {"NotAcceptable", StatusCode::kBadRequest},
    {"UnsupportedMediaType", StatusCode::kBadRequest},
    {"RequestEntityTooLarge", StatusCode::kBadRequest},
    {"TooManyRequests", StatusCode::kTooManyRequests},
    {"ServiceUnavailable", StatusCode::kUnavailable},
    {"Timeout", StatusCode::kTimeout},
    {"ServerTimeout", StatusCode::kTimeout},
}};

// The first max characters of text, without trailing whitespace.
std::string Truncate(std::string_view text, size_t max) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

// "spec.steps[0].name: Required value; ..." from details.causes when the message lacks them.
std::string CausesText(const Object& status) {
  auto details = status.find("details");
  if (details == status.end() || !details->is_object()) return {};
  auto causes = details->find("causes");
  if (causes == details->end() || !causes->is_array()) return {};
  std::string out;
  for (const auto& cause : *causes) {
    if (!cause.is_object()) continue;
    std::string field = StringField(cause, "field");
    std::string message = StringField(cause, "message");
    if (!out.empty()) out += "; ";
    out += field.empty() ? message : field + ": " + message;
  }
  return out;
}

}  // namespace

StatusCode StatusCodeForHttp(int http_code) {
  switch (http_code) {
    case 400:
      return StatusCode::kBadRequest;
    case 401:
      return StatusCode::kUnauthorized;
    case 403:
      return StatusCode::kForbidden;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kConflict;
    case 410:
      return StatusCode::kGone;
    case 422:
      return StatusCode::kInvalid;
    case 429:
      return StatusCode::kTooManyRequests;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kTimeout;
    default:
      break;
  }
  if (http_code >= 500) return StatusCode::kInternal;
  if (http_code >= 400) return StatusCode::kBadRequest;
  return StatusCode::kInternal;  // a non-error code where an error was expected
}

Status StatusFromApiStatus(const Object& status, int http_code) {
  int code = http_code;
  if (auto it = status.find("code"); it != status.end() && it->is_number_integer()) {
    code = it->get<int>();
  }
  std::string reason = StringField(status, "reason");
  std::string message = StringField(status, "message");
  StatusCode klass = StatusCodeForHttp(code);
  for (const auto& r : kReasons) {
    if (r.reason == reason) klass = r.code;
  }
  std::string causes = CausesText(status);
  if (message.empty()) message = causes;
  if (message.empty()) message = "the server answered HTTP " + std::to_string(code);
  return Status(klass, std::move(message), code, std::move(reason));
}

Status DecodeApiError(int http_code, std::string_view body) {
  Object parsed = Object::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && StringField(parsed, "kind") == "Status") {
    return StatusFromApiStatus(parsed, http_code);
  }
  std::string message = "the server answered HTTP " + std::to_string(http_code);
  if (!body.empty()) message += ": " + Truncate(body, 256);
  return Status(StatusCodeForHttp(http_code), std::move(message), http_code);
}

Status DecodeObjectCallError(int http_code, std::string_view body) {
  Status decoded = DecodeApiError(http_code, body);
  if (http_code != 404 || !decoded.IsNotFound()) return decoded;
  Object parsed = Object::parse(body, nullptr, /*allow_exceptions=*/false);
  auto details = parsed.is_object() ? parsed.find("details") : parsed.end();
  if (details != parsed.end() && details->is_object() && !StringField(*details, "name").empty()) {
    return decoded;
  }
  return Status(StatusCode::kUnavailable,
                "the server does not serve this resource (is it starting, or is the CRD "
                "installed?): " +
                    decoded.message(),
                http_code, "NotServed");
}

std::optional<int> RetryAfterFromBody(std::string_view body) {
  Object parsed = Object::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  auto details = parsed.find("details");
  if (details == parsed.end() || !details->is_object()) return std::nullopt;
  auto secs = details->find("retryAfterSeconds");
  if (secs == details->end() || !secs->is_number_integer()) return std::nullopt;
  int value = secs->get<int>();
  if (value <= 0) return std::nullopt;
  return value;
}

}  // namespace stepline::k8s
