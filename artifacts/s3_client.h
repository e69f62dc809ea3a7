// S3Client: GET, PUT (multipart for large files), List and the two operations Stepline's
// staging needs, Download (an object to a file, or every object under a prefix to a directory)
// and Upload (a file to an object, or a directory to objects under a prefix), against AWS or
// any S3-compatible endpoint, path-style or virtual-hosted, signed with AWS Signature Version 4
// by libcurl (CURLOPT_AWS_SIGV4).
//
// Bodies stream between the network and files: a download is written as it arrives (to
// PATH.part, renamed when complete), an upload is read from the file as it is sent, one part
// at a time for multipart uploads; no object is held in memory. Payloads of file transfers are
// sent as UNSIGNED-PAYLOAD (the signature covers the headers, not the bytes; use https).
//
// Errors carry the storage's own code and message ("NoSuchBucket: The specified bucket does
// not exist"), the operation, the s3:// URI and the HTTP status.
//
// Thread-safety: an S3Client is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "artifacts/aws_credentials.h"
#include "artifacts/s3_http.h"
#include "artifacts/s3_location.h"
#include "k8sclient/status.h"

namespace stepline::artifacts {

struct S3ClientOptions {
  S3Endpoint endpoint;
  AwsCredentials credentials;        // an empty access key id sends unsigned (anonymous) requests
  std::string ca_file;               // "" = the system's CAs
  std::vector<std::string> resolve;  // CURLOPT_RESOLVE entries, "HOST:PORT:ADDRESS"
  uint64_t part_size = uint64_t{64} << 20;  // files larger than this go up in parts of it
  long connect_timeout_ms = 10'000;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

// What a Download or Upload moved, for logs and tests.
struct TransferSummary {
  int objects = 0;
  uint64_t bytes = 0;
};

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);

  // Streams one object into path (written to path + ".part", renamed when complete).
  [[nodiscard]] k8s::Status GetObject(const S3Location& object, const std::string& path);
  // Sends one file; files larger than part_size use a multipart upload (aborted on failure).
  [[nodiscard]] k8s::Status PutObject(const std::string& path, const S3Location& object);
  // Every object whose key starts with prefix.key (all pages).
  [[nodiscard]] k8s::Result<std::vector<ObjectInfo>> List(const S3Location& prefix);

  // The object at location into the file path (a path ending in '/' is a directory: the file is
  // made in it under the key's last segment); or, when there is none, every object under
  // location.key + "/" into the directory path (keys become relative paths). NotFound when
  // neither exists.
  [[nodiscard]] k8s::Result<TransferSummary> Download(const S3Location& location,
                                                      const std::string& path);
  // A file to the object location, or a directory's files (recursively) under location.key.
  [[nodiscard]] k8s::Result<TransferSummary> Upload(const std::string& path,
                                                    const S3Location& location);

 private:
  k8s::Status PutMultipart(const std::string& path, uint64_t size, const S3Location& object);
  k8s::Result<int> GetObjectIfExists(const S3Location& object, const std::string& path);

  HttpSettings Settings() const;

  S3ClientOptions options_;
};

// Sends an AssumeRoleWithWebIdentity request and reads its answer.
k8s::Result<AwsCredentials> AssumeRoleWithWebIdentity(const WebIdentity& identity,
                                                      const std::string& ca_file);

}  // namespace stepline::artifacts
