#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "artifacts/aws_credentials.h"

namespace stepline::artifacts {
namespace {

namespace fs = std::filesystem;

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/stepline-creds-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CredentialsFromDirectory, ReadsTheSecretsKeys) {
  TempDir dir;
  dir.Write("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE\n");
  dir.Write("AWS_SECRET_ACCESS_KEY", "secret");
  auto creds = CredentialsFromDirectory(dir.path());
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ(creds->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(creds->secret_access_key, "secret");
  EXPECT_EQ(creds->session_token, "");
  dir.Write("AWS_SESSION_TOKEN", "tok\n");
  EXPECT_EQ(CredentialsFromDirectory(dir.path())->session_token, "tok");
}

TEST(CredentialsFromDirectory, NamesWhatIsMissing) {
  TempDir dir;
  dir.Write("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  auto creds = CredentialsFromDirectory(dir.path());
  ASSERT_FALSE(creds.ok());
  EXPECT_NE(creds.status().message().find(dir.path()), std::string::npos);
  EXPECT_NE(creds.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(CredentialsFromEnv, KeysTokenAndHalfSetKeys) {
  auto none = CredentialsFromEnv(MapEnv({}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto full = CredentialsFromEnv(MapEnv(
      {{"AWS_ACCESS_KEY_ID", "k"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_SESSION_TOKEN", "t"}}));
  ASSERT_TRUE(full.ok() && full->has_value());
  EXPECT_EQ((*full)->session_token, "t");
  EXPECT_FALSE(CredentialsFromEnv(MapEnv({{"AWS_ACCESS_KEY_ID", "k"}})).ok());
}

TEST(WebIdentity, FromTheEnvironmentAsOnEks) {
  TempDir dir;
  std::string token_file = dir.Write("token", "eyJhbGciOi.payload.sig\n");
  auto identity = WebIdentityFromEnv(MapEnv({{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ml"},
                                             {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                             {"AWS_REGION", "eu-west-1"}}));
  ASSERT_TRUE(identity.ok() && identity->has_value()) << identity.status().message();
  EXPECT_EQ((*identity)->token, "eyJhbGciOi.payload.sig");
  EXPECT_EQ((*identity)->session_name, "stepline-artifacts");
  EXPECT_EQ((*identity)->region, "eu-west-1");
  EXPECT_FALSE(WebIdentityFromEnv(MapEnv({{"AWS_ROLE_ARN", "arn:x"}})).ok());
  EXPECT_FALSE(WebIdentityFromEnv(MapEnv({}))->has_value());
}

TEST(AssumeRoleWithWebIdentity, TheRequest) {
  WebIdentity identity;
  identity.role_arn = "arn:aws:iam::123456789012:role/ml";
  identity.token = "a.b/c+d=";
  identity.session_name = "run-1";
  identity.region = "eu-west-1";
  StsRequest req = BuildAssumeRoleWithWebIdentity(identity);
  EXPECT_EQ(req.url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(req.body,
            "Action=AssumeRoleWithWebIdentity&DurationSeconds=3600"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fml&RoleSessionName=run-1"
            "&Version=2011-06-15&WebIdentityToken=a.b%2Fc%2Bd%3D");
  identity.sts_endpoint = "http://127.0.0.1:8080";
  EXPECT_EQ(BuildAssumeRoleWithWebIdentity(identity).url, "http://127.0.0.1:8080/");
}

TEST(AssumeRoleWithWebIdentity, TheAnswer) {
  std::string ok =
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
      "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>system:serviceaccount:ml:"
      "trainer</SubjectFromWebIdentityToken><Credentials><SessionToken>TOKEN</SessionToken>"
      "<SecretAccessKey>SECRET</SecretAccessKey><Expiration>2026-12-06T10:00:00Z</Expiration>"
      "<AccessKeyId>ASIAEXAMPLE</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>"
      "</AssumeRoleWithWebIdentityResponse>";
  auto creds = ParseAssumeRoleResponse(200, ok);
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ(creds->access_key_id, "ASIAEXAMPLE");
  EXPECT_EQ(creds->secret_access_key, "SECRET");
  EXPECT_EQ(creds->session_token, "TOKEN");

  std::string denied =
      "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not "
      "authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>";
  auto refused = ParseAssumeRoleResponse(403, denied);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "STS AssumeRoleWithWebIdentity: AccessDenied: Not authorized to perform "
            "sts:AssumeRoleWithWebIdentity (HTTP 403)");
  EXPECT_FALSE(ParseAssumeRoleResponse(200, "<x/>").ok());
}

}  // namespace
}  // namespace stepline::artifacts
