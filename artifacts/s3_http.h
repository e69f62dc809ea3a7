// One HTTP exchange with an S3 (or STS) endpoint over libcurl: the request body from a string or
// a region of a file, the response body to a string (bounded) or, when the status is 2xx, to a
// file; signed with SigV4 (CURLOPT_AWS_SIGV4, service s3) when credentials are given.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "artifacts/aws_credentials.h"
#include "k8sclient/status.h"

namespace stepline::artifacts {

struct HttpCall {
  std::string method;  // GET, PUT, POST, DELETE, HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Request body: a string, or length bytes of body_file from offset.
  std::string body;
  std::FILE* body_file = nullptr;
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
  // Response body of a 2xx answer goes here when set (else into HttpAnswer::body).
  std::FILE* sink_file = nullptr;
};

struct HttpAnswer {
  int http_code = 0;
  std::string body;  // error bodies and small answers, at most 1 MiB
  std::string etag;
  uint64_t bytes_written = 0;  // to sink_file
};

struct HttpSettings {
  const AwsCredentials* credentials = nullptr;  // null = unsigned
  std::string region = "us-east-1";
  std::string ca_file;
  std::vector<std::string> resolve;
  long connect_timeout_ms = 10'000;
  long timeout_ms = 0;  // the whole exchange; 0: none (a dead peer still fails after 60 s)
};

// Performs the call. A transport failure (no answer) is a kTransport/kTimeout Status naming the
// URL and curl's message; any HTTP answer, 4xx and 5xx included, is returned as such.
k8s::Result<HttpAnswer> Perform(const HttpCall& call, const HttpSettings& settings);

// The start of an answer's body on one line, for messages: at most 512 bytes ("..." after a cut),
// line breaks as spaces, trailing spaces dropped; "(empty answer)" when nothing is left.
std::string AnswerExcerpt(const std::string& body);

// Hex SHA-256 of data (the x-amz-content-sha256 of small bodies).
std::string Sha256Hex(const std::string& data);

}  // namespace stepline::artifacts
