#include "artifacts/aws_credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "artifacts/s3_location.h"
#include "artifacts/xml_text.h"

namespace stepline::artifacts {

namespace {

k8s::Result<std::string> ReadTrimmed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return k8s::Status::InvalidArgument("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string value = buf.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

std::string FormField(const std::string& name, const std::string& value) {
  return name + "=" + UriEncode(value, false);
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

k8s::Result<AwsCredentials> CredentialsFromDirectory(const std::string& dir) {
  AwsCredentials creds;
  creds.source = "directory " + dir;
  auto key = ReadTrimmed(dir + "/AWS_ACCESS_KEY_ID");
  auto secret = ReadTrimmed(dir + "/AWS_SECRET_ACCESS_KEY");
  if (!key.ok() || !secret.ok()) {
    return k8s::Status::InvalidArgument("credentials directory " + dir +
                                        " must hold the files AWS_ACCESS_KEY_ID and "
                                        "AWS_SECRET_ACCESS_KEY (the keys of the Secret)");
  }
  creds.access_key_id = *key;
  creds.secret_access_key = *secret;
  if (auto token = ReadTrimmed(dir + "/AWS_SESSION_TOKEN"); token.ok()) {
    creds.session_token = *token;
  }
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return k8s::Status::InvalidArgument("credentials directory " + dir +
                                        ": AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is empty");
  }
  return creds;
}

k8s::Result<std::optional<AwsCredentials>> CredentialsFromEnv(const EnvLookup& env) {
  auto key = env("AWS_ACCESS_KEY_ID");
  if (!key) return std::optional<AwsCredentials>();
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (key->empty() || !secret || secret->empty()) {
    return k8s::Status::InvalidArgument(
        "AWS_ACCESS_KEY_ID is set but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is empty");
  }
  AwsCredentials creds{*key, *secret, env("AWS_SESSION_TOKEN").value_or(""), "environment"};
  return std::optional<AwsCredentials>(creds);
}

k8s::Result<std::optional<WebIdentity>> WebIdentityFromEnv(const EnvLookup& env) {
  auto role = env("AWS_ROLE_ARN");
  if (!role || role->empty()) return std::optional<WebIdentity>();
  auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!token_file || token_file->empty()) {
    return k8s::Status::InvalidArgument(
        "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
  }
  auto token = ReadTrimmed(*token_file);
  if (!token.ok()) {
    return k8s::Status::InvalidArgument("AWS_WEB_IDENTITY_TOKEN_FILE: " + token.status().message());
  }
  WebIdentity identity;
  identity.role_arn = *role;
  identity.token = *token;
  identity.session_name = env("AWS_ROLE_SESSION_NAME").value_or("stepline-artifacts");
  identity.sts_endpoint = env("AWS_ENDPOINT_URL_STS").value_or("");
  identity.region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(identity.region));
  return std::optional<WebIdentity>(identity);
}

StsRequest BuildAssumeRoleWithWebIdentity(const WebIdentity& identity) {
  StsRequest req;
  req.url = identity.sts_endpoint.empty() ? "https://sts." + identity.region + ".amazonaws.com/"
                                          : identity.sts_endpoint;
  if (req.url.back() != '/') req.url += '/';
  req.body = FormField("Action", "AssumeRoleWithWebIdentity") + "&" +
             FormField("DurationSeconds", std::to_string(identity.duration_seconds)) + "&" +
             FormField("RoleArn", identity.role_arn) + "&" +
             FormField("RoleSessionName", identity.session_name) + "&" +
             FormField("Version", "2011-06-15") + "&" +
             FormField("WebIdentityToken", identity.token);
  return req;
}

k8s::Result<AwsCredentials> ParseAssumeRoleResponse(int http_code, const std::string& body) {
  if (http_code != 200) {
    std::string code = XmlText(body, "Code");
    std::string message = XmlText(body, "Message");
    return k8s::Status(
        http_code == 403 ? k8s::StatusCode::kForbidden : k8s::StatusCode::kUnavailable,
        "STS AssumeRoleWithWebIdentity: " + (code.empty() ? std::string("HTTP error") : code) +
            (message.empty() ? "" : ": " + message) + " (HTTP " + std::to_string(http_code) + ")",
        http_code);
  }
  auto result = XmlElements(body, "Credentials");
  AwsCredentials creds;
  if (!result.empty()) {
    creds.access_key_id = XmlText(result.front(), "AccessKeyId");
    creds.secret_access_key = XmlText(result.front(), "SecretAccessKey");
    creds.session_token = XmlText(result.front(), "SessionToken");
  }
  creds.source = "STS AssumeRoleWithWebIdentity";
  if (creds.access_key_id.empty() || creds.secret_access_key.empty() ||
      creds.session_token.empty()) {
    return k8s::Status::Internal(
        "STS AssumeRoleWithWebIdentity: the answer holds no Credentials "
        "(AccessKeyId, SecretAccessKey, SessionToken)");
  }
  return creds;
}

}  // namespace stepline::artifacts
