#include <gtest/gtest.h>

#include "artifacts/s3_location.h"
#include "artifacts/xml_text.h"

namespace stepline::artifacts {
namespace {

TEST(ParseS3Uri, Table) {
  struct Case {
    std::string name, uri;
    bool ok;
    std::string bucket, key, error;
  };
  std::vector<Case> cases = {
      {"object", "s3://my-bucket/a/b.csv", true, "my-bucket", "a/b.csv", ""},
      {"bucket only", "s3://my.bucket", true, "my.bucket", "", ""},
      {"prefix", "s3://bkt/run/out/", true, "bkt", "run/out/", ""},
      {"not s3", "https://x/y", false, "", "", "is not an s3:// URI"},
      {"short bucket", "s3://b1/k", false, "", "", "\"b1\" is not a valid bucket name"},
      {"upper case", "s3://MyBucket/k", false, "", "", "not a valid bucket name"},
      {"empty segment", "s3://bkt/a//b", false, "", "", "empty path segment"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = ParseS3Uri(c.uri);
    ASSERT_EQ(got.ok(), c.ok) << got.status().message();
    if (c.ok) {
      EXPECT_EQ(got->bucket, c.bucket);
      EXPECT_EQ(got->key, c.key);
      EXPECT_EQ(got->Uri(), c.uri);
    } else {
      EXPECT_NE(got.status().message().find(c.error), std::string::npos) << got.status().message();
    }
  }
}

TEST(ObjectUrl, PathStyleAndVirtualHosted) {
  S3Endpoint minio{"http://minio.example:9000", "eu-west-1", Addressing::kPathStyle};
  EXPECT_EQ(ObjectUrl(minio, "bkt", "a b/c+d.txt"),
            "http://minio.example:9000/bkt/a%20b/c%2Bd.txt");
  EXPECT_EQ(ObjectUrl(minio, "bkt", "", "list-type=2&prefix=x%2F"),
            "http://minio.example:9000/bkt?list-type=2&prefix=x%2F");
  S3Endpoint aws{"", "eu-west-1", Addressing::kVirtualHosted};
  EXPECT_EQ(ObjectUrl(aws, "bkt", "model/model.tar.gz"),
            "https://bkt.s3.eu-west-1.amazonaws.com/model/model.tar.gz");
  S3Endpoint ceph{"https://rgw.example/", "us-east-1", Addressing::kVirtualHosted};
  EXPECT_EQ(ObjectUrl(ceph, "bkt", "k", "uploads="), "https://bkt.rgw.example/k?uploads=");
}

TEST(ValidateEndpoint, RefusesWhatIsNotAnEndpoint) {
  EXPECT_TRUE(ValidateEndpoint({"", "us-east-1"}).ok());
  EXPECT_TRUE(ValidateEndpoint({"http://127.0.0.1:9000", "us-east-1"}).ok());
  EXPECT_FALSE(ValidateEndpoint({"ftp://host", "us-east-1"}).ok());
  EXPECT_FALSE(ValidateEndpoint({"http://host/bucket", "us-east-1"}).ok());
  EXPECT_FALSE(ValidateEndpoint({"http://user:pw@host", "us-east-1"}).ok());
  EXPECT_FALSE(ValidateEndpoint({"http://host", ""}).ok());
}

TEST(UriEncode, Rfc3986Unreserved) {
  EXPECT_EQ(UriEncode("aZ09-._~", false), "aZ09-._~");
  EXPECT_EQ(UriEncode("a/b c=é", false), "a%2Fb%20c%3D%C3%A9");
  EXPECT_EQ(UriEncode("a/b c", true), "a/b%20c");
}

TEST(JoinKey, OneSlash) {
  EXPECT_EQ(JoinKey("run/out/", "/a.txt"), "run/out/a.txt");
  EXPECT_EQ(JoinKey("", "a.txt"), "a.txt");
  EXPECT_EQ(JoinKey("p", ""), "p");
}

TEST(XmlText, ErrorsListingsAndEscapes) {
  std::string error =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The &quot;b&quot; "
      "bucket &amp; more</Message></Error>";
  EXPECT_EQ(XmlText(error, "Code"), "NoSuchBucket");
  EXPECT_EQ(XmlText(error, "Message"), "The \"b\" bucket & more");
  EXPECT_EQ(XmlText(error, "Missing"), "");
  std::string list =
      "<ListBucketResult xmlns=\"x\"><Contents><Key>a</Key><Size>1</Size></Contents>"
      "<Contents><Key>b&lt;c</Key><Size>22</Size></Contents></ListBucketResult>";
  auto contents = XmlElements(list, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(XmlText(contents[1], "Key"), "b<c");
  EXPECT_EQ(XmlText(list, "ListBucketResult").substr(0, 10), "<Contents>");
}

}  // namespace
}  // namespace stepline::artifacts
