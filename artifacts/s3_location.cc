#include "artifacts/s3_location.h"

#include <cctype>

#include "k8sclient/api_client.h"

namespace stepline::artifacts {

namespace {

// Bucket names as S3 allows them today: 3-63 of a-z 0-9 . -, starting and ending alphanumeric.
bool ValidBucketName(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(bucket.front())) &&
         std::isalnum(static_cast<unsigned char>(bucket.back()));
}

struct SplitUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // host[:port]
  std::string rest;    // whatever follows the authority
};

SplitUrl Split(const std::string& url) {
  SplitUrl out;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return out;
  out.scheme = url.substr(0, scheme_end);
  auto host_begin = scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_begin);
  out.host = url.substr(host_begin,
                        host_end == std::string::npos ? std::string::npos : host_end - host_begin);
  if (host_end != std::string::npos) out.rest = url.substr(host_end);
  return out;
}

}  // namespace

k8s::Result<S3Location> ParseS3Uri(const std::string& uri) {
  const std::string scheme = "s3://";
  if (uri.rfind(scheme, 0) != 0) {
    return k8s::Status::InvalidArgument("\"" + uri + "\" is not an s3:// URI (s3://BUCKET/KEY)");
  }
  std::string rest = uri.substr(scheme.size());
  auto slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) loc.key = rest.substr(slash + 1);
  if (!ValidBucketName(loc.bucket)) {
    return k8s::Status::InvalidArgument("\"" + uri + "\": \"" + loc.bucket +
                                        "\" is not a valid bucket name (3-63 characters of "
                                        "a-z, 0-9, '.' and '-', starting and ending with a "
                                        "letter or digit)");
  }
  if (loc.key.find("//") != std::string::npos) {
    return k8s::Status::InvalidArgument("\"" + uri + "\": the key has an empty path segment");
  }
  return loc;
}

std::string EndpointBase(const S3Endpoint& endpoint) {
  std::string base =
      endpoint.url.empty() ? "https://s3." + endpoint.region + ".amazonaws.com" : endpoint.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

k8s::Status ValidateEndpoint(const S3Endpoint& endpoint) {
  if (endpoint.url.empty()) return {};
  SplitUrl parts = Split(endpoint.url);
  if (parts.scheme != "http" && parts.scheme != "https") {
    return k8s::Status::InvalidArgument("endpoint \"" + endpoint.url +
                                        "\" must start with http:// or https://");
  }
  if (parts.host.empty() || parts.host.find('@') != std::string::npos) {
    return k8s::Status::InvalidArgument("endpoint \"" + endpoint.url +
                                        "\" must name a host (and no credentials)");
  }
  if (!parts.rest.empty() && parts.rest != "/") {
    return k8s::Status::InvalidArgument("endpoint \"" + endpoint.url +
                                        "\" must not have a path or query");
  }
  if (endpoint.region.empty()) return k8s::Status::InvalidArgument("the region is empty");
  return {};
}

std::string UriEncode(const std::string& value, bool keep_slash) {
  if (!keep_slash) return k8s::QueryEscape(value);
  std::string out;
  size_t begin = 0;
  for (size_t slash; (slash = value.find('/', begin)) != std::string::npos; begin = slash + 1) {
    out += k8s::QueryEscape(std::string_view(value).substr(begin, slash - begin)) + "/";
  }
  return out + k8s::QueryEscape(std::string_view(value).substr(begin));
}

std::string ObjectUrl(const S3Endpoint& endpoint, const std::string& bucket, const std::string& key,
                      const std::string& query) {
  std::string base = EndpointBase(endpoint);
  std::string url;
  if (endpoint.addressing == Addressing::kPathStyle) {
    url = base + "/" + bucket + (key.empty() ? "" : "/" + UriEncode(key, true));
  } else {
    SplitUrl parts = Split(base);
    url = parts.scheme + "://" + bucket + "." + parts.host + "/" + UriEncode(key, true);
  }
  if (!query.empty()) url += "?" + query;
  return url;
}

std::string JoinKey(const std::string& prefix, const std::string& rest) {
  if (prefix.empty()) return rest;
  if (rest.empty()) return prefix;
  std::string out = prefix;
  while (!out.empty() && out.back() == '/') out.pop_back();
  size_t skip = 0;
  while (skip < rest.size() && rest[skip] == '/') ++skip;
  return out + "/" + rest.substr(skip);
}

}  // namespace stepline::artifacts
