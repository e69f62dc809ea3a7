#include "k8sclient/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "k8sclient/log.h"
#include "k8sclient/retry.h"

namespace stepline::k8s {

// One request in flight, shared by the caller (waiting in Await) and the loop thread.
class CurlTransport::Exchange {
 public:
  Exchange(const HttpRequest& r, const CurlTransportOptions& o)
      : method(r.method),
        url(r.url),
        headers(r.headers),
        body(r.body),
        timeout(r.timeout),
        streaming(static_cast<bool>(r.on_body)),
        max_response_bytes(o.max_response_bytes),
        max_buffered(o.max_buffered_stream_bytes) {}

  // Constant after construction.
  const std::string method;
  const std::string url;
  const std::vector<std::pair<std::string, std::string>> headers;
  const std::string body;
  const std::chrono::milliseconds timeout;
  const bool streaming;
  const size_t max_response_bytes;
  const size_t max_buffered;

  // Loop thread only.
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  HttpResponse response;
  bool too_large = false;

  Mutex mu;
  CondVar cv;
  std::deque<std::string> chunks GUARDED_BY(mu);  // streamed body not yet handed over
  size_t buffered GUARDED_BY(mu) = 0;             // bytes in chunks
  bool paused GUARDED_BY(mu) = false;             // the loop paused the transfer (reader lags)
  bool abandoned GUARDED_BY(mu) = false;          // the caller wants no more data
  bool done GUARDED_BY(mu) = false;
  Status status GUARDED_BY(mu);        // set when done
  HttpResponse result GUARDED_BY(mu);  // set when done
};

namespace {

constexpr auto kWaitSlice = std::chrono::milliseconds(100);

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<CurlTransport::Exchange*>(user);
  std::string_view line = TrimLine(std::string_view(data, size * count));
  if (line.rfind("HTTP/", 0) == 0) {  // a new status line: a fresh header block
    ex->response.headers.clear();
    ex->response.protocol = std::string(line.substr(0, line.find(' ')));
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(TrimLine(line.substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    ex->response.headers[name] = std::string(TrimLine(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<CurlTransport::Exchange*>(user);
  const size_t len = size * count;
  if (ex->response.status == 0) {
    long code = 0;
    curl_easy_getinfo(ex->easy, CURLINFO_RESPONSE_CODE, &code);
    ex->response.status = static_cast<int>(code);
  }
  if (!ex->streaming || ex->response.status < 200 || ex->response.status >= 300) {
    if (ex->response.body.size() + len > ex->max_response_bytes) {
      ex->too_large = true;
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
    ex->response.body.append(data, len);
    return len;
  }
  MutexLock lock(ex->mu);
  if (ex->abandoned) return 0;
  if (ex->buffered >= ex->max_buffered) {
    ex->paused = true;
    return CURL_WRITEFUNC_PAUSE;  // curl hands the same data again once resumed
  }
  ex->chunks.emplace_back(data, len);
  ex->buffered += len;
  ex->cv.SignalAll();
  return len;
}

bool IsPermanentTls(CURLcode code) {
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
      return true;
    default:
      return false;
  }
}

Status StatusForCurl(CURLcode code, const CurlTransport::Exchange& ex, const std::string& detail) {
  std::string what = ex.method + " " + ex.url + ": " + detail;
  switch (code) {
    case CURLE_OK:
      return Status::Ok();
    case CURLE_OPERATION_TIMEDOUT:
      return Status(StatusCode::kTimeout, "timed out: " + what);
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Status(StatusCode::kUnavailable, "cannot connect: " + what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status(StatusCode::kTransport, "bad URL: " + what, 0,
                    std::string(kReasonPermanentTransport));
    default:
      break;
  }
  if (code == CURLE_WRITE_ERROR && ex.too_large) {
    return Status(StatusCode::kTransport,
                  "response larger than " + std::to_string(ex.max_response_bytes) +
                      " bytes: " + ex.method + " " + ex.url,
                  0, std::string(kReasonPermanentTransport));
  }
  if (IsPermanentTls(code)) {
    return Status(StatusCode::kTransport,
                  "TLS error (check the CA and client certificate in the config): " + what, 0,
                  std::string(kReasonPermanentTransport));
  }
  return Status(StatusCode::kTransport, "transport error: " + what);
}

curl_slist* BuildHeaders(const CurlTransport::Exchange& ex) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : ex.headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  return curl_slist_append(list, "Expect:");  // no 100-continue round trip for large bodies
}

void SetBlob(CURL* easy, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(easy, option, &blob);
}

void ConfigureTls(CURL* e, const CurlTransportOptions& o) {
  const bool verify = !o.insecure_skip_tls_verify;
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (!o.ca_pem.empty()) SetBlob(e, CURLOPT_CAINFO_BLOB, o.ca_pem);
  if (!o.client_cert_pem.empty()) {
    SetBlob(e, CURLOPT_SSLCERT_BLOB, o.client_cert_pem);
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    SetBlob(e, CURLOPT_SSLKEY_BLOB, o.client_key_pem);
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  }
}

void ConfigureMethod(CURL* e, const CurlTransport::Exchange& ex) {
  if (ex.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    return;
  }
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(ex.body.size()));
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, ex.body.data());
  if (ex.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, ex.method.c_str());
}

void ConfigureEasy(CURL* e, CurlTransport::Exchange& ex, const CurlTransportOptions& o) {
  curl_easy_setopt(e, CURLOPT_URL, ex.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, &ex);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ex.error);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, o.user_agent.c_str());
  const bool h2 = o.http_version == CurlTransportOptions::HttpVersion::kHttp2;
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, h2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  if (h2) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // wait to multiplex, not a new connection
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(ex.timeout.count()));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
  ConfigureTls(e, o);
  ConfigureMethod(e, ex);
  ex.header_list = BuildHeaders(ex);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, ex.header_list);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &ex);
}

}  // namespace

CurlTransportOptions CurlTransportOptions::FromRestConfig(const RestConfig& config) {
  CurlTransportOptions o;
  o.ca_pem = config.ca_pem;
  o.client_cert_pem = config.client_cert_pem;
  o.client_key_pem = config.client_key_pem;
  o.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
  o.user_agent = config.user_agent;
  return o;
}

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  const bool h2 = options_.http_version == CurlTransportOptions::HttpVersion::kHttp2;
  long max_conns = options_.max_connections > 0 ? options_.max_connections : (h2 ? 0 : 16);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, h2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, max_conns);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, std::max(max_conns, 16L));
  if (options_.insecure_skip_tls_verify) {
    Logger()->warn("TLS verification of the API server is OFF (insecure-skip-tls-verify)");
  }
  loop_ = std::thread([this] { Loop(); });
}

CurlTransport::~CurlTransport() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  curl_multi_wakeup(multi_);
  loop_.join();
  curl_multi_cleanup(multi_);
}

void CurlTransport::Post(CommandKind kind, std::shared_ptr<Exchange> exchange) {
  {
    MutexLock lock(mu_);
    if (stopping_) {
      if (kind == CommandKind::kStart) {
        MutexLock ex_lock(exchange->mu);
        exchange->status = Status::Cancelled("the HTTP transport is shutting down");
        exchange->done = true;
      }
      return;
    }
    commands_.push_back(Command{kind, std::move(exchange)});
  }
  curl_multi_wakeup(multi_);
}

Result<HttpResponse> CurlTransport::Do(const HttpRequest& request) {
  auto ex = std::make_shared<Exchange>(request, options_);
  Post(CommandKind::kStart, ex);
  return Await(ex, request);
}

Result<HttpResponse> CurlTransport::Await(const std::shared_ptr<Exchange>& ex,
                                          const HttpRequest& request) {
  bool reader_stopped = false;
  bool cancelled = false;
  MutexLock lock(ex->mu);
  while (true) {
    if (!ex->chunks.empty() && !ex->abandoned) {
      std::string chunk = std::move(ex->chunks.front());
      ex->chunks.pop_front();
      ex->buffered -= chunk.size();
      const bool resume = ex->paused && ex->buffered <= ex->max_buffered / 2;
      if (resume) ex->paused = false;
      ex->mu.Unlock();  // the reader's callback and the loop's commands run without it
      if (resume) Post(CommandKind::kResume, ex);
      const bool more = request.on_body(chunk);
      if (!more) Post(CommandKind::kAbort, ex);
      ex->mu.Lock();
      if (!more) reader_stopped = ex->abandoned = true;
      continue;
    }
    if (ex->done) break;
    if (!cancelled && request.cancel != nullptr && request.cancel->load()) {
      cancelled = ex->abandoned = true;
      ex->mu.Unlock();
      Post(CommandKind::kAbort, ex);
      ex->mu.Lock();
      continue;
    }
    ex->cv.WaitFor(ex->mu, kWaitSlice);
  }
  if (reader_stopped) return std::move(ex->result);
  if (cancelled) return Status::Cancelled("request cancelled: " + ex->method + " " + ex->url);
  if (!ex->status.ok()) return ex->status;
  return std::move(ex->result);
}

void CurlTransport::Loop() {
  while (RunCommands()) {
    int running = 0;
    curl_multi_perform(multi_, &running);
    ReapFinished();
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  AbortAll();
}

bool CurlTransport::RunCommands() {
  std::deque<Command> commands;
  {
    MutexLock lock(mu_);
    if (stopping_) return false;
    commands.swap(commands_);
  }
  for (auto& command : commands) {
    auto it = in_flight_.find(command.exchange.get());
    switch (command.kind) {
      case CommandKind::kStart:
        Start(command.exchange);
        break;
      case CommandKind::kAbort:
        if (it != in_flight_.end()) Finish(it->first, Status::Cancelled("abandoned by the caller"));
        break;
      case CommandKind::kResume:
        if (it != in_flight_.end()) curl_easy_pause(it->first->easy, CURLPAUSE_CONT);
        break;
    }
  }
  return true;
}

void CurlTransport::Start(const std::shared_ptr<Exchange>& ex) {
  in_flight_[ex.get()] = ex;
  ex->easy = curl_easy_init();
  if (ex->easy == nullptr) {
    Finish(ex.get(), Status::Transport("curl_easy_init failed"));
    return;
  }
  ConfigureEasy(ex->easy, *ex, options_);
  if (CURLMcode rc = curl_multi_add_handle(multi_, ex->easy); rc != CURLM_OK) {
    Finish(ex.get(),
           Status::Transport(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc)));
  }
}

void CurlTransport::Finish(Exchange* ex, Status status) {
  auto it = in_flight_.find(ex);
  if (it == in_flight_.end()) return;
  std::shared_ptr<Exchange> keep = std::move(it->second);
  in_flight_.erase(it);
  if (ex->easy != nullptr) {
    long code = 0;
    curl_easy_getinfo(ex->easy, CURLINFO_RESPONSE_CODE, &code);
    if (ex->response.status == 0) ex->response.status = static_cast<int>(code);
    long connects = 0;
    curl_easy_getinfo(ex->easy, CURLINFO_NUM_CONNECTS, &connects);
    connections_opened_ += static_cast<uint64_t>(connects);
    curl_multi_remove_handle(multi_, ex->easy);
    curl_easy_cleanup(ex->easy);
    ex->easy = nullptr;
  }
  curl_slist_free_all(ex->header_list);
  ex->header_list = nullptr;
  MutexLock lock(ex->mu);
  ex->status = std::move(status);
  ex->result = std::move(ex->response);
  ex->done = true;
  ex->cv.SignalAll();
}

void CurlTransport::ReapFinished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    const CURLcode code = msg->data.result;
    Exchange* ex = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&ex));
    std::string detail = ex->error[0] != '\0' ? ex->error : curl_easy_strerror(code);
    Finish(ex, StatusForCurl(code, *ex, detail));
  }
}

void CurlTransport::AbortAll() {
  std::deque<Command> pending;
  {
    MutexLock lock(mu_);
    pending.swap(commands_);
  }
  for (auto& command : pending) {
    if (command.kind != CommandKind::kStart) continue;
    MutexLock lock(command.exchange->mu);
    command.exchange->status = Status::Cancelled("the HTTP transport is shutting down");
    command.exchange->done = true;
    command.exchange->cv.SignalAll();
  }
  while (!in_flight_.empty()) {
    Finish(in_flight_.begin()->first, Status::Cancelled("the HTTP transport is shutting down"));
  }
}

}  // namespace stepline::k8s
