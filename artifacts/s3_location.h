// Where an S3 object lives and how to address it: `s3://bucket/key` URIs, an endpoint (AWS or any
// S3-compatible server: MinIO, Ceph RGW, ...), path-style or virtual-hosted addressing, and the
// URI encoding of keys that S3 and SigV4 expect. Pure functions, no I/O.
#pragma once

#include <string>

#include "k8sclient/status.h"

namespace stepline::artifacts {

struct S3Location {
  std::string bucket;
  std::string key;  // may be empty (the bucket itself) or a prefix
  std::string Uri() const { return "s3://" + bucket + (key.empty() ? "" : "/" + key); }
};

// Parses `s3://bucket[/key]`. Errors name the URI and what is wrong with it.
k8s::Result<S3Location> ParseS3Uri(const std::string& uri);

enum class Addressing { kPathStyle, kVirtualHosted };

struct S3Endpoint {
  // "scheme://host[:port]" without a path; empty means AWS: https://s3.<region>.amazonaws.com.
  std::string url;
  std::string region = "us-east-1";
  Addressing addressing = Addressing::kVirtualHosted;
};

// The endpoint's base URL (the AWS default when url is empty), without a trailing slash.
std::string EndpointBase(const S3Endpoint& endpoint);

// Checks that the endpoint URL is http(s)://host[:port] with no path, query or credentials.
k8s::Status ValidateEndpoint(const S3Endpoint& endpoint);

// The URL of an object (or of the bucket when key is empty): path-style
// `<endpoint>/<bucket>/<key>` or virtual-hosted `<scheme>://<bucket>.<host>/<key>`, the key
// encoded by EncodeKey. `query` (already encoded, without '?') is appended when not empty.
std::string ObjectUrl(const S3Endpoint& endpoint, const std::string& bucket, const std::string& key,
                      const std::string& query = "");

// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~);
// with keep_slash, '/' stays as is (object keys in paths).
std::string UriEncode(const std::string& value, bool keep_slash);

// Joins a prefix and a relative key with exactly one '/' between them.
std::string JoinKey(const std::string& prefix, const std::string& rest);

}  // namespace stepline::artifacts
