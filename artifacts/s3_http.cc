#include "artifacts/s3_http.h"

#include <curl/curl.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

namespace stepline::artifacts {

namespace {

constexpr size_t kMaxAnswerBody = size_t{1} << 20;

struct Transfer {
  CURL* curl = nullptr;
  const HttpCall* call = nullptr;
  HttpAnswer* answer = nullptr;
  size_t body_sent = 0;       // of call->body
  uint64_t file_left = 0;     // of call->body_file's region
  bool write_failed = false;  // the sink file refused bytes
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (t->call->sink_file != nullptr && code >= 200 && code < 300) {
    if (std::fwrite(data, 1, len, t->call->sink_file) != len) {
      t->write_failed = true;
      return 0;  // aborts the transfer
    }
    t->answer->bytes_written += len;
    return len;
  }
  size_t room = kMaxAnswerBody - std::min(kMaxAnswerBody, t->answer->body.size());
  t->answer->body.append(data, std::min(len, room));
  return len;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t want = size * n;
  if (t->call->body_file != nullptr) {
    want = static_cast<size_t>(std::min<uint64_t>(want, t->file_left));
    if (want == 0) return 0;
    size_t got = std::fread(buffer, 1, want, t->call->body_file);
    if (got == 0) return CURL_READFUNC_ABORT;  // the file shrank or failed
    t->file_left -= got;
    return got;
  }
  size_t left = t->call->body.size() - t->body_sent;
  size_t take = std::min(want, left);
  std::memcpy(buffer, t->call->body.data() + t->body_sent, take);
  t->body_sent += take;
  return take;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.size() > 5 && strncasecmp(line.c_str(), "etag:", 5) == 0) {
    std::string value = line.substr(5);
    auto first = value.find_first_not_of(" \t");
    auto last = value.find_last_not_of(" \t\r\n");
    t->answer->etag = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  }
  return size * n;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

bool HasBody(const HttpCall& call) {
  return call.body_file != nullptr || !call.body.empty() || call.method == "PUT" ||
         call.method == "POST";
}

void SetMethodAndBody(CURL* curl, const HttpCall& call, Transfer* t) {
  uint64_t length = call.body_file != nullptr ? call.body_length : call.body.size();
  if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (HasBody(call)) {
    // UPLOAD sends PUT with a known length; other methods ride on it through CUSTOMREQUEST.
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, t);
    if (call.method != "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  } else if (call.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
}

}  // namespace

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

k8s::Result<HttpAnswer> Perform(const HttpCall& call, const HttpSettings& settings) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return k8s::Status::Internal("curl_easy_init failed");
  HttpAnswer answer;
  Transfer t{curl.get(), &call, &answer, 0, call.body_length, false};
  if (call.body_file != nullptr &&
      fseeko(call.body_file, static_cast<off_t>(call.body_offset), SEEK_SET) != 0) {
    return k8s::Status::InvalidArgument("cannot seek in the file to upload");
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "stepline-artifacts/0.1.0");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, settings.connect_timeout_ms);
  if (settings.timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, settings.timeout_ms);
  // Give up on a transfer that moves less than 1 byte/s for 60 s (a dead peer), never on a
  // slow but live one.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (!settings.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings.ca_file.c_str());
  std::unique_ptr<curl_slist, CurlFree> resolve;
  for (const auto& entry : settings.resolve) {
    resolve.reset(curl_slist_append(resolve.release(), entry.c_str()));
  }
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  SetMethodAndBody(c, call, &t);

  std::vector<std::string> headers = call.headers;
  std::string sigv4;
  std::string userpwd;
  if (settings.credentials != nullptr) {
    // curl signs the headers and takes the payload hash from x-amz-content-sha256.
    std::string payload = call.body_file != nullptr ? "UNSIGNED-PAYLOAD" : Sha256Hex(call.body);
    headers.push_back("x-amz-content-sha256: " + payload);
    if (!settings.credentials->session_token.empty()) {
      headers.push_back("x-amz-security-token: " + settings.credentials->session_token);
    }
    sigv4 = "aws:amz:" + settings.region + ":s3";
    userpwd = settings.credentials->access_key_id + ":" + settings.credentials->secret_access_key;
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
  }
  std::unique_ptr<curl_slist, CurlFree> list;
  for (const auto& h : headers) list.reset(curl_slist_append(list.release(), h.c_str()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());

  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  answer.http_code = static_cast<int>(code);
  if (t.write_failed) {
    return k8s::Status::Internal("writing the downloaded bytes failed: " +
                                 std::string(std::strerror(errno)));
  }
  if (rc != CURLE_OK) {
    auto kind =
        rc == CURLE_OPERATION_TIMEDOUT ? k8s::StatusCode::kTimeout : k8s::StatusCode::kTransport;
    return k8s::Status(kind, call.method + " " + call.url + ": " + curl_easy_strerror(rc));
  }
  return answer;
}

std::string AnswerExcerpt(const std::string& body) {
  std::string text = body.substr(0, 512);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "(empty answer)" : text + (body.size() > 512 ? "..." : "");
}

}  // namespace stepline::artifacts
