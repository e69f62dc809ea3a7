#include "artifacts/s3_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "artifacts/s3_http.h"
#include "artifacts/xml_text.h"
#include "k8sclient/api_error.h"
#include "k8sclient/loopback_server.h"

namespace stepline::artifacts {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxParts = 10'000;  // S3's limit

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileClose>;

// "PUT s3://b/k: NoSuchBucket: The specified bucket does not exist (HTTP 404 from URL)".
k8s::Status StorageError(const std::string& op, const S3Location& where, const HttpAnswer& a,
                         const S3Endpoint& endpoint) {
  std::string code = XmlText(a.body, "Code");
  std::string message = XmlText(a.body, "Message");
  std::string what = code.empty() ? "HTTP error" : code;
  if (!message.empty()) what += ": " + message;
  return k8s::Status(k8s::StatusCodeForHttp(a.http_code),
                     op + " " + where.Uri() + ": " + what + " (HTTP " +
                         std::to_string(a.http_code) + " from " + EndpointBase(endpoint) + ")",
                     a.http_code, code);
}

k8s::Status Prefixed(const std::string& op, const S3Location& where, const k8s::Status& s) {
  return k8s::Status(s.code(), op + " " + where.Uri() + ": " + s.message(), s.http_code(),
                     s.reason());
}

bool Ok(const HttpAnswer& a) { return a.http_code >= 200 && a.http_code < 300; }

// A listed key as a path below dir; refuses keys that would leave it.
k8s::Result<fs::path> PathBelow(const fs::path& dir, const std::string& relative) {
  fs::path rel(relative);
  for (const auto& part : rel) {
    if (part == ".." || part == "." || rel.is_absolute()) {
      return k8s::Status::InvalidArgument("the key \"" + relative +
                                          "\" does not name a path inside the directory");
    }
  }
  return dir / rel;
}

}  // namespace

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)) {}

HttpSettings S3Client::Settings() const {
  bool anonymous = options_.credentials.access_key_id.empty();
  return HttpSettings{anonymous ? nullptr : &options_.credentials, options_.endpoint.region,
                      options_.ca_file, options_.resolve, options_.connect_timeout_ms};
}

k8s::Result<int> S3Client::GetObjectIfExists(const S3Location& object, const std::string& path) {
  fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  std::string part = path + ".part";
  File out(std::fopen(part.c_str(), "wb"));
  if (!out) {
    return k8s::Status::InvalidArgument("GET " + object.Uri() + ": cannot write " + part + ": " +
                                        std::strerror(errno));
  }
  HttpCall call{"GET", ObjectUrl(options_.endpoint, object.bucket, object.key)};
  call.sink_file = out.get();
  HttpSettings settings = Settings();
  auto answer = Perform(call, settings);
  bool flushed = std::fflush(out.get()) == 0;
  out.reset();
  if (!answer.ok() || !Ok(*answer) || !flushed) {
    fs::remove(part, ec);
    if (!answer.ok()) return Prefixed("GET", object, answer.status());
    if (!flushed)
      return k8s::Status::Internal("GET " + object.Uri() + ": writing " + path + " failed");
    if (answer->http_code == 404 && XmlText(answer->body, "Code") == "NoSuchKey") return 404;
    return StorageError("GET", object, *answer, options_.endpoint);
  }
  fs::rename(part, target, ec);
  if (ec) return k8s::Status::Internal("GET " + object.Uri() + ": " + ec.message());
  return 200;
}

k8s::Status S3Client::GetObject(const S3Location& object, const std::string& path) {
  auto got = GetObjectIfExists(object, path);
  if (!got.ok()) return got.status();
  if (*got == 404) return k8s::Status::NotFound("GET " + object.Uri() + ": NoSuchKey");
  return {};
}

k8s::Status S3Client::PutObject(const std::string& path, const S3Location& object) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return k8s::Status::InvalidArgument("PUT " + object.Uri() + ": " + path +
                                        " is not a readable file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > options_.part_size) return PutMultipart(path, size, object);
  File in(std::fopen(path.c_str(), "rb"));
  if (!in) return k8s::Status::InvalidArgument("PUT " + object.Uri() + ": cannot read " + path);
  HttpCall call{"PUT", ObjectUrl(options_.endpoint, object.bucket, object.key)};
  call.body_file = in.get();
  call.body_length = size;
  call.headers.push_back("Content-Type: application/octet-stream");
  HttpSettings settings = Settings();
  auto answer = Perform(call, settings);
  if (!answer.ok()) return Prefixed("PUT", object, answer.status());
  if (!Ok(*answer)) return StorageError("PUT", object, *answer, options_.endpoint);
  return {};
}

k8s::Status S3Client::PutMultipart(const std::string& path, uint64_t size,
                                   const S3Location& object) {
  HttpSettings settings = Settings();
  uint64_t part_size = options_.part_size;
  while ((size + part_size - 1) / part_size > kMaxParts) part_size *= 2;
  HttpCall create{"POST", ObjectUrl(options_.endpoint, object.bucket, object.key, "uploads=")};
  create.headers.push_back("Content-Type: application/octet-stream");
  auto created = Perform(create, settings);
  if (!created.ok()) return Prefixed("CreateMultipartUpload", object, created.status());
  if (!Ok(*created)) {
    return StorageError("CreateMultipartUpload", object, *created, options_.endpoint);
  }
  std::string upload_id = XmlText(created->body, "UploadId");
  std::string id_query = "uploadId=" + UriEncode(upload_id, false);
  auto abort = [&](k8s::Status why) {
    HttpCall del{"DELETE", ObjectUrl(options_.endpoint, object.bucket, object.key, id_query)};
    (void)Perform(del, settings);  // best effort; the first error is what matters
    return why;
  };
  File in(std::fopen(path.c_str(), "rb"));
  if (!in)
    return abort(k8s::Status::InvalidArgument("PUT " + object.Uri() + ": cannot read " + path));
  std::string complete = "<CompleteMultipartUpload>";
  for (uint64_t offset = 0, number = 1; offset < size; offset += part_size, ++number) {
    HttpCall part{"PUT", ObjectUrl(options_.endpoint, object.bucket, object.key,
                                   "partNumber=" + std::to_string(number) + "&" + id_query)};
    part.body_file = in.get();
    part.body_offset = offset;
    part.body_length = std::min(part_size, size - offset);
    auto sent = Perform(part, settings);
    std::string op = "UploadPart " + std::to_string(number);
    if (!sent.ok()) return abort(Prefixed(op, object, sent.status()));
    if (!Ok(*sent)) return abort(StorageError(op, object, *sent, options_.endpoint));
    complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
                k8s::HtmlEscape(sent->etag) + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  HttpCall finish{"POST", ObjectUrl(options_.endpoint, object.bucket, object.key, id_query)};
  finish.body = complete;
  finish.headers.push_back("Content-Type: application/xml");
  auto done = Perform(finish, settings);
  if (!done.ok()) return abort(Prefixed("CompleteMultipartUpload", object, done.status()));
  // S3 may answer 200 with an <Error> body when completing fails late.
  if (!Ok(*done) || done->body.find("<Error>") != std::string::npos) {
    return abort(StorageError("CompleteMultipartUpload", object, *done, options_.endpoint));
  }
  return {};
}

k8s::Result<std::vector<ObjectInfo>> S3Client::List(const S3Location& prefix) {
  HttpSettings settings = Settings();
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    // Parameters in the order SigV4's canonical query string sorts them.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + UriEncode(token, false) + "&";
    query += "list-type=2&prefix=" + UriEncode(prefix.key, false);
    HttpCall call{"GET", ObjectUrl(options_.endpoint, prefix.bucket, "", query)};
    auto answer = Perform(call, settings);
    if (!answer.ok()) return Prefixed("ListObjectsV2", prefix, answer.status());
    if (!Ok(*answer)) return StorageError("ListObjectsV2", prefix, *answer, options_.endpoint);
    for (auto contents : XmlElements(answer->body, "Contents")) {
      ObjectInfo info{XmlText(contents, "Key"), 0};
      std::string size = XmlText(contents, "Size");
      if (!size.empty()) info.size = std::stoull(size);
      out.push_back(std::move(info));
    }
    if (XmlText(answer->body, "IsTruncated") != "true") break;
    token = XmlText(answer->body, "NextContinuationToken");
    if (token.empty()) break;
  }
  return out;
}

k8s::Result<TransferSummary> S3Client::Download(const S3Location& location,
                                                const std::string& path) {
  TransferSummary summary;
  if (!location.key.empty() && location.key.back() != '/') {
    // A path ending in '/' is a directory: the object goes into it under its key's last segment
    // (as SageMaker stages an S3Prefix input that names one object).
    const std::string file = !path.empty() && path.back() == '/'
                                 ? path + location.key.substr(location.key.rfind('/') + 1)
                                 : path;
    auto got = GetObjectIfExists(location, file);
    if (!got.ok()) return got.status();
    if (*got == 200) {
      std::error_code ec;
      return TransferSummary{1, fs::file_size(file, ec)};
    }
  }
  S3Location prefix{location.bucket, location.key.empty() ? "" : JoinKey(location.key, "") + "/"};
  if (!location.key.empty() && location.key.back() == '/') prefix.key = location.key;
  auto listed = List(prefix);
  if (!listed.ok()) return listed.status();
  for (const auto& object : *listed) {
    if (object.key.back() == '/') continue;  // "folder" placeholders
    auto target = PathBelow(path, object.key.substr(prefix.key.size()));
    if (!target.ok()) return Prefixed("GET", {location.bucket, object.key}, target.status());
    auto status = GetObject({location.bucket, object.key}, target->string());
    if (!status.ok()) return status;
    summary.objects++;
    summary.bytes += object.size;
  }
  if (summary.objects == 0) {
    std::string under = S3Location{location.bucket, prefix.key}.Uri();
    if (prefix.key.empty()) under += "/";
    return k8s::Status::NotFound("GET " + location.Uri() + ": NoSuchKey: no object " +
                                 location.Uri() + " and no objects under " + under);
  }
  return summary;
}

k8s::Result<TransferSummary> S3Client::Upload(const std::string& path, const S3Location& location) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return k8s::Status::NotFound("upload to " + location.Uri() + ": " + path +
                                 " does not exist (the step wrote nothing there)");
  }
  TransferSummary summary;
  if (fs::is_regular_file(status)) {
    if (auto put = PutObject(path, location); !put.ok()) return put;
    return TransferSummary{1, fs::file_size(path, ec)};
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return k8s::Status::Internal("upload " + path + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::string rel = fs::relative(file, path).generic_string();
    S3Location object{location.bucket, JoinKey(location.key, rel)};
    if (auto put = PutObject(file.string(), object); !put.ok()) return put;
    summary.objects++;
    summary.bytes += fs::file_size(file, ec);
  }
  return summary;
}

k8s::Result<AwsCredentials> AssumeRoleWithWebIdentity(const WebIdentity& identity,
                                                      const std::string& ca_file) {
  StsRequest req = BuildAssumeRoleWithWebIdentity(identity);
  HttpCall call{"POST", req.url};
  call.body = req.body;
  call.headers.push_back("Content-Type: application/x-www-form-urlencoded; charset=utf-8");
  HttpSettings settings;
  settings.ca_file = ca_file;
  auto answer = Perform(call, settings);
  if (!answer.ok()) return answer.status();
  return ParseAssumeRoleResponse(answer->http_code, answer->body);
}

}  // namespace stepline::artifacts
