// AWS credentials for S3 requests, from where a pod finds them: a mounted Secret (a directory
// with the files AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN),
// the environment (the same names), or a web identity as on EKS (AWS_ROLE_ARN +
// AWS_WEB_IDENTITY_TOKEN_FILE, exchanged for temporary credentials through STS
// AssumeRoleWithWebIdentity).
//
// The STS request is built and its answer read by pure functions (tested without a network);
// sending it is the caller's (see S3Client::AssumeRoleWithWebIdentity).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "k8sclient/status.h"

namespace stepline::artifacts {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
  std::string source;         // where they came from, for messages: "env", "dir /x", "sts"
};

// Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN from dir/<name> (trailing
// newlines dropped). Errors name the directory and the missing file.
k8s::Result<AwsCredentials> CredentialsFromDirectory(const std::string& dir);

// The same names from an environment lookup; nullopt when AWS_ACCESS_KEY_ID is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
k8s::Result<std::optional<AwsCredentials>> CredentialsFromEnv(const EnvLookup& env);

// A request to STS, ready to send: POST url with body (application/x-www-form-urlencoded).
struct StsRequest {
  std::string url;
  std::string body;
};

struct WebIdentity {
  std::string role_arn;
  std::string token;  // the projected service-account token
  std::string session_name;
  std::string sts_endpoint;  // "" = https://sts.<region>.amazonaws.com
  std::string region = "us-east-1";
  int duration_seconds = 3600;
};

// The web identity of the environment (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE read from disk,
// AWS_ROLE_SESSION_NAME, AWS_ENDPOINT_URL_STS, AWS_REGION); nullopt when AWS_ROLE_ARN is unset.
k8s::Result<std::optional<WebIdentity>> WebIdentityFromEnv(const EnvLookup& env);

// The AssumeRoleWithWebIdentity call (Query API, version 2011-06-15; unsigned, as the token is
// the proof).
StsRequest BuildAssumeRoleWithWebIdentity(const WebIdentity& identity);

// Reads the credentials from an STS answer; an ErrorResponse (or anything without credentials)
// becomes an error with STS's code and message and the HTTP status.
k8s::Result<AwsCredentials> ParseAssumeRoleResponse(int http_code, const std::string& body);

// The process environment, for EnvLookup.
std::optional<std::string> ProcessEnv(const std::string& name);

}  // namespace stepline::artifacts
